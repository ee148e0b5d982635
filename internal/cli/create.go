package cli

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

// createOptions are the parsed flags and argument of `cfst create`.
type createOptions struct {
	Name       string
	Duration   string
	Lifetime   tokenLifetime // parsed from Duration by complete
	ShowSecret bool
	Force      bool
	Output     string
	Git        gitOptions
}

// maxTokenNameLength is Cloudflare's limit on service-token names.
const maxTokenNameLength = 350

func newCreateCmd(app *App) *cobra.Command {
	return createCommand(app, runCreate)
}

// createCommand builds the command around run, so tests can check flag parsing alone.
func createCommand(app *App, run func(context.Context, *App, *createOptions) error,
) *cobra.Command {
	opts := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a service token and store its secret in .env",
		Long: `Create a service token and write its client id and secret to .env before anything
else happens, so the secret (which the API shows only once) is never lost.

The secret goes to CF_SERVICE_TOKEN_CLIENT_ID and CF_SERVICE_TOKEN_CLIENT_SECRET, or to
PREFIX_CLIENT_ID and PREFIX_CLIENT_SECRET with --prefix. cfst refuses to replace existing
credentials without --force, and to write a .env file that git tracks or does not ignore
unless you pass --gitignore (adds it to .gitignore) or --allow-unignored.

--duration takes the API's form (8760h, 90m), days, weeks, months and years (1d, 2w,
30d, 6mo, 1y, 1y6mo; a month is 730h, a year 8760h) or "forever". Default: 1y.

If .env cannot be written once the token exists, the secret is saved to a 0600 file in
your config directory (or shown on the terminal when that fails too) and cfst exits 10.`,
		Example: `  cfst create ci-runner
  cfst create --prefix DEPLOY deploy-bot --duration 90d --gitignore
  cfst create backup --duration forever --output json`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(args); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Duration, "duration", "1y", "lifetime `D`: 8760h, 30d, 6mo, 1y or forever")
	flags.BoolVar(&opts.ShowSecret, "show-secret", false, "also print the client secret on stdout")
	flags.BoolVar(&opts.Force, "force", false, "replace credentials already stored under the prefix")
	opts.Git.addFlags(cmd)
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

// complete checks the argument and flags and parses the duration.
func (o *createOptions) complete(args []string) error {
	o.Name = args[0]
	if err := checkTokenName(o.Name); err != nil {
		return err
	}
	lifetime, err := parseLifetime(o.Duration)
	if err != nil {
		return durationFlagError("duration", err)
	}
	o.Lifetime = lifetime
	return o.Git.check()
}

// checkTokenName refuses names the API would refuse, before any request.
func checkTokenName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return usageError("give the token a name, such as ci-runner", "empty token name")
	case len([]rune(name)) > maxTokenNameLength:
		return usageError("use a shorter name", "token name is %d characters long; "+
			"Cloudflare allows %d", len([]rune(name)), maxTokenNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return usageError("use printable characters", "token name contains a control character")
	}
	return nil
}

// runCreate validates everything it can, creates the token, stores the secret, and only
// then prints.
func runCreate(ctx context.Context, app *App, opts *createOptions) error {
	slot, err := app.prepareSecretSlot(opts.Git)
	if err != nil {
		return err
	}
	if err := slot.checkFree(opts.Force, ""); err != nil {
		return err
	}
	client, err := app.apiClient()
	if err != nil {
		return err
	}
	created, err := client.CreateToken(ctx, opts.Name, opts.Lifetime.APIValue())
	if err != nil {
		return apiError(err)
	}
	app.secrets.Add(created.ClientSecret)
	storeErr := app.storeSecret(slot, created)
	if err := app.printNewSecret(created, opts.Output, opts.ShowSecret, storeErr == nil); err != nil {
		return err
	}
	if storeErr == nil {
		app.notef("created service token %q; its secret is in %s as %s", created.Name,
			slot.file.Path(), slot.keys.ClientSecret)
	}
	return storeErr
}

// printNewSecret prints a token that create or rotate just received, with its secret
// only when showSecret is set. stored says whether .env now holds it.
func (app *App) printNewSecret(created cloudflare.NewSecret, format string, showSecret,
	stored bool) error {
	if format == formatJSON {
		view := newTokenJSON(created.Token, app.Now(), stored)
		if showSecret {
			view = view.withSecret(created.ClientSecret)
		}
		return writeJSON(app.Streams.Out, view)
	}
	if err := app.printTokenDetails(created.Token, stored); err != nil {
		return err
	}
	if showSecret {
		_, err := fmt.Fprintf(app.Streams.Out, "client secret: %s\n",
			created.ClientSecret.Reveal())
		return err
	}
	return nil
}
