package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

// doctorOptions are the parsed flags of `cfst doctor`.
type doctorOptions struct {
	Output string
	Conn   connectionOptions
}

func newDoctorCmd(app *App) *cobra.Command {
	opts := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the whole setup: API token, account, .env, the token, strict mode, clock",
		Long: `Check everything cfst depends on and print one line per check, pass, warn or fail,
with the fix for each problem:

  .env file, .env mode, .env git   the credentials file exists, has mode 0600, and git
                                   ignores it (or it is outside any repository)
  api token                        CLOUDFLARE_API_TOKEN is valid (GET /user/tokens/verify)
  account                          the account (or zone) exists and the API token reaches it
  permission "..."                 one line per read permission, naming the commands that
                                   need it; write permissions cannot be checked without
                                   changing something, so create, rotate, grant and
                                   alerts setup report a missing one themselves
  credentials                      the client id in .env (or the environment, under
                                   --prefix) belongs to an existing, enabled, unexpired token
  expiry                           days until the token expires (warns below 30)
  strict mode                      whether strict service token authentication is on, and
                                   what that changes
  applications                     which Access applications let the token through
  secret                           one live request with the credentials to an application
                                   that admits the token proves the secret: the API can
                                   vouch for the client id only (--cacert and --connect-to
                                   apply)
  clock                            the local clock against the API's Date header (warns
                                   beyond 30 seconds)

Checks that need what an earlier check found missing are left out. Exit code 12 when
any check fails; warnings alone exit 0.`,
		Example: `  cfst doctor
  cfst doctor --prefix ci --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), app, opts)
		},
	}
	addConnectionFlags(cmd.Flags(), &opts.Conn)
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

// checkStatus is the outcome of one doctor check.
type checkStatus string

const (
	checkPass checkStatus = "pass"
	checkWarn checkStatus = "warn"
	checkFail checkStatus = "fail"
)

// doctorCheck is one line of `cfst doctor`, and one object of its JSON. The keys are a
// stable interface: add keys, never rename.
type doctorCheck struct {
	Check   string      `json:"check"`
	Status  checkStatus `json:"status"`
	Message string      `json:"message"`
	// Fix says what to do about a warning or a failure.
	Fix string `json:"fix,omitempty"`
}

// doctorRun is one run of the checks and what the earlier checks found for later ones.
type doctorRun struct {
	app    *App
	checks []doctorCheck

	client    *cloudflare.Client
	apiCheck  cloudflare.APITokenCheck
	tokens    []cloudflare.Token
	tokensErr error
	subject   *tokenSubject
	// source says where the credentials came from: the .env path, or "environment".
	source string
	// usable is set when the credentials check passed: the token exists, is enabled and
	// has not expired.
	usable bool
	// setup is the Access configuration the applications check read; nil when it could
	// not.
	setup *accessSetup
}

func (run *doctorRun) add(check, message string, status checkStatus, fix string) {
	run.checks = append(run.checks, doctorCheck{Check: check, Status: status,
		Message: run.app.secrets.Scrub(message), Fix: run.app.secrets.Scrub(fix)})
}

func (run *doctorRun) pass(check, format string, args ...any) {
	run.add(check, fmt.Sprintf(format, args...), checkPass, "")
}

func runDoctor(ctx context.Context, app *App, opts *doctorOptions) error {
	run := &doctorRun{app: app}
	run.checkEnvFile()
	if run.checkAPI(ctx) {
		run.checkCredentials()
		run.checkStrictMode(ctx)
		run.checkApplications(ctx)
		run.checkSecret(ctx, opts.Conn)
		run.checkClock()
	}
	if err := run.print(opts.Output); err != nil {
		return err
	}
	return run.outcome()
}

// print writes the checks: JSON, or a line each with the fix below.
func (run *doctorRun) print(format string) error {
	out := run.app.Streams.Out
	if format == formatJSON {
		return writeJSON(out, run.checks)
	}
	for _, check := range run.checks {
		fmt.Fprintf(out, "%s  %s: %s\n", strings.ToUpper(string(check.Status)), check.Check,
			oneLine(check.Message))
		if check.Fix != "" {
			fmt.Fprintf(out, "      fix: %s\n", oneLine(check.Fix))
		}
	}
	return nil
}

// outcome counts the checks on stderr and fails the run, quietly, when one failed.
func (run *doctorRun) outcome() error {
	counts := map[checkStatus]int{}
	for _, check := range run.checks {
		counts[check.Status]++
	}
	run.app.notef("%d checks: %d pass, %d warn, %d fail", len(run.checks), counts[checkPass],
		counts[checkWarn], counts[checkFail])
	if counts[checkFail] == 0 {
		return nil
	}
	return withCode(ExitCheckFailed, errQuiet, "")
}
