package access

import (
	"slices"
	"testing"
)

// policyNames lists the names of policies, in order.
func policyNames(policies []Policy) []string {
	names := make([]string, len(policies))
	for i, policy := range policies {
		names[i] = policy.Name
	}
	return names
}

// documentedPolicies is the example of Cloudflare's "order of execution" section.
func documentedPolicies() []Policy {
	return []Policy{
		{Name: "A", Decision: DecisionAllow, Precedence: 1},
		{Name: "B", Decision: DecisionDeny, Precedence: 2},
		{Name: "C", Decision: DecisionNonIdentity, Precedence: 3},
		{Name: "D", Decision: DecisionBypass, Precedence: 4},
		{Name: "E", Decision: DecisionAllow, Precedence: 5},
	}
}

func TestEvaluationOrder(t *testing.T) {
	tests := []struct {
		name     string
		policies []Policy
		want     []string
	}{
		// DOC-POL "order of execution": A, B, C, D, E run as C, D, A, B, E.
		{"documented example", documentedPolicies(), []string{"C", "D", "A", "B", "E"}},
		{"input order does not matter", []Policy{
			{Name: "E", Decision: DecisionAllow, Precedence: 5},
			{Name: "D", Decision: DecisionBypass, Precedence: 4},
			{Name: "A", Decision: DecisionAllow, Precedence: 1},
			{Name: "C", Decision: DecisionNonIdentity, Precedence: 3},
			{Name: "B", Decision: DecisionDeny, Precedence: 2},
		}, []string{"C", "D", "A", "B", "E"}},
		{"equal precedence keeps input order", []Policy{
			{Name: "allow-1", Decision: DecisionAllow},
			{Name: "sa-1", Decision: DecisionNonIdentity},
			{Name: "bypass-1", Decision: DecisionBypass},
			{Name: "sa-2", Decision: DecisionNonIdentity},
			{Name: "deny-1", Decision: DecisionDeny},
		}, []string{"sa-1", "bypass-1", "sa-2", "allow-1", "deny-1"}},
		{"unknown decisions run last", []Policy{
			{Name: "odd", Decision: "isolate", Precedence: 1},
			{Name: "sa", Decision: DecisionNonIdentity, Precedence: 2},
		}, []string{"sa", "odd"}},
		{"no policies", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policyNames(EvaluationOrder(tt.policies)); !slices.Equal(got, tt.want) {
				t.Errorf("EvaluationOrder = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvaluationOrderLeavesInputAlone(t *testing.T) {
	policies := documentedPolicies()
	EvaluationOrder(policies)
	if got := policyNames(policies); !slices.Equal(got, []string{"A", "B", "C", "D", "E"}) {
		t.Errorf("input reordered to %q", got)
	}
}
