package access_test

import (
	"fmt"
	"net/netip"

	"github.com/cfst/cfst/internal/access"
)

func ExampleMatch() {
	apps := []access.Application{
		{ID: "site", Domain: "example.com"},
		{ID: "admin", Destinations: []access.Destination{
			{Type: "public", URI: "example.com/admin/*"},
		}},
	}
	for _, path := range []string{"/admin/users", "/admin", "/"} {
		app, pattern, ok := access.Match(apps, "example.com", path)
		if ok {
			fmt.Printf("%s -> %s (%s)\n", path, app.ID, pattern)
		}
	}
	// Output:
	// /admin/users -> admin (example.com/admin/*)
	// /admin -> site (example.com)
	// / -> site (example.com)
}

func ExampleEvaluate() {
	app := &access.Application{
		Domain: "api.example.com",
		Policies: []access.Policy{
			{Name: "Humans", Decision: access.DecisionAllow, Precedence: 1,
				Include: []access.Rule{
					{EmailDomain: &access.EmailDomainRule{Domain: "example.com"}},
				}},
			{Name: "CI", Decision: access.DecisionNonIdentity, Precedence: 2,
				Include: []access.Rule{{AnyValidServiceToken: &access.Empty{}}},
				Exclude: []access.Rule{{IP: &access.IPRule{IP: "203.0.113.0/24"}}}},
		},
	}
	requests := []access.Request{
		{Credentials: access.ValidToken, TokenID: "t1", IP: netip.MustParseAddr("192.0.2.1")},
		{Credentials: access.ValidToken, TokenID: "t1", IP: netip.MustParseAddr("203.0.113.9")},
		{Credentials: access.NoCredentials},
	}
	for _, req := range requests {
		verdict := access.Evaluate(app, nil, req, true)
		fmt.Println(verdict.Outcome, verdict.Status, verdict.Detail)
	}
	// Output:
	// admitted 0 policy "CI" admits it: any valid service token
	// forbidden 403 policy "CI" excludes it: ip 203.0.113.0/24
	// login_redirect 302 the request presented no service token
}

func ExampleEvaluationOrder() {
	policies := []access.Policy{
		{Name: "A", Decision: access.DecisionAllow, Precedence: 1},
		{Name: "B", Decision: access.DecisionDeny, Precedence: 2},
		{Name: "C", Decision: access.DecisionNonIdentity, Precedence: 3},
		{Name: "D", Decision: access.DecisionBypass, Precedence: 4},
		{Name: "E", Decision: access.DecisionAllow, Precedence: 5},
	}
	var names []string
	for _, policy := range access.EvaluationOrder(policies) {
		names = append(names, policy.Name)
	}
	fmt.Println(names)
	// Output: [C D A B E]
}
