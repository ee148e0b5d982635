package cloudflare

import (
	"reflect"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/secret"
)

// appPolicies returns the policies of the named application.
func appPolicies(t *testing.T, c *Client, name string) (string, []access.Policy) {
	t.Helper()
	apps, err := c.ListApplications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range apps {
		if app.Name == name {
			return app.ID, app.Policies
		}
	}
	t.Fatalf("no application %q", name)
	return "", nil
}

func TestAppPolicyCreateDelete(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, accessWorld())
	c := newClient(t, srv, bothScopes(srv))
	ctx := t.Context()
	appID, before := appPolicies(t, c, "legacy")

	tokenRule := access.Rule{ServiceToken: &access.ServiceTokenRule{TokenID: mustTokenID(t, c)}}
	created, err := c.CreateAppPolicy(ctx, appID, access.Policy{Name: "cfst: x",
		Decision: access.DecisionNonIdentity, Include: []access.Rule{tokenRule}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Precedence != 2 || created.Reusable {
		t.Errorf("created %+v, want precedence 2, app-scoped", created)
	}

	if err := c.DeleteAppPolicy(ctx, appID, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, after := appPolicies(t, c, "legacy"); !reflect.DeepEqual(after, before) {
		t.Errorf("after create and delete:\n%+v\nwant\n%+v", after, before)
	}
	err = c.DeleteAppPolicy(ctx, appID, created.ID)
	requireKind(t, err, KindNotFound)
}

func mustTokenID(t *testing.T, c *Client) string {
	t.Helper()
	tokens, err := c.ListTokens(t.Context(), ListOptions{})
	if err != nil || len(tokens) == 0 {
		t.Fatalf("tokens: %v, %v", tokens, err)
	}
	return tokens[0].ID
}

func TestAppendPolicyKeepsPrecedences(t *testing.T) {
	t.Parallel()
	w := accessWorld()
	w.Applications = append(w.Applications, emulator.WorldApp{Name: "gaps",
		Domain: "gaps.example.com", Policies: []emulator.WorldAppPolicy{
			{Ref: "service-tokens", Precedence: 3}, {Ref: "household-login", Precedence: 7}}})
	srv := startEmulator(t, w)
	c := newClient(t, srv, nil)
	ctx := t.Context()
	appID, before := appPolicies(t, c, "gaps")
	extra, err := c.CreatePolicy(ctx, access.Policy{Name: "extra",
		Decision: access.DecisionBypass, Include: []access.Rule{{Everyone: &access.Empty{}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call changes nothing
		app, err := c.AppendPolicy(ctx, appID, extra.ID)
		if err != nil {
			t.Fatal(err)
		}
		var precedences []int
		for _, p := range app.Policies {
			precedences = append(precedences, p.Precedence)
		}
		if !reflect.DeepEqual(precedences, []int{3, 7, 8}) {
			t.Errorf("precedences %v, want [3 7 8]", precedences)
		}
	}
	if _, err := c.DetachPolicy(ctx, appID, extra.ID); err != nil {
		t.Fatal(err)
	}
	if _, after := appPolicies(t, c, "gaps"); !reflect.DeepEqual(after, before) {
		t.Errorf("after append and detach:\n%+v\nwant\n%+v", after, before)
	}
}

func TestGetOrganization(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		w := accessWorld()
		w.Strict = strict
		srv := startEmulator(t, w)
		org, err := newClient(t, srv, nil).GetOrganization(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if org.StrictServiceTokenAuth == nil || *org.StrictServiceTokenAuth != strict ||
			org.AuthDomain != srv.TeamDomain() {
			t.Errorf("strict %v: organization %+v", strict, org)
		}
		_, err = newClient(t, srv, func(cfg *Config) {
			cfg.APIToken = secret.New(readerAPIToken)
		}).GetOrganization(t.Context())
		if e := requireKind(t, err, KindPermission); e.Permission != PermGroupsRead {
			t.Errorf("permission %q, want %q", e.Permission, PermGroupsRead)
		}
	}
}

func TestCheckAPIToken(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	if err := srv.AdvanceClock(72 * time.Hour); err != nil {
		t.Fatal(err)
	}
	check, err := newClient(t, srv, nil).CheckAPIToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if check.Status != "active" {
		t.Errorf("status %q, want active", check.Status)
	}
	if skew := check.ServerTime.Sub(srv.Clock().Now()).Abs(); skew > 2*time.Second {
		t.Errorf("server time %s, want the emulator's %s", check.ServerTime, srv.Clock().Now())
	}
	_, err = newClient(t, srv, func(cfg *Config) {
		cfg.APIToken = secret.New("not-a-known-api-token")
	}).CheckAPIToken(t.Context())
	requireKind(t, err, KindAuth, "not-a-known-api-token")
}
