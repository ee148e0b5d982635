package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/access"
)

// appsOptions are the parsed flags of `cfst apps`.
type appsOptions struct {
	Token  string
	Probe  bool
	Output string
	Conn   connectionOptions
}

func newAppsCmd(app *App) *cobra.Command {
	return appsCommand(app, runApps)
}

// appsCommand builds the command around run, so tests can check flag parsing alone.
func appsCommand(app *App, run func(context.Context, *App, *appsOptions) error,
) *cobra.Command {
	opts := &appsOptions{}
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Show which Access applications admit a service token, and why",
		Long:  appsLongHelp,
		Example: `  cfst apps
  cfst apps --token ci-runner --output json
  cfst apps --probe`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Token, "token", "",
		"judge this `TOKEN` (id, client id or name); default: the token in .env")
	flags.BoolVar(&opts.Probe, "probe", false,
		"confirm each verdict with a live request to each application hostname")
	addConnectionFlags(flags, &opts.Conn)
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

const appsLongHelp = `List every Access application with its destinations, those of
the account (--account or CLOUDFLARE_ACCOUNT_ID) and of the zone (--zone or
CLOUDFLARE_ZONE_ID) when both are set, and say what the edge does with a request carrying
the service token in the CF-Access-Client-Id and CF-Access-Client-Secret headers:

  admitted         a Service Auth policy admits it; the policy and rule are named
                   (the token's id, any valid service token, or a group)
  bypassed         a Bypass policy lets every request through: no token is needed
  login_redirect   302 to the login page: no Service Auth policy admits the token, and
                   an Allow (identity) policy offers a login instead
  forbidden        403: no policy admits the token, a Block policy refuses it, or (outside
                   strict mode) the token cannot authenticate
  unauthenticated  401: strict mode and a token that cannot authenticate, or the
                   application's "401 Response for Service Auth policies"

The reason names the cause: only identity (Allow) policies; excluded by a rule; a
require rule not met; the token expired, disabled or unknown; the application reads
credentials from a single header, so the standard headers are ignored. Rules on the
client's address or country are taken as not matching and the verdict says so.

The verdicts come from the same code as the emulator's edge, applied to what the API
says now; they assume the client sends the token's current secret. --probe confirms each
verdict with one live request per application hostname, using the credentials of .env
(so it works for the token in .env only; --cacert and --connect-to apply), and reports
every disagreement, such as a secret whose rotation grace period ended.

The token is the one in .env (under --prefix) unless --token names another; it is looked
up among the account's service tokens when an account is set, then the zone's. Needs an API
token with "Access: Apps and Policies Read" and "Access: Service Tokens Read"; with
"Access: Organizations, Identity Providers, and Groups Read" group rules and strict mode
are taken into account as well.

Output: a table on a terminal, tab-separated lines when piped (application, id,
destinations, verdict, status, detail), or --output json. Exit code 12 when --probe
found a disagreement.`

// appVerdict is the verdict of apps for one application.
type appVerdict struct {
	app        *access.Application
	prediction access.Prediction
	// probes are the live requests of --probe, one per hostname.
	probes []appProbe
}

// runApps judges the token against every application and prints the verdicts.
func runApps(ctx context.Context, app *App, opts *appsOptions) error {
	client, err := app.accessClient()
	if err != nil {
		return err
	}
	subject, err := app.resolveSubject(ctx, client, opts.Token)
	if err != nil {
		return err
	}
	if opts.Probe && subject.secret.IsZero() {
		return usageError("drop --probe, or judge the token of .env (no --token)",
			"--probe needs the token's secret, and .env holds another token's")
	}
	setup, err := loadAccessSetup(ctx, client)
	if err != nil {
		return err
	}
	verdicts := setup.judgeAll(subject, app.Now())
	if opts.Probe {
		if err := app.probeVerdicts(ctx, opts.Conn, setup, subject, verdicts); err != nil {
			return err
		}
	}
	if err := app.printApps(opts.Output, setup, subject, verdicts); err != nil {
		return err
	}
	return appsOutcome(verdicts)
}

// judgeAll predicts the edge's answer for every application.
func (s *accessSetup) judgeAll(subject tokenSubject, now time.Time) []appVerdict {
	verdicts := make([]appVerdict, len(s.apps))
	for i := range s.apps {
		verdicts[i] = appVerdict{app: &s.apps[i], prediction: s.predict(&s.apps[i], subject, now)}
	}
	return verdicts
}

// appsOutcome is ExitCheckFailed when a probe disagreed with a verdict.
func appsOutcome(verdicts []appVerdict) error {
	disagreements := 0
	for _, verdict := range verdicts {
		for _, p := range verdict.probes {
			if p.agreement == probeDisagrees {
				disagreements++
			}
		}
	}
	if disagreements == 0 {
		return nil
	}
	return withCode(ExitCheckFailed, fmt.Errorf("the live edge disagreed with %d %s",
		disagreements, plural(disagreements, "verdict", "verdicts")), "")
}
