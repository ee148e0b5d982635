package access

import (
	"strings"
	"testing"
)

// policy builds a policy with includes; tests set Require and Exclude on the result.
func policy(name string, decision Decision, precedence int, include ...Rule) Policy {
	return Policy{ID: "id-" + name, Name: name, Decision: decision, Precedence: precedence,
		Include: include}
}

// want is the part of a Verdict a test checks. Detail is checked only when set.
type want struct {
	outcome Outcome
	status  int
	reason  Reason
	policy  string // name of Verdict.Policy; "" for none
	rule    string
	detail  string
}

func checkVerdict(t *testing.T, got Verdict, expected want) {
	t.Helper()
	policyName := ""
	if got.Policy != nil {
		policyName = got.Policy.Name
	}
	if got.Outcome != expected.outcome || got.Status != expected.status ||
		got.Reason != expected.reason || policyName != expected.policy ||
		got.Rule != expected.rule {
		t.Errorf("verdict = %s %d %q policy %q rule %q (%s)\nwant      %s %d %q policy %q rule %q",
			got.Outcome, got.Status, got.Reason, policyName, got.Rule, got.Detail,
			expected.outcome, expected.status, expected.reason, expected.policy, expected.rule)
	}
	if expected.detail != "" && got.Detail != expected.detail {
		t.Errorf("detail = %q, want %q", got.Detail, expected.detail)
	}
	if got.Detail == "" {
		t.Error("detail is empty")
	}
}

func admittedBy(name, rule string) want {
	return want{outcome: Admitted, policy: name, rule: rule}
}

func TestEvaluateRuleLogic(t *testing.T) {
	groups := []Group{{ID: "tokens", Name: "CI tokens", Include: []Rule{tokenRule("t1")}}}
	withRules := func(include, require, exclude []Rule) Policy {
		ci := policy("CI", DecisionNonIdentity, 1, include...)
		ci.Require, ci.Exclude = require, exclude
		return ci
	}
	office := from(inCountry(validToken("t1"), "DE"), "10.0.0.1")
	anyToken := []Rule{anyTokenRule()}
	email := Rule{Email: &EmailRule{Email: "a@b.c"}}
	tests := []struct {
		name   string
		policy Policy
		req    Request
		want   want
	}{
		{"include is OR", withRules([]Rule{tokenRule("t1"), tokenRule("t2")}, nil, nil),
			validToken("t2"), admittedBy("CI", "service token t2")},
		{"include names another token", withRules([]Rule{tokenRule("t1")}, nil, nil),
			validToken("t2"), want{outcome: Forbidden, status: 403, reason: ReasonNoMatchingRule}},
		{"no include never matches", withRules(nil, []Rule{anyTokenRule()}, nil),
			validToken("t1"), want{outcome: Forbidden, status: 403, reason: ReasonNoMatchingRule}},
		{"require is AND, all met",
			withRules(anyToken, []Rule{ipRule("10.0.0.0/8"), countryRule("DE")}, nil),
			office, admittedBy("CI", "any valid service token")},
		{"require is AND, one missing",
			withRules(anyToken, []Rule{ipRule("10.0.0.0/8"), countryRule("FR")}, nil),
			office, want{outcome: Forbidden, status: 403, reason: ReasonRequireNotMet,
				policy: "CI", rule: "country FR",
				detail: `policy "CI" includes it but requires country FR`}},
		{"exclude is NOT",
			withRules([]Rule{anyTokenRule()}, nil, []Rule{tokenRule("t9"), ipRule("10.0.0.0/8")}),
			office, want{outcome: Forbidden, status: 403, reason: ReasonExcluded,
				policy: "CI", rule: "ip 10.0.0.0/8",
				detail: `policy "CI" excludes it: ip 10.0.0.0/8`}},
		{"exclude that does not match",
			withRules([]Rule{anyTokenRule()}, nil, []Rule{tokenRule("t9")}),
			office, admittedBy("CI", "any valid service token")},
		{"group include", withRules([]Rule{groupRule("tokens")}, nil, nil),
			validToken("t1"), admittedBy("CI", "group CI tokens (tokens)")},
		{"everyone include", withRules([]Rule{everyoneRule()}, nil, nil),
			validToken("t1"), admittedBy("CI", "everyone")},
		{"ip include", withRules([]Rule{ipRule("10.0.0.0/8")}, nil, nil),
			office, admittedBy("CI", "ip 10.0.0.0/8")},
		{"country include", withRules([]Rule{countryRule("de")}, nil, nil),
			office, admittedBy("CI", "country DE")},
		{"email include never admits", withRules([]Rule{email}, nil, nil),
			validToken("t1"), want{outcome: Forbidden, status: 403, reason: ReasonNoMatchingRule}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &Application{Policies: []Policy{tt.policy}}
			checkVerdict(t, Evaluate(app, groups, tt.req, false), tt.want)
		})
	}
}

