package cli

import "github.com/spf13/cobra"

// TODO: cfst usage is not implemented yet; this placeholder keeps the command list complete.
func newUsageCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "usage", Short: "(not implemented yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withCode(ExitError, errNotImplemented, "")
		}}
}
