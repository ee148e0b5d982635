package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

// switchOptions are the parsed argument and flags of `cfst disable` and `cfst enable`.
type switchOptions struct {
	Token  string
	Output string
}

func newDisableCmd(app *App) *cobra.Command {
	return switchCommand(app, false, runSwitch)
}

// switchCommand builds `cfst disable` (enable false) or `cfst enable` (enable true)
// around run.
func switchCommand(app *App, enable bool,
	run func(context.Context, *App, *switchOptions, bool) error) *cobra.Command {
	opts := &switchOptions{}
	cmd := &cobra.Command{
		Use:   "disable TOKEN",
		Short: "Stop a service token from working, without deleting it",
		Long: `Disable a service token: Access rejects it until 'cfst enable'. Disabling also ends
the grace period of the previous secret, if a rotation left one running, for good. TOKEN
is an id, a client id or a name.`,
		Example: `  cfst disable ci-runner`,
		Args:    exactArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			return run(cmd.Context(), app, opts, enable)
		},
	}
	if enable {
		cmd.Use, cmd.Short = "enable TOKEN", "Let a disabled service token work again"
		cmd.Long = `Enable a service token that 'cfst disable' stopped. The grace period of a previous
secret, which disable ended, does not come back. TOKEN is an id, a client id or a name.`
		cmd.Example = `  cfst enable ci-runner`
	}
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

func runSwitch(ctx context.Context, app *App, opts *switchOptions, enable bool) error {
	client, tok, err := app.resolveToken(ctx, opts.Token)
	if err != nil {
		return err
	}
	update := cloudflare.TokenUpdate{Enabled: &enable}
	if now := app.Now(); !enable && tok.PreviousSecretExpiresAt.After(now) {
		// Disabling stops the previous secret; ending its grace too makes sure a later
		// enable does not bring it back.
		update.PreviousSecretExpiresAt = &now
	}
	updated, err := client.UpdateToken(ctx, tok.ID, update)
	if err != nil {
		return apiError(err)
	}
	if err := app.printToken(updated, opts.Output); err != nil {
		return err
	}
	app.noteSwitch(tok, updated, enable)
	return nil
}

// noteSwitch tells the user what disabling or enabling did beyond the obvious.
func (app *App) noteSwitch(before, after cloudflare.Token, enable bool) {
	now := app.Now()
	switch {
	case !enable && before.PreviousSecretExpiresAt.After(now):
		app.notef("disabled %q; the previous secret, which would have worked until %s, "+
			"stopped working too", after.Name, before.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
	case !enable:
		app.notef("disabled %q; Access rejects it until 'cfst enable'", after.Name)
	case tokenStateOf(after, now) == stateExpired:
		app.notef("enabled %q, but it expired; 'cfst refresh' extends it", after.Name)
	default:
		app.notef("enabled %q; it %s", after.Name, app.expiryNote(after))
	}
}
