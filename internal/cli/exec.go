package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/dotenv"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// The forms `cfst exec --as` hands the token to a command in.
const (
	asDefault     = "default"
	asCloudflared = "cloudflared"
	asHeader      = "header"
)

// The variables of --as cloudflared (cloudflared access tcp reads them) and --as header.
const (
	envTunnelTokenID     = "TUNNEL_SERVICE_TOKEN_ID"
	envTunnelTokenSecret = "TUNNEL_SERVICE_TOKEN_SECRET"
	envAccessHeaders     = "CF_ACCESS_HEADERS"
)

// Exit codes of `cfst exec` when the command cannot run, as shells use them.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// execOptions are the parsed flags and arguments of `cfst exec`.
type execOptions struct {
	As      string
	Command []string
}

func newExecCmd(app *App) *cobra.Command {
	return execCommand(app, runExec)
}

// execCommand builds the command around run, so tests can check flag parsing alone.
func execCommand(app *App, run func(context.Context, *App, *execOptions) error) *cobra.Command {
	opts := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [--as FORM] -- COMMAND [ARG...]",
		Short: "Run a command with the service token in its environment",
		Long: `Run COMMAND with the service token of --prefix in its environment, never in its
arguments, so it does not show in ps, /proc/PID/cmdline or shell history.

--as picks the variables:
  default      CF_SERVICE_TOKEN_CLIENT_ID and CF_SERVICE_TOKEN_CLIENT_SECRET, the names
               the operator how-to uses (whatever --prefix the token was read from)
  cloudflared  TUNNEL_SERVICE_TOKEN_ID and TUNNEL_SERVICE_TOKEN_SECRET, which
               'cloudflared access tcp' reads
  header       CF_ACCESS_HEADERS: two header lines, "CF-Access-Client-Id: ..." and
               "CF-Access-Client-Secret: ...", for tools that read headers from a file,
               such as curl -H @<(printf '%s' "$CF_ACCESS_HEADERS")

stdin, stdout and stderr pass through, and cfst exits with COMMAND's exit code (128+N
when a signal N ended it; 127 when COMMAND is not found, 126 when it cannot run).
SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to cfst are passed on to COMMAND; so are
SIGINT and SIGQUIT, except when cfst runs in the foreground of a terminal, whose Ctrl-C
and Ctrl-\ reach COMMAND directly.`,
		Example: `  cfst exec -- ./deploy.sh
  cfst exec --prefix CI -- python smoke_test.py
  cfst exec --as cloudflared -- cloudflared access tcp --hostname db.example.com --url :5432`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("put the command after --: cfst exec -- COMMAND [ARG...]",
					"cfst exec needs a command")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Command = args
			return run(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&opts.As, "as", asDefault,
		"`FORM` of the variables: default, cloudflared or header")
	return cmd
}

// runExec runs the command with the token in its environment and passes on its exit
// code. It prints nothing of its own unless the command cannot start. The command's end,
// not ctx, ends the wait: an interrupt reaches the command, which decides.
func runExec(_ context.Context, app *App, opts *execOptions) error {
	clientID, clientSecret, _, err := app.credentials()
	if err != nil {
		return err
	}
	tokenEnv, err := tokenEnvironment(opts.As, clientID, clientSecret)
	if err != nil {
		return err
	}
	child := exec.Command(opts.Command[0], opts.Command[1:]...)
	child.Env = append(withoutKeys(os.Environ(), tokenEnv), tokenEnv...)
	child.Stdin, child.Stdout, child.Stderr = app.Streams.In, app.Streams.Out, app.Streams.Err
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, forwardedSignals...)
	defer signal.Stop(signals)
	if err := child.Start(); err != nil {
		return startError(opts.Command[0], err)
	}
	stop := forwardSignals(child.Process, signals)
	waitErr := child.Wait()
	stop()
	return childExit(child.ProcessState, waitErr)
}

// tokenEnvironment returns the KEY=VALUE entries that hand the token over in form as.
func tokenEnvironment(as, clientID string, clientSecret secret.Secret) ([]string, error) {
	switch as {
	case asDefault:
		return []string{dotenv.DefaultKeys.ClientID + "=" + clientID,
			dotenv.DefaultKeys.ClientSecret + "=" + clientSecret.Reveal()}, nil
	case asCloudflared:
		return []string{envTunnelTokenID + "=" + clientID,
			envTunnelTokenSecret + "=" + clientSecret.Reveal()}, nil
	case asHeader:
		return []string{envAccessHeaders + "=" + transport.HeaderClientID + ": " + clientID +
			"\n" + transport.HeaderClientSecret + ": " + clientSecret.Reveal() + "\n"}, nil
	}
	return nil, usageError("use --as default, cloudflared or header",
		"unknown --as form %q", as)
}

// withoutKeys drops from environ every entry whose key entries set, so the child sees
// each variable once.
func withoutKeys(environ, entries []string) []string {
	keys := map[string]bool{}
	for _, entry := range entries {
		key, _, _ := strings.Cut(entry, "=")
		keys[key] = true
	}
	kept := make([]string, 0, len(environ))
	for _, entry := range environ {
		if key, _, _ := strings.Cut(entry, "="); !keys[key] {
			kept = append(kept, entry)
		}
	}
	return kept
}

// startError explains a command that could not start, with the shell's exit codes.
func startError(name string, err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return withCode(exitNotFound, fmt.Errorf("command %q not found", name),
			"check the name, or give its path")
	}
	return withCode(exitCannotRun, fmt.Errorf("cannot run %q: %w", name, err), "")
}

// forwardSignals passes the signals cfst receives on to process until stop is called.
func forwardSignals(process *os.Process, signals <-chan os.Signal) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	skipTerminal := inTerminalForeground()
	go func() {
		defer close(finished)
		for {
			select {
			case sig := <-signals:
				if !(skipTerminal && isTerminalSignal(sig)) {
					_ = process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// childExit turns the command's end into cfst's exit: nil for 0, else its code, quietly.
func childExit(state *os.ProcessState, waitErr error) error {
	if state == nil {
		return withCode(ExitError, fmt.Errorf("wait for the command: %w", waitErr), "")
	}
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return withCode(128+int(status.Signal()), errQuiet, "")
	}
	if code := state.ExitCode(); code != 0 {
		return withCode(code, errQuiet, "")
	}
	return nil
}
