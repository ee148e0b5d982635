package cli

import "github.com/spf13/cobra"

// TODO: cfst alerts is not implemented yet; this placeholder keeps the command list complete.
func newAlertsCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "alerts", Short: "(not implemented yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withCode(ExitError, errNotImplemented, "")
		}}
}