func TestEvaluateDocumentedOrder(t *testing.T) {
	// DOC-POL: A(1) Allow, B(2) Block, C(3) Service Auth, D(4) Bypass, E(5) Allow run as
	// C, D, A, B, E. B blocks everyone, so anything admitted shows C or D ran before it.
	documented := func(servicePrecedence, bypassPrecedence int) *Application {
		return &Application{Policies: []Policy{
			policy("A", DecisionAllow, 1, anyTokenRule()),
			policy("B", DecisionDeny, 2, everyoneRule()),
			policy("C", DecisionNonIdentity, servicePrecedence, tokenRule("t1")),
			policy("D", DecisionBypass, bypassPrecedence, ipRule("192.0.2.0/24")),
			policy("E", DecisionAllow, 5, everyoneRule()),
		}}
	}
	blockedByB := want{outcome: Forbidden, status: 403, reason: ReasonBlocked, policy: "B",
		rule: "everyone"}
	tests := []struct {
		name   string
		app    *Application
		req    Request
		strict bool
		want   want
	}{
		{"C decides before A and B", documented(3, 4), validToken("t1"), false,
			admittedBy("C", "service token t1")},
		{"C decides before D", documented(3, 4), from(validToken("t1"), "192.0.2.1"), false,
			admittedBy("C", "service token t1")},
		{"D decides before B", documented(3, 4), from(validToken("t2"), "192.0.2.1"), false,
			want{outcome: Bypassed, policy: "D", rule: "ip 192.0.2.0/24"}},
		{"D before C when it comes first", documented(4, 3), from(validToken("t1"), "192.0.2.1"),
			false, want{outcome: Bypassed, policy: "D", rule: "ip 192.0.2.0/24"}},
		{"B blocks what C and D leave", documented(3, 4), validToken("t2"), false,
			want{outcome: Forbidden, status: 403, reason: ReasonBlocked, policy: "B",
				rule: "everyone", detail: `policy "B" blocks it: everyone`}},
		{"B blocks in strict mode", documented(3, 4), validToken("t2"), true,
			blockedByB},
		{"B blocks without credentials", documented(3, 4), Request{}, false,
			blockedByB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdict(t, Evaluate(tt.app, nil, tt.req, tt.strict), tt.want)
		})
	}
}

