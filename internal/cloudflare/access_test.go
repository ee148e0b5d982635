package cloudflare

import (
	"slices"
	"testing"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
)

// accessWorld is testWorld plus an application with a legacy app-scoped policy, and an
// application and a group at zone scope.
func accessWorld() *emulator.World {
	w := testWorld()
	w.Applications = append(w.Applications,
		emulator.WorldApp{Name: "legacy", Domain: "legacy.example.com",
			Policies: []emulator.WorldAppPolicy{{WorldPolicy: emulator.WorldPolicy{
				Name: "legacy-tokens", Decision: access.DecisionNonIdentity,
				Include: []access.Rule{{AnyValidServiceToken: &access.Empty{}}}}}}},
		emulator.WorldApp{Name: "zoned", Domain: "zoned.example.com", Scope: "zone",
			Policies: []emulator.WorldAppPolicy{{Ref: "service-tokens"}}})
	w.Groups = append(w.Groups, emulator.WorldGroup{Name: "zone-group", Scope: "zone",
		Include: []access.Rule{{Everyone: &access.Empty{}}}})
	return w
}

func bothScopes(srv *emulator.Server) func(*Config) {
	return func(cfg *Config) { cfg.ZoneID = srv.ZoneID() }
}

func TestListAccessObjects(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, accessWorld())
	c := newClient(t, srv, bothScopes(srv))
	ctx := t.Context()

	apps, err := c.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := appNames(apps)
	want := []string{"pihole", "jaeger", "langfuse", "ha", "sprinkler", "code", "webhook",
		"legacy", "zoned"}
	if !slices.Equal(names, want) {
		t.Errorf("applications %v, want %v", names, want)
	}
	jaeger := apps[1]
	if len(jaeger.Policies) != 1 || jaeger.Policies[0].Include[0].AnyValidServiceToken == nil ||
		jaeger.Policies[0].Decision != access.DecisionNonIdentity || jaeger.AUD == "" {
		t.Errorf("jaeger decoded as %+v", jaeger)
	}

	// A fresh client has not seen the zone application yet and must search for it.
	zoned, err := newClient(t, srv, bothScopes(srv)).GetApplication(ctx, apps[8].ID)
	if err != nil || zoned.Domain != "zoned.example.com" {
		t.Errorf("zone application: %+v, %v", zoned, err)
	}

	groups, err := c.ListGroups(ctx)
	if err != nil || len(groups) != 2 || groups[0].Name != "household" ||
		groups[1].Name != "zone-group" {
		t.Errorf("groups: %+v, %v", groups, err)
	}
	policies, err := c.ListPolicies(ctx)
	if err != nil || len(policies) != 2 || policies[0].Name != "service-tokens" {
		t.Errorf("reusable policies: %+v, %v", policies, err)
	}
	status, err := c.VerifyAPIToken(ctx)
	if err != nil || status != "active" {
		t.Errorf("verify: %q, %v", status, err)
	}
}

