package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/access"
)

func newUngrantCmd(app *App) *cobra.Command {
	return ungrantCommand(app, runUngrant)
}

// ungrantCommand builds the command around run, so tests can check flag parsing alone.
func ungrantCommand(app *App, run func(context.Context, *App, *grantOptions) error,
) *cobra.Command {
	opts := &grantOptions{}
	cmd := &cobra.Command{
		Use:   "ungrant APP",
		Short: "Undo 'cfst grant': stop an application admitting a token by name",
		Long: `Reverse 'cfst grant' on one application, touching nothing it did not add:

  - delete the application's own policy "cfst: <token name>";
  - detach the reusable policy "cfst: <token name>", and delete it when no other
    application uses it.

cfst knows those policies by their name and shape: Service Auth, including just this
token and nothing else. Every other policy stays as it is, even one that names the token
(grant never edits those), and cfst says when one of them still lets the token in.
Nothing changes when there is nothing to undo. cfst prints the change first and asks
before making it; without a terminal, --yes is required (else exit 2).

APP is an application's id, name or domain. The token is the one in .env (under --prefix)
unless --token names another. Needs "Access: Apps and Policies Write".`,
		Example: `  cfst ungrant code.example.com
  cfst ungrant code --token ci-runner --yes`,
		Args: exactArgs(1, "APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.App = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	addGrantFlags(cmd, opts, "change")
	return cmd
}

func runUngrant(ctx context.Context, app *App, opts *grantOptions) error {
	target, err := app.loadGrantTarget(ctx, opts)
	if err != nil {
		return err
	}
	plan := planUngrant(target.app, target.setup.apps, target.setup.groups, target.token.ID)
	for _, kept := range plan.kept {
		app.notef("left alone: %s", kept)
	}
	if len(plan.steps) == 0 {
		fmt.Fprintf(app.Streams.Out, "nothing to do: application %q has no policy cfst "+
			"added for token %q\n", target.app.Name, target.token.Name)
		app.noteStillAdmitted(plan)
		return nil
	}
	app.notef("%s", plan.describe(target.token.Name))
	if err := app.confirm(opts.Yes, "ungrant"); err != nil {
		return err
	}
	for _, step := range plan.steps {
		if err := target.applyUngrantStep(ctx, step); err != nil {
			return err
		}
	}
	fmt.Fprintf(app.Streams.Out, "ungranted: application %q, token %q: now %s\n",
		target.app.Name, target.token.Name, plan.after.Detail)
	app.noteStillAdmitted(plan)
	return nil
}

// noteStillAdmitted says when the application lets the token through after the plan, by
// rules ungrant does not touch.
func (app *App) noteStillAdmitted(plan ungrantPlan) {
	if plan.after.Outcome == access.Admitted || plan.after.Outcome == access.Bypassed {
		app.notef("note: the application still lets the token through: %s", plan.after.Detail)
	}
}

// describe says what the plan changes, for the confirmation.
func (plan ungrantPlan) describe(tokenName string) string {
	lines := []string{fmt.Sprintf("application %q (%s), token %q (%s):", plan.app.Name,
		strings.Join(destinationsOf(plan.app), ", "), tokenName, plan.tokenID)}
	for _, step := range plan.steps {
		name := step.policy.Name
		switch step.kind {
		case ungrantDeleteScoped:
			lines = append(lines, fmt.Sprintf("  delete the application's policy %q", name))
		case ungrantDetach:
			lines = append(lines, fmt.Sprintf("  detach the reusable policy %q (other "+
				"applications keep it)", name))
		case ungrantDetachDelete:
			lines = append(lines, fmt.Sprintf("  detach and delete the reusable policy %q "+
				"(no other application uses it)", name))
		}
	}
	lines = append(lines, "  after: "+plan.after.Detail)
	return strings.Join(lines, "\n")
}

// applyUngrantStep makes one change of an ungrant plan through the API.
func (t *grantTarget) applyUngrantStep(ctx context.Context, step ungrantStep) error {
	var err error
	switch step.kind {
	case ungrantDeleteScoped:
		err = t.client.DeleteAppPolicy(ctx, t.app.ID, step.policy.ID)
	case ungrantDetach:
		_, err = t.client.DetachPolicy(ctx, t.app.ID, step.policy.ID)
	case ungrantDetachDelete:
		if _, err = t.client.DetachPolicy(ctx, t.app.ID, step.policy.ID); err == nil {
			err = t.client.DeletePolicy(ctx, step.policy.ID)
		}
	}
	return apiError(err)
}
