package access

import (
	"strings"
	"testing"
)

func TestPredict(t *testing.T) {
	serviceAuth := policy("CI", DecisionNonIdentity, 1, tokenRule("t1"))
	viaGroup := policy("Robots", DecisionNonIdentity, 1, groupRule("robots"))
	humans := policy("Humans", DecisionAllow, 2,
		Rule{EmailDomain: &EmailDomainRule{Domain: "example.com"}})
	open := policy("Open", DecisionBypass, 1, everyoneRule())
	officeOnly := policy("Office", DecisionNonIdentity, 1, anyTokenRule())
	officeOnly.Require = []Rule{ipRule("10.0.0.0/8")}
	groups := []Group{{ID: "robots", Name: "Robots", Include: []Rule{anyTokenRule()}}}

	app := func(policies ...Policy) *Application { return &Application{Policies: policies} }
	header := func(a *Application) *Application {
		a.ReadServiceTokensFromHeader = "Authorization"
		return a
	}
	valid := TokenFacts{ID: "t1"}
	expired := TokenFacts{ID: "t1", Problem: "expired"}
	tests := []struct {
		name    string
		app     *Application
		token   TokenFacts
		strict  bool
		want    want
		detail  string // a substring of the detail
		ifValid Outcome
		client  bool
	}{
		// §2.1: a Service Auth policy that names the token admits it, by id or via a group.
		{"admitted by id", app(serviceAuth, humans), valid, false,
			admittedBy("CI", "service token t1"), `policy "CI" admits it`, "", false},
		{"admitted via group", app(viaGroup), valid, true,
			admittedBy("Robots", "group Robots (robots)"), "", "", false},
		// §2.1: Allow policies do not accept tokens: 302 to the login.
		{"only identity policies", app(humans), valid, false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonOnlyIdentityPolicies},
			"Allow policies need an identity provider login", "", false},
		// §3.2: an expired token is unauthenticated; §3.3: 401 in strict mode.
		{"expired, default mode", app(serviceAuth, humans), expired, false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonTokenInvalid},
			`cannot authenticate: expired; once it authenticates there, policy "CI"`,
			Admitted, false},
		{"expired, strict", app(serviceAuth), expired, true,
			want{outcome: Unauthenticated, status: 401, reason: ReasonTokenInvalid},
			"cannot authenticate: expired", Admitted, false},
		{"unknown client id", app(serviceAuth), TokenFacts{}, false,
			want{outcome: Forbidden, status: 403, reason: ReasonTokenInvalid},
			"no service token has this client id", "", false},
		{"disabled and not named either", app(open), TokenFacts{ID: "t9", Problem: "disabled"},
			false, want{outcome: Bypassed, policy: "Open", rule: "everyone"}, "", "", false},
		// §3.1: an application that reads a single header ignores the standard ones...
		{"single header", header(app(serviceAuth, humans)), valid, false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonHeaderIgnored},
			"only from the Authorization header", Admitted, false},
		// ...and §3.3: strict mode refuses credentials sent in the wrong place.
		{"single header, strict", header(app(serviceAuth)), valid, true,
			want{outcome: Unauthenticated, status: 401, reason: ReasonHeaderIgnored},
			"headers are refused", Admitted, false},
		{"single header, not named", header(app(humans)), valid, false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonHeaderIgnored},
			"even then it would not be admitted", LoginRedirect, false},
		// §2.1: Bypass needs no token at all.
		{"bypass", app(open, serviceAuth), expired, true,
			want{outcome: Bypassed, policy: "Open", rule: "everyone"}, "", "", false},
		// §2.1 rule logic: require is AND; the client's address is unknown statically.
		{"require on the address", app(officeOnly), valid, false,
			want{outcome: Forbidden, status: 403, reason: ReasonRequireNotMet, policy: "Office",
				rule: "ip 10.0.0.0/8"}, "requires ip 10.0.0.0/8", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Predict(tt.app, groups, tt.token, tt.strict)
			checkVerdict(t, got.Verdict, tt.want)
			if !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("detail %q does not say %q", got.Detail, tt.detail)
			}
			ifValid := Outcome("")
			if got.IfAuthenticated != nil {
				ifValid = got.IfAuthenticated.Outcome
			}
			if ifValid != tt.ifValid {
				t.Errorf("if authenticated: %q, want %q", ifValid, tt.ifValid)
			}
			if got.ClientDependent != tt.client {
				t.Errorf("client dependent = %v, want %v", got.ClientDependent, tt.client)
			}
		})
	}
}

