package cli

import "github.com/spf13/cobra"

// newEnableCmd builds `cfst enable`; it shares its code with disable (disable.go).
func newEnableCmd(app *App) *cobra.Command {
	return switchCommand(app, true, runSwitch)
}