func TestEvaluateCredentialsAndModes(t *testing.T) {
	serviceAuth := policy("CI", DecisionNonIdentity, 1, tokenRule("t1"))
	humans := policy("Humans", DecisionAllow, 2,
		Rule{EmailDomain: &EmailDomainRule{Domain: "example.com"}})
	withLogin := &Application{Policies: []Policy{serviceAuth, humans}}
	serviceOnly := &Application{Policies: []Policy{serviceAuth}}
	flagged := &Application{Policies: []Policy{serviceAuth}, ServiceAuth401Redirect: true}
	flaggedLogin := &Application{Policies: withLogin.Policies, ServiceAuth401Redirect: true}

	none, invalid := Request{}, Request{Credentials: InvalidToken}
	other := validToken("t2")
	login := func(reason Reason) want {
		return want{outcome: LoginRedirect, status: 302, reason: reason}
	}
	forbidden := func(reason Reason) want {
		return want{outcome: Forbidden, status: 403, reason: reason}
	}
	unauth := func(reason Reason) want {
		return want{outcome: Unauthenticated, status: 401, reason: reason}
	}
	tests := []struct {
		name   string
		app    *Application
		req    Request
		strict bool
		want   want
	}{
		// Fact sheet §3.2 (default mode): 302 when an Allow policy offers a login, else
		// 403, or 401 with service_auth_401_redirect.
		{"default, none, login app", withLogin, none, false, login(ReasonNoCredentials)},
		{"default, none, service app", serviceOnly, none, false, forbidden(ReasonNoCredentials)},
		{"default, none, 401 flag", flagged, none, false, unauth(ReasonNoCredentials)},
		{"default, none, flag+login", flaggedLogin, none, false, login(ReasonNoCredentials)},
		{"default, invalid, login app", withLogin, invalid, false, login(ReasonTokenInvalid)},
		{"default, invalid, service app", serviceOnly, invalid, false,
			forbidden(ReasonTokenInvalid)},
		{"default, invalid, 401 flag", flagged, invalid, false, unauth(ReasonTokenInvalid)},
		{"default, other token, login app", withLogin, other, false, login(ReasonNoMatchingRule)},
		{"default, other token, service app", serviceOnly, other, false,
			forbidden(ReasonNoMatchingRule)},
		{"default, other token, 401 flag", flagged, other, false, unauth(ReasonNoMatchingRule)},
		// Fact sheet §3.3 (strict mode): 401 when the token does not authenticate, 403 when
		// it is valid but not admitted; requests without credentials are not affected.
		{"strict, none, login app", withLogin, none, true, login(ReasonNoCredentials)},
		{"strict, none, service app", serviceOnly, none, true, forbidden(ReasonNoCredentials)},
		{"strict, none, 401 flag", flagged, none, true, unauth(ReasonNoCredentials)},
		{"strict, invalid, login app", withLogin, invalid, true, unauth(ReasonTokenInvalid)},
		{"strict, invalid, service app", serviceOnly, invalid, true, unauth(ReasonTokenInvalid)},
		{"strict, other token, login app", withLogin, other, true,
			forbidden(ReasonNoMatchingRule)},
		{"strict, other token, 401 flag", flagged, other, true, forbidden(ReasonNoMatchingRule)},
		// A token a Service Auth policy names is admitted in every mode.
		{"default, admitted", withLogin, validToken("t1"), false,
			admittedBy("CI", "service token t1")},
		{"strict, admitted", flagged, validToken("t1"), true,
			admittedBy("CI", "service token t1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdict(t, Evaluate(tt.app, nil, tt.req, tt.strict), tt.want)
		})
	}
}

func TestEvaluateApplicationShapes(t *testing.T) {
	humans := policy("Humans", DecisionAllow, 1, Rule{Email: &EmailRule{Email: "a@example.com"}})
	mistaken := policy("Robots", DecisionAllow, 2, tokenRule("t1"))
	block := policy("Sanctions", DecisionDeny, 1, countryRule("KP"))
	bypass := policy("Health", DecisionBypass, 1, ipRule("192.0.2.0/24"))
	tests := []struct {
		name   string
		app    *Application
		req    Request
		strict bool
		want   want
	}{
		// §2.1: Allow policies never admit a token; Access redirects to a login instead.
		{"only Allow", &Application{Policies: []Policy{humans}}, validToken("t1"), false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonOnlyIdentityPolicies}},
		{"only Allow, strict", &Application{Policies: []Policy{humans}}, validToken("t1"), true,
			want{outcome: Forbidden, status: 403, reason: ReasonOnlyIdentityPolicies}},
		{"Allow naming the token", &Application{Policies: []Policy{humans, mistaken}},
			validToken("t1"), false,
			want{outcome: LoginRedirect, status: 302, reason: ReasonOnlyIdentityPolicies,
				detail: "the application has no Service Auth policy; Allow policies need an " +
					`identity provider login; policy "Robots" names it but is an Allow policy ` +
					"(set its action to Service Auth)"}},
		{"only Block, not matching", &Application{Policies: []Policy{block}}, validToken("t1"),
			false, want{outcome: Forbidden, status: 403, reason: ReasonNoServiceAuthPolicy}},
		{"only Block, matching", &Application{Policies: []Policy{block}},
			inCountry(validToken("t1"), "kp"), false,
			want{outcome: Forbidden, status: 403, reason: ReasonBlocked, policy: "Sanctions",
				rule: "country KP"}},
		{"only Block, 401 flag",
			&Application{Policies: []Policy{block}, ServiceAuth401Redirect: true},
			validToken("t1"), false,
			want{outcome: Unauthenticated, status: 401, reason: ReasonNoServiceAuthPolicy}},
		{"no policies", &Application{}, validToken("t1"), false,
			want{outcome: Forbidden, status: 403, reason: ReasonNoPolicies}},
		{"no policies, 401 flag", &Application{ServiceAuth401Redirect: true}, validToken("t1"),
			false, want{outcome: Unauthenticated, status: 401, reason: ReasonNoPolicies}},
		{"no policies, no credentials", &Application{}, Request{}, false,
			want{outcome: Forbidden, status: 403, reason: ReasonNoCredentials}},
		{"nil application", nil, validToken("t1"), false,
			want{outcome: Forbidden, status: 403, reason: ReasonNoPolicies}},
		// §2.1: Bypass does no authentication, so credentials do not matter.
		{"Bypass, no credentials", &Application{Policies: []Policy{bypass}},
			from(Request{}, "192.0.2.9"), false,
			want{outcome: Bypassed, policy: "Health", rule: "ip 192.0.2.0/24"}},
		{"Bypass, invalid token, strict", &Application{Policies: []Policy{bypass}},
			from(Request{Credentials: InvalidToken}, "192.0.2.9"), true,
			want{outcome: Bypassed, policy: "Health", rule: "ip 192.0.2.0/24"}},
		{"Bypass not matching", &Application{Policies: []Policy{bypass}}, validToken("t1"), false,
			want{outcome: Forbidden, status: 403, reason: ReasonNoMatchingRule}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdict(t, Evaluate(tt.app, nil, tt.req, tt.strict), tt.want)
		})
	}
}

