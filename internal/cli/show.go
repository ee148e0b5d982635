package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

// showOptions are the parsed argument and flags of `cfst show`.
type showOptions struct {
	Token  string
	Output string
}

func newShowCmd(app *App) *cobra.Command {
	return showCommand(app, runShow)
}

func showCommand(app *App, run func(context.Context, *App, *showOptions) error) *cobra.Command {
	opts := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show TOKEN",
		Short: "Show one service token",
		Long: `Show one service token: name, id, client id, state, expiry, duration, and when it
was last used and created. TOKEN is the token's id, client id or name; a name that several
tokens share is an error listing their ids.`,
		Example: `  cfst show ci-runner
  cfst show 3e6f2c4a-1b2d-4c5e-8f90-1a2b3c4d5e6f --output json`,
		Args: exactArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

func runShow(ctx context.Context, app *App, opts *showOptions) error {
	_, tok, err := app.resolveToken(ctx, opts.Token)
	if err != nil {
		return err
	}
	return app.printToken(tok, opts.Output)
}

// printToken prints one token in format (text or json), marked local when the .env file
// holds its client id.
func (app *App) printToken(tok cloudflare.Token, format string) error {
	local := app.localClientIDs()[tok.ClientID]
	if format == formatJSON {
		return writeJSON(app.Streams.Out, newTokenJSON(tok, app.Now(), local))
	}
	return app.printTokenDetails(tok, local)
}
