package access

import (
	"cmp"
	"slices"
)

// EvaluationOrder returns the policies in the order Cloudflare evaluates them: Service
// Auth (non_identity) and Bypass first, by precedence among themselves; then Allow, Block
// (deny) and any other decision, by precedence. Policies with equal precedence keep their
// order in the input. The input is not modified.
//
// Cloudflare's own example: Allow A(1), Block B(2), Service Auth C(3), Bypass D(4) and
// Allow E(5) run as C, D, A, B, E.
func EvaluationOrder(policies []Policy) []Policy {
	ordered := make([]Policy, 0, len(policies))
	for _, i := range evaluationIndexes(policies) {
		ordered = append(ordered, policies[i])
	}
	return ordered
}

// evaluationIndexes is EvaluationOrder as indexes into policies, so that callers can
// point at the original policies.
func evaluationIndexes(policies []Policy) []int {
	indexes := make([]int, len(policies))
	for i := range indexes {
		indexes[i] = i
	}
	slices.SortStableFunc(indexes, func(a, b int) int {
		first, second := &policies[a], &policies[b]
		return cmp.Or(
			cmp.Compare(evaluationPhase(first.Decision), evaluationPhase(second.Decision)),
			cmp.Compare(first.Precedence, second.Precedence),
		)
	})
	return indexes
}

// evaluationPhase is 0 for the decisions evaluated first and 1 for the others.
func evaluationPhase(decision Decision) int {
	if decision == DecisionNonIdentity || decision == DecisionBypass {
		return 0
	}
	return 1
}
