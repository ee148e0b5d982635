package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// refreshOptions are the parsed argument and flags of `cfst refresh`.
type refreshOptions struct {
	Token  string
	Output string
}

func newRefreshCmd(app *App) *cobra.Command {
	return refreshCommand(app, runRefresh)
}

func refreshCommand(app *App, run func(context.Context, *App, *refreshOptions) error,
) *cobra.Command {
	opts := &refreshOptions{}
	cmd := &cobra.Command{
		Use:   "refresh TOKEN",
		Short: "Extend a service token's expiry, keeping its secret",
		Long: `Extend the expiry of a service token by its duration, counted from now. The secret
does not change, so nothing that uses the token needs updating. TOKEN is an id, a client
id or a name. Refresh exists only at account scope.`,
		Example: `  cfst refresh ci-runner`,
		Args:    exactArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

func runRefresh(ctx context.Context, app *App, opts *refreshOptions) error {
	client, tok, err := app.accountClient(ctx, "refresh", opts.Token)
	if err != nil {
		return err
	}
	refreshed, err := client.RefreshToken(ctx, tok.ID)
	if err != nil {
		return apiError(err)
	}
	if err := app.printToken(refreshed, opts.Output); err != nil {
		return err
	}
	app.notef("refreshed %q: it now %s", refreshed.Name, app.expiryNote(refreshed))
	return nil
}
