package cli

import "github.com/spf13/cobra"

// TODO: cfst exec is not implemented yet; this placeholder keeps the command list complete.
func newExecCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "exec", Short: "(not implemented yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return withCode(ExitError, errNotImplemented, "")
		}}
}
