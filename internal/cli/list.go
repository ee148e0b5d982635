package cli

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

// listOptions are the parsed flags of `cfst list`.
type listOptions struct {
	ExpiringWithin string
	Within         time.Duration // parsed from ExpiringWithin; 0 means no filter
	Output         string
}

func newListCmd(app *App) *cobra.Command {
	return listCommand(app, runList)
}

func listCommand(app *App, run func(context.Context, *App, *listOptions) error) *cobra.Command {
	opts := &listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the service tokens of the account",
		Long: `List every service token of the account (or zone): name, id, client id, state,
expiry and when it was last used. A * marks the tokens whose client id the .env file
holds, under any prefix.

States: active; never expires; expires in N days (within 30 days); expired; disabled;
rotating until T (the secret before the last rotation still works until T).

On a terminal times are relative; when piped, each token is one tab-separated line with
times in RFC 3339, and no header. --output json prints an array of token objects.`,
		Example: `  cfst list
  cfst list --expiring-within 30d
  cfst list --output json | jq -r '.[] | select(.state == "expired") | .id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.ExpiringWithin, "expiring-within", "",
		"only tokens that expire (or expired) before this `duration` from now, such as 30d")
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

func (o *listOptions) complete() error {
	if o.ExpiringWithin == "" {
		return nil
	}
	within, err := parseDuration(o.ExpiringWithin)
	if err != nil {
		return durationFlagError("expiring-within", err)
	}
	o.Within = within
	return nil
}

func runList(ctx context.Context, app *App, opts *listOptions) error {
	client, err := app.apiClient()
	if err != nil {
		return err
	}
	tokens, err := client.ListTokens(ctx, cloudflare.ListOptions{})
	if err != nil {
		return apiError(err)
	}
	now := app.Now()
	if opts.ExpiringWithin != "" {
		tokens = expiringBefore(tokens, now.Add(opts.Within))
	}
	slices.SortStableFunc(tokens, func(a, b cloudflare.Token) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	local := app.localClientIDs()
	if opts.Output == formatJSON {
		views := make([]tokenJSON, 0, len(tokens))
		for _, tok := range tokens {
			views = append(views, newTokenJSON(tok, now, local[tok.ClientID]))
		}
		return writeJSON(app.Streams.Out, views)
	}
	if len(tokens) == 0 {
		app.notef("no service tokens")
		return nil
	}
	return app.printTokenTable(tokens, local)
}

// expiringBefore keeps the tokens that expire before deadline, expired ones included.
func expiringBefore(tokens []cloudflare.Token, deadline time.Time) []cloudflare.Token {
	return slices.DeleteFunc(tokens, func(tok cloudflare.Token) bool {
		return tok.Forever || tok.ExpiresAt.IsZero() || tok.ExpiresAt.After(deadline)
	})
}

func (app *App) printTokenTable(tokens []cloudflare.Token, local map[string]bool) error {
	t := newTable(app.Streams, "", "NAME", "ID", "CLIENT ID", "STATE", "EXPIRES", "LAST SEEN")
	for _, tok := range tokens {
		mark := ""
		if local[tok.ClientID] {
			mark = "*"
		}
		t.add(mark, tok.Name, tok.ID, tok.ClientID, app.stateText(tok), app.expiryText(tok),
			app.timeText(tok.LastSeenAt))
	}
	return t.print()
}

// localClientIDs returns the client ids that the .env file holds under any prefix: the
// values of every variable whose name ends in _CLIENT_ID. A .env file that cannot be read
// only costs the marks, with a warning.
func (app *App) localClientIDs() map[string]bool {
	ids := map[string]bool{}
	file, err := app.loadEnvFile()
	if err != nil {
		app.notef("warning: cannot mark local tokens: %v", err)
		return ids
	}
	for _, key := range file.Keys() {
		if strings.HasSuffix(key, "_CLIENT_ID") {
			if id, _ := file.Get(key); id != "" {
				ids[id] = true
			}
		}
	}
	return ids
}
