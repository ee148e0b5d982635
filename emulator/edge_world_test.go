package emulator

import (
	"testing"

	"github.com/cfst/cfst/internal/access"
)

// The service tokens of the edge tests. Their secrets are test values.
const (
	goodClientID     = "900d0000000000000000000000000001.access"
	goodSecret       = "cfast_goodgoodgoodgoodgoodgoodgoodgoodgood0001"
	otherClientID    = "0e4e0000000000000000000000000002.access"
	otherSecret      = "cfast_otherotherotherotherotherotherother0002"
	expiredClientID  = "e8900000000000000000000000000003.access"
	expiredSecret    = "cfast_expiredexpiredexpiredexpiredexpired0003"
	disabledClientID = "d15a0000000000000000000000000004.access"
	disabledSecret   = "cfast_disableddisableddisableddisabled000004"
	rotatedClientID  = "0a7e0000000000000000000000000005.access"
	rotatedSecret    = "cfast_rotatednewrotatednewrotatednew00000005"
	previousSecret   = "cfast_rotatedoldrotatedoldrotatedold00000005"
	unknownClientID  = "deadbeef000000000000000000000000.access"
)

// tokenRules admits the named tokens.
func tokenRules(names ...string) []access.Rule {
	rules := make([]access.Rule, 0, len(names))
	for _, name := range names {
		rules = append(rules, access.Rule{ServiceToken: &access.ServiceTokenRule{TokenID: name}})
	}
	return rules
}

var (
	anyToken = []access.Rule{{AnyValidServiceToken: &access.Empty{}}}
	everyone = []access.Rule{{Everyone: &access.Empty{}}}
	staff    = []access.Rule{{EmailDomain: &access.EmailDomainRule{Domain: "example.com"}}}
)

func serviceAuth(rules []access.Rule) WorldAppPolicy {
	return WorldAppPolicy{WorldPolicy: WorldPolicy{Name: "service auth",
		Decision: access.DecisionNonIdentity, Include: rules}}
}

func allowStaff() WorldAppPolicy {
	return WorldAppPolicy{WorldPolicy: WorldPolicy{Name: "staff",
		Decision: access.DecisionAllow, Include: staff}}
}

// edgeWorld has one application per edge behaviour under test. upstream, when set, is the
// origin URL of proxy.example.com.
func edgeWorld(strict bool, upstream string) *World {
	enabled := false
	named := tokenRules("good", "expired", "disabled", "rotated")
	apps := []WorldApp{
		{Name: "login", Domain: "login.example.com", Policies: []WorldAppPolicy{allowStaff()}},
		{Name: "mixed", Domain: "mixed.example.com",
			Policies: []WorldAppPolicy{allowStaff(), serviceAuth(named)}},
		{Name: "svc", Domain: "svc.example.com", Policies: []WorldAppPolicy{serviceAuth(named)}},
		{Name: "svc401", Domain: "svc401.example.com", ServiceAuth401Redirect: true,
			Policies: []WorldAppPolicy{serviceAuth(named)}},
		{Name: "single", Domain: "single.example.com",
			ReadServiceTokensFromHeader: "Authorization",
			Policies:                    []WorldAppPolicy{serviceAuth(tokenRules("good"))}},
		{Name: "paths", Domain: "paths.example.com/admin",
			Policies: []WorldAppPolicy{serviceAuth(anyToken)}},
		{Name: "public", Domain: "public.example.com", Policies: []WorldAppPolicy{{
			WorldPolicy: WorldPolicy{Name: "open", Decision: access.DecisionBypass,
				Include: everyone}}}},
		{Name: "down", Domain: "down.example.com", Origin: "down",
			Policies: []WorldAppPolicy{serviceAuth(anyToken)}},
		{Name: "tunnel", Domain: "tunnel.example.com", Origin: "tunnel-down",
			Policies: []WorldAppPolicy{serviceAuth(anyToken)}},
		{Name: "teapot", Domain: "teapot.example.com", Origin: "status:418",
			Policies: []WorldAppPolicy{serviceAuth(anyToken)}},
		{Name: "office", Domain: "office.example.com", Policies: []WorldAppPolicy{
			serviceAuth([]access.Rule{{IP: &access.IPRule{IP: "10.0.0.0/8"}}})}},
		{Name: "slow", Domain: "slow.example.com", Origin: "slow:1h",
			Policies: []WorldAppPolicy{serviceAuth(anyToken)}},
	}
	if upstream != "" {
		apps = append(apps, WorldApp{Name: "proxy", Domain: "proxy.example.com",
			Origin: upstream, Policies: []WorldAppPolicy{serviceAuth(anyToken)}})
	}
	return &World{
		Team:   "edge",
		Strict: strict,
		ServiceTokens: []WorldServiceToken{
			{Name: "good", ClientID: goodClientID, ClientSecret: NewSecret(goodSecret)},
			{Name: "other", ClientID: otherClientID, ClientSecret: NewSecret(otherSecret)},
			{Name: "expired", ClientID: expiredClientID, ClientSecret: NewSecret(expiredSecret),
				ExpiresAt: "expired"},
			{Name: "disabled", ClientID: disabledClientID,
				ClientSecret: NewSecret(disabledSecret), Enabled: &enabled},
			{Name: "rotated", ClientID: rotatedClientID, ClientSecret: NewSecret(rotatedSecret),
				PreviousClientSecret:          NewSecret(previousSecret),
				PreviousClientSecretExpiresAt: "+1h"},
		},
		Applications: apps,
	}
}

// appNamed returns the application of the running world with the given name.
func appNamed(t testing.TB, srv *Server, name string) access.Application {
	t.Helper()
	for _, app := range srv.state.applications() {
		if app.Name == name {
			return app
		}
	}
	t.Fatalf("no application %q", name)
	return access.Application{}
}

// tokenNamed returns the id of the world's service token with the given name.
func tokenNamed(t testing.TB, srv *Server, name string) string {
	t.Helper()
	for _, tok := range srv.world.ServiceTokens {
		if tok.Name == name {
			return tok.ID
		}
	}
	t.Fatalf("no service token %q", name)
	return ""
}