func TestGrantAndRevokeWithReusablePolicy(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, accessWorld())
	c := newClient(t, srv, nil)
	ctx := t.Context()
	jaeger := findApp(t, c, "jaeger")

	tok, err := c.CreateToken(ctx, "grant-me", "")
	if err != nil {
		t.Fatal(err)
	}
	grant, err := c.CreatePolicy(ctx, access.Policy{Name: "grant-me",
		Decision: access.DecisionNonIdentity,
		Include:  []access.Rule{{ServiceToken: &access.ServiceTokenRule{TokenID: tok.ID}}}})
	if err != nil || grant.ID == "" || !grant.Reusable {
		t.Fatalf("create policy: %+v, %v", grant, err)
	}

	app, err := c.AttachPolicy(ctx, jaeger.ID, grant.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	grantFirst := []string{"grant-me", "service-tokens"}
	if got := policyOrder(app.Policies); !slices.Equal(got, grantFirst) {
		t.Errorf("after attach: %v", got)
	}
	listed, err := c.ListAppPolicies(ctx, jaeger.ID)
	if err != nil || !slices.Equal(policyOrder(listed), grantFirst) ||
		listed[0].Precedence != 1 || listed[1].Precedence != 2 {
		t.Errorf("app policies: %+v, %v", listed, err)
	}
	for _, precedence := range []int{1, 0} {
		n := requestsDuring(srv, func() {
			_, err = c.AttachPolicy(ctx, jaeger.ID, grant.ID, precedence)
		})
		if err != nil || n != 1 {
			t.Errorf("attaching again at %d: %d requests (want only the read), %v",
				precedence, n, err)
		}
	}
	app, err = c.AttachPolicy(ctx, jaeger.ID, grant.ID, 5)
	grantLast := []string{"service-tokens", "grant-me"}
	if got := policyOrder(app.Policies); err != nil || !slices.Equal(got, grantLast) {
		t.Errorf("moved to the end: %v, %v", got, err)
	}

	renamed := grant
	renamed.Name = "grant-me-too"
	if updated, err := c.UpdatePolicy(ctx, renamed); err != nil || updated.Name != "grant-me-too" {
		t.Errorf("update policy: %+v, %v", updated, err)
	}
	stored, err := c.GetPolicy(ctx, grant.ID)
	if err != nil || stored.Name != "grant-me-too" ||
		stored.Include[0].ServiceToken.TokenID != tok.ID {
		t.Errorf("get policy: %+v, %v", stored, err)
	}
	requireKind(t, c.DeletePolicy(ctx, grant.ID), KindInvalid) // still attached

	app, err = c.DetachPolicy(ctx, jaeger.ID, grant.ID)
	got := policyOrder(app.Policies)
	if err != nil || !slices.Equal(got, []string{"service-tokens"}) {
		t.Errorf("after detach: %v, %v", got, err)
	}
	n := requestsDuring(srv, func() { _, err = c.DetachPolicy(ctx, jaeger.ID, grant.ID) })
	if err != nil || n != 1 {
		t.Errorf("detaching again: %d requests, %v", n, err)
	}
	if err := c.DeletePolicy(ctx, grant.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPolicy(ctx, grant.ID)
	requireKind(t, err, KindNotFound)
}

func TestAppScopedPolicies(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, accessWorld())
	c := newClient(t, srv, nil)
	ctx := t.Context()
	legacy := findApp(t, c, "legacy")

	policies, err := c.ListAppPolicies(ctx, legacy.ID)
	if err != nil || len(policies) != 1 || policies[0].Reusable {
		t.Fatalf("legacy policies: %+v, %v", policies, err)
	}
	changed := policies[0]
	changed.Exclude = []access.Rule{{Geo: &access.GeoRule{CountryCode: "XX"}}}
	updated, err := c.UpdateAppPolicy(ctx, legacy.ID, changed)
	if err != nil || len(updated.Exclude) != 1 || updated.Exclude[0].Geo == nil ||
		updated.Precedence != 1 {
		t.Errorf("update app policy: %+v, %v", updated, err)
	}

	reusable, err := c.ListPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachPolicy(ctx, legacy.ID, reusable[0].ID, 0)
	requireKind(t, err, KindInvalid) // reusable and app-scoped policies do not mix

	_, err = c.AttachPolicy(ctx, "00000000-0000-4000-8000-000000000000", reusable[0].ID, 0)
	e := requireKind(t, err, KindNotFound)
	want := `attach policy: access application "00000000-0000-4000-8000-000000000000" ` +
		`not found`
	if e.Error() != want {
		t.Errorf("got %q, want %q", e, want)
	}
}

func TestReusablePoliciesNeedAnAccount(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, zoneScope(srv))
	_, err := c.ListPolicies(t.Context())
	requireKind(t, err, KindConfig)
	apps, err := c.ListApplications(t.Context())
	if err != nil || len(apps) != 0 {
		t.Errorf("zone applications: %+v, %v", apps, err)
	}
}

func findApp(t *testing.T, c *Client, name string) access.Application {
	t.Helper()
	apps, err := c.ListApplications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range apps {
		if app.Name == name {
			return app
		}
	}
	t.Fatalf("no application %q", name)
	return access.Application{}
}

func appNames(apps []access.Application) []string {
	var names []string
	for _, app := range apps {
		names = append(names, app.Name)
	}
	return names
}

// policyOrder returns the policies' names in order of precedence.
func policyOrder(policies []access.Policy) []string {
	sorted := slices.Clone(policies)
	slices.SortStableFunc(sorted, func(a, b access.Policy) int {
		return a.Precedence - b.Precedence
	})
	var names []string
	for _, p := range sorted {
		names = append(names, p.Name)
	}
	return names
}
