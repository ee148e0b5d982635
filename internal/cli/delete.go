package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
)

// deleteOptions are the parsed argument and flags of `cfst delete`.
type deleteOptions struct {
	Token string
	Yes   bool
}

func newDeleteCmd(app *App) *cobra.Command {
	return deleteCommand(app, runDelete)
}

func deleteCommand(app *App, run func(context.Context, *App, *deleteOptions) error,
) *cobra.Command {
	opts := &deleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete TOKEN",
		Aliases: []string{"revoke"},
		Short:   "Delete a service token and remove its credentials from .env",
		Long: `Delete a service token: every service that uses it loses access at once. On a
terminal you confirm by typing the token's name; without a terminal --yes is required.

Then the credentials of that client id are removed from the .env file, under whatever
prefix they are stored; every other line stays as it was. TOKEN is an id, a client id or
a name.`,
		Example: `  cfst delete old-runner
  cfst revoke 3e6f2c4a-1b2d-4c5e-8f90-1a2b3c4d5e6f --yes`,
		Args: exactArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	return cmd
}

func runDelete(ctx context.Context, app *App, opts *deleteOptions) error {
	if !opts.Yes && !app.Streams.Interactive() {
		return usageError("pass --yes to delete without a terminal",
			"refusing to delete without confirmation")
	}
	file, err := app.loadEnvFile()
	if err != nil {
		return err
	}
	client, tok, err := app.resolveToken(ctx, opts.Token)
	if err != nil {
		return err
	}
	if !opts.Yes {
		if err := app.confirmByName(tok); err != nil {
			return err
		}
	}
	if err := client.DeleteToken(ctx, tok.ID); err != nil {
		return apiError(err)
	}
	fmt.Fprintf(app.Streams.Out, "deleted %s (%s)\n", tok.Name, tok.ID)
	return app.forgetCredentials(file, tok)
}

// confirmByName asks the user to type the token's name on the terminal.
func (app *App) confirmByName(tok cloudflare.Token) error {
	fmt.Fprintf(app.Streams.Err, "Deleting %q (%s) cuts off every service that uses it.\n"+
		"Type the token's name to confirm: ", tok.Name, tok.ID)
	answer, err := bufio.NewReader(app.Streams.In).ReadString('\n')
	if err != nil && answer == "" {
		return withCode(ExitCancelled, errors.New("no confirmation; nothing deleted"), "")
	}
	if strings.TrimRight(answer, "\r\n") != tok.Name {
		return usageError("type the name exactly, or pass --yes",
			"the name did not match; nothing deleted")
	}
	return nil
}

// forgetCredentials removes from file every pair of variables whose *_CLIENT_ID holds
// the token's client id, and saves the file if it changed. The token is already gone, so
// a failure here is reported with what to remove by hand.
func (app *App) forgetCredentials(file *dotenv.File, tok cloudflare.Token) error {
	var removed []string
	for _, keys := range credentialPairsFor(file, tok.ClientID) {
		file.DeleteCredentials(keys)
		removed = append(removed, keys.ClientID, keys.ClientSecret)
	}
	if len(removed) == 0 {
		return nil
	}
	report, err := file.Save()
	if err != nil {
		return withCode(ExitError, fmt.Errorf("token deleted, but %w", err),
			"remove "+strings.Join(removed, ", ")+" from "+file.Path()+" by hand")
	}
	app.reportWrite(report)
	app.notef("removed %s from %s", strings.Join(removed, " and "), file.Path())
	return nil
}

// credentialPairsFor finds the variable pairs holding clientID: each PREFIX_CLIENT_ID
// with that value, with its PREFIX_CLIENT_SECRET.
func credentialPairsFor(file *dotenv.File, clientID string) []dotenv.Keys {
	var pairs []dotenv.Keys
	for _, key := range file.Keys() {
		prefix, ok := strings.CutSuffix(key, "_CLIENT_ID")
		if value, _ := file.Get(key); !ok || value != clientID {
			continue
		}
		pairs = append(pairs, dotenv.Keys{ClientID: key, ClientSecret: prefix + "_CLIENT_SECRET"})
	}
	return pairs
}
