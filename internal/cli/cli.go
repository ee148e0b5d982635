// Package cli is cfst's command line: one file per command, each a cobra command that
// parses flags into an options struct and hands it to a run function that does the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/secret"
)

// App holds what every command takes from the outside world, so tests can replace it: the
// streams, the environment, the clock, and the global flags.
type App struct {
	Streams *Streams
	Getenv  func(string) string
	Now     func() time.Time

	// Global flags.
	EnvFile   string
	Prefix    string
	AccountID string
	ZoneID    string
	Timeout   time.Duration
	Verbose   bool

	// secrets holds every secret this run has seen (API token, client secrets), so that
	// debug output and error messages are scrubbed of them.
	secrets secret.Scrubber
}

// Main runs cfst with the process's arguments and streams and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := &App{Streams: SystemStreams(), Getenv: os.Getenv, Now: time.Now}
	return Run(ctx, app, os.Args[1:])
}

// Run executes one cfst command line and returns its exit code. It never calls os.Exit.
func Run(ctx context.Context, app *App, args []string) int {
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(app.Streams.In)
	root.SetOut(app.Streams.Out)
	root.SetErr(app.Streams.Err)

	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if !started && hintOf(err) == "" && exitCodeOf(err) == ExitError {
		// Cobra rejected the command line before any command ran.
		err = usageError("run 'cfst --help' for usage", "%s", err)
	}
	if ctx.Err() != nil && exitCodeOf(err) == ExitError {
		err = withCode(ExitCancelled, fmt.Errorf("interrupted"), "")
	}
	printError(app.Streams, &app.secrets, err)
	return exitCodeOf(err)
}

// printError prints err and its hint on stderr, scrubbed of every secret the run has seen.
func printError(streams *Streams, secrets *secret.Scrubber, err error) {
	if errors.Is(err, errQuiet) {
		return
	}
	fmt.Fprintf(streams.Err, "cfst: %s\n", secrets.Scrub(firstLine(err.Error())))
	if hint := hintOf(err); hint != "" {
		fmt.Fprintf(streams.Err, "hint: %s\n", secrets.Scrub(hint))
	}
}

// firstLine keeps an error to one line, whatever a library put in it.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "cfst",
		Short: "Cloudflare Access service tokens: create, store, rotate, test and monitor",
		Long: `cfst manages Cloudflare Access service tokens end to end: it creates them and stores
the secret in .env the moment it exists, rotates them with a grace period, tests many
protected services at once and says why each one failed, and runs all of it offline on a
built-in emulator (try 'cfst demo').`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError(fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath()), "%s", err)
	})
	addGlobalFlags(root, app)
	for _, newCmd := range commands() {
		root.AddCommand(newCmd(app))
	}
	root.AddCommand(helpTopics()...)
	return root
}

// commands lists every cfst command, in the order help shows them. It is a function, not a
// variable, because the demo runs commands through Run, which builds this list.
func commands() []func(*App) *cobra.Command {
	return []func(*App) *cobra.Command{
		newCreateCmd, newListCmd, newShowCmd, newRefreshCmd, newRotateCmd,
		newDisableCmd, newEnableCmd, newDeleteCmd,
		newTestCmd, newCurlCmd, newExecCmd, newProxyCmd,
		newAppsCmd, newGrantCmd, newUngrantCmd, newDoctorCmd,
		newUsageCmd, newMonitorCmd, newAlertsCmd,
		newEmulateCmd, newDemoCmd,
	}
}

// addGlobalFlags binds the global flags. An App that arrives with a field already set (the
// demo points EnvFile at its own directory) keeps it as the flag's default.
func addGlobalFlags(root *cobra.Command, app *App) {
	if app.EnvFile == "" {
		app.EnvFile = ".env"
	}
	if app.Timeout == 0 {
		app.Timeout = 30 * time.Second
	}
	flags := root.PersistentFlags()
	flags.StringVar(&app.EnvFile, "env-file", app.EnvFile, "`file` holding credentials and settings")
	flags.StringVar(&app.Prefix, "prefix", app.Prefix,
		"credential name prefix: 'CI' means CI_CLIENT_ID and CI_CLIENT_SECRET")
	flags.StringVar(&app.AccountID, "account", app.AccountID,
		"Cloudflare account `id` (CLOUDFLARE_ACCOUNT_ID)")
	flags.StringVar(&app.ZoneID, "zone", app.ZoneID, "manage zone-scoped tokens of this zone `id`")
	flags.DurationVar(&app.Timeout, "timeout", app.Timeout, "give up on the API after this long")
	flags.BoolVarP(&app.Verbose, "verbose", "v", app.Verbose, "show HTTP exchanges, secrets redacted")
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" &&
		info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