func TestEvaluateReportsFirstNearMiss(t *testing.T) {
	otherToken := policy("Other", DecisionNonIdentity, 1, tokenRule("t2"))
	excluding := policy("Excluding", DecisionNonIdentity, 2, anyTokenRule())
	excluding.Exclude = []Rule{ipRule("10.0.0.0/8")}
	requiring := policy("Requiring", DecisionNonIdentity, 3, anyTokenRule())
	requiring.Require = []Rule{countryRule("DE")}
	req := from(inCountry(validToken("t1"), "FR"), "10.0.0.1")

	app := &Application{Policies: []Policy{requiring, otherToken, excluding}}
	checkVerdict(t, Evaluate(app, nil, req, false), want{outcome: Forbidden, status: 403,
		reason: ReasonExcluded, policy: "Excluding", rule: "ip 10.0.0.0/8"})

	requiring.Precedence = 0
	app = &Application{Policies: []Policy{otherToken, excluding, requiring}}
	checkVerdict(t, Evaluate(app, nil, req, false), want{outcome: Forbidden, status: 403,
		reason: ReasonRequireNotMet, policy: "Requiring", rule: "country DE"})
}

func TestEvaluatePointsAtTheApplicationsPolicy(t *testing.T) {
	app := &Application{Policies: []Policy{
		policy("Humans", DecisionAllow, 1, everyoneRule()),
		policy("CI", DecisionNonIdentity, 2, tokenRule("t1")),
	}}
	verdict := Evaluate(app, nil, validToken("t1"), false)
	if verdict.Policy != &app.Policies[1] {
		t.Errorf("Verdict.Policy = %p, want &app.Policies[1] = %p",
			verdict.Policy, &app.Policies[1])
	}
	if want := `policy "CI" admits it: service token t1`; verdict.Detail != want {
		t.Errorf("detail = %q, want %q", verdict.Detail, want)
	}
}

func TestEvaluateNamesUnnamedPolicyByID(t *testing.T) {
	app := &Application{Policies: []Policy{{ID: "p-7", Decision: DecisionNonIdentity,
		Include: []Rule{anyTokenRule()}}}}
	verdict := Evaluate(app, nil, validToken("t1"), false)
	if !strings.Contains(verdict.Detail, `"p-7"`) {
		t.Errorf("detail %q does not name the policy by id", verdict.Detail)
	}
}

// BenchmarkEvaluate decides a request that passes a Block, a group and a near miss first.
func BenchmarkEvaluate(b *testing.B) {
	groups := []Group{{ID: "ci", Name: "CI", Include: []Rule{tokenRule("t1"), tokenRule("t2")}}}
	excluding := policy("Excluding", DecisionNonIdentity, 1, anyTokenRule())
	excluding.Exclude = []Rule{ipRule("10.0.0.0/8")}
	app := &Application{Policies: []Policy{
		policy("Humans", DecisionAllow, 1, everyoneRule()),
		policy("Sanctions", DecisionDeny, 2, countryRule("KP")),
		excluding,
		policy("CI", DecisionNonIdentity, 3, groupRule("ci")),
	}}
	req := from(inCountry(validToken("t2"), "DE"), "10.0.0.1")
	for b.Loop() {
		if verdict := Evaluate(app, groups, req, true); verdict.Outcome != Admitted {
			b.Fatal(verdict.Detail)
		}
	}
}
