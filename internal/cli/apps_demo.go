package cli

import "context"

// demoCodeApp is the default world's application that admits people only.
const demoCodeApp = "code.example.com"

// showPolicyInsight is the demo's tour of apps and grant: which applications let the
// demo token through and why, then the application that only has an identity (Allow)
// policy fixed with grant and tested again. It uses the token of the tour's .env, and
// creates one when there is none, so it may run after the lifecycle step or alone.
func (t *demoTour) showPolicyInsight(ctx context.Context) error {
	t.heading("Which applications admit the token, and why",
		"A token gets in only through a Service Auth policy that includes it. 'cfst apps' "+
			"reads every application\nand policy from the API and says what the edge will "+
			"do with the token, through the same code\nas the edge itself.")
	if _, _, _, err := t.app.credentials(); err != nil {
		t.run(ctx, "create", "demo-insight")
	}
	t.run(ctx, "apps")
	t.heading("Fix the identity-only application",
		demoCodeApp+" has only an Allow policy, so the token gets the login page. 'cfst "+
			"grant' adds the smallest\nService Auth policy that admits it, after showing "+
			"the change; 'cfst ungrant' takes it back.")
	t.run(ctx, "test", demoCodeApp)
	t.run(ctx, "grant", demoCodeApp, "--yes")
	t.run(ctx, "test", demoCodeApp)
	return nil
}
