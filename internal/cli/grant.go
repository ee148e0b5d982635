package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/cloudflare"
)

// grantOptions are the parsed argument and flags of `cfst grant` and `cfst ungrant`.
type grantOptions struct {
	App   string
	Token string
	Yes   bool
}

func newGrantCmd(app *App) *cobra.Command {
	return grantCommand(app, runGrant)
}

// grantCommand builds the command around run, so tests can check flag parsing alone.
func grantCommand(app *App, run func(context.Context, *App, *grantOptions) error,
) *cobra.Command {
	opts := &grantOptions{}
	cmd := &cobra.Command{
		Use:   "grant APP",
		Short: "Make an Access application admit a service token",
		Long: `Make the application admit the service token, with a change 'cfst ungrant' can
take back exactly: a Service Auth policy named "cfst: <token name>" that includes just the
token, attached after the application's other policies. It is a reusable policy (reused
if cfst made it for another application), or an app-scoped one when the application has
app-scoped policies, which Cloudflare does not mix with reusable ones, or when only a zone
is configured. grant never edits a policy it did not create.

Nothing changes when the policies already let the token through. grant refuses (exit 5)
when a Block policy, an exclude rule or a require rule keeps the token out: that was
someone's choice. cfst prints the change first and asks before making it; without a
terminal, --yes is required (else exit 2).

APP is an application's id, name or domain. The token is the one in .env (under --prefix)
unless --token names another (id, client id or name). Needs "Access: Apps and Policies
Write".`,
		Example: `  cfst grant code.example.com
  cfst grant code --token ci-runner --yes`,
		Args: exactArgs(1, "APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.App = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	addGrantFlags(cmd, opts, "change")
	return cmd
}

func addGrantFlags(cmd *cobra.Command, opts *grantOptions, verb string) {
	cmd.Flags().StringVar(&opts.Token, "token", "",
		"the `TOKEN` (id, client id or name); default: the token in .env")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, verb+" without asking")
}

// grantTarget is what grant and ungrant work on: the API, the configuration, the token
// and the application.
type grantTarget struct {
	client *cloudflare.Client
	setup  *accessSetup
	token  cloudflare.Token
	app    *access.Application
}

// loadGrantTarget resolves the token and the application of a grant or ungrant.
func (app *App) loadGrantTarget(ctx context.Context, opts *grantOptions) (*grantTarget, error) {
	client, err := app.accessClient()
	if err != nil {
		return nil, err
	}
	subject, err := app.resolveSubject(ctx, client, opts.Token)
	if err != nil {
		return nil, err
	}
	if subject.token == nil {
		return nil, withCode(ExitNotFound, fmt.Errorf("no service token has client id %q",
			subject.clientID), "run 'cfst list' to see the service tokens")
	}
	setup, err := loadAccessSetup(ctx, client)
	if err != nil {
		return nil, err
	}
	target, err := findApp(setup.apps, opts.App)
	if err != nil {
		return nil, err
	}
	return &grantTarget{client: client, setup: setup, token: *subject.token, app: target}, nil
}

func runGrant(ctx context.Context, app *App, opts *grantOptions) error {
	target, err := app.loadGrantTarget(ctx, opts)
	if err != nil {
		return err
	}
	reusable, err := target.reusablePolicies(ctx)
	if err != nil {
		return err
	}
	plan, err := planGrant(target.app, target.setup.groups, target.token.ID, target.token.Name,
		reusable)
	if err != nil {
		return err
	}
	if plan.step == grantNothing {
		fmt.Fprintf(app.Streams.Out, "nothing to do: application %q already lets token %q "+
			"through: %s\n", target.app.Name, target.token.Name, plan.before.Detail)
		return nil
	}
	app.notef("%s", plan.describe())
	app.warnTokenUse(target)
	if err := app.confirm(opts.Yes, "grant"); err != nil {
		return err
	}
	if err := target.applyGrant(ctx, plan); err != nil {
		return err
	}
	fmt.Fprintf(app.Streams.Out, "granted: application %q now admits token %q: %s\n",
		target.app.Name, target.token.Name, plan.after.Detail)
	return nil
}

// reusablePolicies lists the account's reusable policies, or returns nil without an
// account: then there are none, and grant creates app-scoped policies.
func (t *grantTarget) reusablePolicies(ctx context.Context) ([]access.Policy, error) {
	if t.client.AccountID() == "" {
		return nil, nil
	}
	policies, err := t.client.ListPolicies(ctx)
	if err != nil {
		return nil, apiError(err)
	}
	if policies == nil {
		policies = []access.Policy{}
	}
	return policies, nil
}

// describe says what the plan changes, for the confirmation.
func (plan grantPlan) describe() string {
	var change string
	rule := fmt.Sprintf("service token %q (%s)", plan.tokenName, plan.tokenID)
	switch plan.step {
	case grantAppPolicy:
		change = fmt.Sprintf("create its own Service Auth policy %q, including %s, after "+
			"its other policies", plan.policy.Name, rule)
	case grantNewReusable:
		change = fmt.Sprintf("create the reusable Service Auth policy %q, including %s, "+
			"and attach it after its other policies", plan.policy.Name, rule)
	case grantAttachShared:
		change = fmt.Sprintf("attach the reusable Service Auth policy %q (%s), which "+
			"includes %s, after its other policies", plan.policy.Name, plan.policy.ID, rule)
	}
	return fmt.Sprintf("application %q (%s): %s\n  now:   %s\n  after: %s",
		plan.app.Name, strings.Join(destinationsOf(plan.app), ", "), change,
		plan.before.Detail, plan.after.Detail)
}

// warnTokenUse warns when the policies are not all that keeps the token out: it cannot
// authenticate, or the application reads credentials from another header.
func (app *App) warnTokenUse(t *grantTarget) {
	if problem := tokenProblem(t.token, app.Now()); problem != "" {
		app.notef("warning: token %q is %s: it will not get in until that is fixed",
			t.token.Name, problem)
	}
	if header := t.app.ReadServiceTokensFromHeader; header != "" {
		app.notef("warning: the application reads credentials only from the %s header: "+
			"clients must send {\"cf-access-client-id\":...,\"cf-access-client-secret\":...} "+
			"there", header)
	}
}

// confirm asks on the terminal whether to make the change just printed, unless yes is
// set; anything but y or yes cancels. Without a terminal, only yes lets verb go ahead.
func (app *App) confirm(yes bool, verb string) error {
	switch {
	case yes:
		return nil
	case !app.Streams.Interactive():
		return usageError("pass --yes to "+verb+" without a terminal",
			"refusing to %s without confirmation; nothing changed", verb)
	}
	fmt.Fprint(app.Streams.Err, "Make this change? [y/N] ")
	answer, err := bufio.NewReader(app.Streams.In).ReadString('\n')
	if err != nil && answer == "" {
		return withCode(ExitCancelled, errors.New("no answer; nothing changed"), "")
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return withCode(ExitCancelled, errors.New("cancelled; nothing changed"), "")
}

// applyGrant makes the plan's change through the API.
func (t *grantTarget) applyGrant(ctx context.Context, plan grantPlan) error {
	var err error
	switch plan.step {
	case grantAppPolicy:
		policy := plan.policy
		policy.Precedence = 0
		_, err = t.client.CreateAppPolicy(ctx, t.app.ID, policy)
	case grantNewReusable:
		err = t.createAndAttach(ctx, plan.policy)
	case grantAttachShared:
		_, err = t.client.AppendPolicy(ctx, t.app.ID, plan.policy.ID)
	}
	return withExitCode(err)
}

// withExitCode is apiError for an error that may already carry its exit code.
func withExitCode(err error) error {
	var coded *exitError
	if errors.As(err, &coded) {
		return err
	}
	return apiError(err)
}

// createAndAttach creates a reusable policy and attaches it to the application. When the
// attach fails, the new policy is deleted again, so a failed grant leaves nothing behind.
func (t *grantTarget) createAndAttach(ctx context.Context, policy access.Policy) error {
	created, err := t.client.CreatePolicy(ctx, policy)
	if err != nil {
		return err
	}
	if _, err := t.client.AppendPolicy(ctx, t.app.ID, created.ID); err != nil {
		if cleanupErr := t.client.DeletePolicy(ctx, created.ID); cleanupErr != nil {
			return withCode(ExitError, fmt.Errorf("attach policy: %w", err),
				fmt.Sprintf("the new reusable policy %q (%s) is left unattached; delete it "+
					"in the dashboard", created.Name, created.ID))
		}
		return err
	}
	return nil
}