// TestPredictAgreesWithEvaluate checks that Predict only builds the request: for a plain
// application its verdict is Evaluate's for the same credentials.
func TestPredictAgreesWithEvaluate(t *testing.T) {
	apps := []*Application{
		{Policies: []Policy{policy("CI", DecisionNonIdentity, 1, tokenRule("t1"))}},
		{Policies: []Policy{policy("Humans", DecisionAllow, 1, everyoneRule())}},
		{ServiceAuth401Redirect: true},
	}
	for _, app := range apps {
		for _, strict := range []bool{false, true} {
			got := Predict(app, nil, TokenFacts{ID: "t1"}, strict).Verdict
			want := Evaluate(app, nil, validToken("t1"), strict)
			if got.Outcome != want.Outcome || got.Status != want.Status ||
				got.Reason != want.Reason || got.Detail != want.Detail {
				t.Errorf("strict %v: Predict %+v, Evaluate %+v", strict, got, want)
			}
		}
	}
}

func TestClientDependentThroughGroups(t *testing.T) {
	groups := []Group{
		{ID: "office", Include: []Rule{ipRule("10.0.0.0/8")}},
		{ID: "outer", Include: []Rule{groupRule("office")}},
		{ID: "loop", Include: []Rule{groupRule("loop")}},
		{ID: "germany", Include: []Rule{anyTokenRule()}, Exclude: []Rule{countryRule("DE")}},
	}
	tests := []struct {
		group string
		want  bool
	}{{"outer", true}, {"loop", false}, {"germany", true}, {"missing", false}}
	for _, tt := range tests {
		app := &Application{Policies: []Policy{
			policy("P", DecisionNonIdentity, 1, groupRule(tt.group))}}
		if got := Predict(app, groups, TokenFacts{ID: "t1"}, false); got.ClientDependent != tt.want {
			t.Errorf("group %q: client dependent = %v, want %v", tt.group,
				got.ClientDependent, tt.want)
		}
	}
}

func TestSampleRequests(t *testing.T) {
	apps := []Application{
		publicApp("site", "example.com"),
		publicApp("admin", "example.com/admin/*"),
		publicApp("wild", "*.example.com", "www.example.com"),
		publicApp("shadowed", "example.com/admin/*", "docs.example.com/v1"),
		publicApp("two", "api.example.com/v1", "api.example.com/v2"),
		publicApp("mid", "mid.example.com/foo*/bar"),
	}
	tests := []struct {
		index int
		want  []HostPath
	}{
		{0, []HostPath{{"example.com", "/"}}},
		// DOC-PATHS: "admin/*" does not cover "/admin" but covers "/admin/".
		{1, []HostPath{{"example.com", "/admin/"}}},
		// A wildcard host has no name to probe.
		{2, []HostPath{{"www.example.com", "/"}}},
		// The first application with the same pattern wins the tie (Match's order).
		{3, []HostPath{{"docs.example.com", "/v1"}}},
		// One sample per hostname.
		{4, []HostPath{{"api.example.com", "/v1"}}},
		{5, []HostPath{{"mid.example.com", "/foo/bar"}}},
	}
	for _, tt := range tests {
		got := SampleRequests(apps, tt.index)
		if len(got) != len(tt.want) {
			t.Errorf("%s: samples %v, want %v", apps[tt.index].ID, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: samples %v, want %v", apps[tt.index].ID, got, tt.want)
			}
		}
	}
}
