package emulator

import (
	"fmt"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// policyRequest is the body that creates or replaces a policy, and the inline form of an
// application's policies entry.
type policyRequest struct {
	ID              *string          `json:"id"`
	Name            *string          `json:"name"`
	Decision        *access.Decision `json:"decision"`
	Include         []access.Rule    `json:"include"`
	Exclude         []access.Rule    `json:"exclude"`
	Require         []access.Rule    `json:"require"`
	Precedence      *int             `json:"precedence"`
	SessionDuration *string          `json:"session_duration"`
}

// isLink reports whether the entry only names a policy, as {id, precedence}.
func (req policyRequest) isLink() bool {
	return req.ID != nil && req.Name == nil && req.Decision == nil && req.Include == nil &&
		req.Exclude == nil && req.Require == nil && req.SessionDuration == nil
}

// checkPolicyRequest checks a policy body against the live state. st.mu must be held.
func (st *state) checkPolicyRequest(req policyRequest) error {
	if req.Name == nil {
		return errInvalid("name is required")
	}
	if err := checkAPIName(*req.Name); err != nil {
		return err
	}
	if req.Decision == nil || !validDecision(*req.Decision) {
		return errInvalid("decision: want allow, deny, non_identity or bypass")
	}
	if req.SessionDuration != nil {
		if _, err := parsePositiveDuration(*req.SessionDuration); err != nil {
			return errInvalid("session_duration: %v", err)
		}
	}
	if len(req.Include) == 0 {
		return errInvalid("include: a policy needs at least one include rule")
	}
	return st.checkRuleSets(req.Include, req.Exclude, req.Require)
}

// checkRuleSets checks include, exclude and require rules. st.mu must be held.
func (st *state) checkRuleSets(include, exclude, require []access.Rule) error {
	sets := map[string][]access.Rule{"include": include, "exclude": exclude, "require": require}
	for _, field := range []string{"include", "exclude", "require"} {
		for i, r := range sets[field] {
			if problem := st.ruleProblem(r); problem != "" {
				return errInvalid("%s[%d]: %s", field, i, problem)
			}
		}
	}
	return nil
}

func (st *state) ruleProblem(r access.Rule) string {
	if n := ruleSelectors(r); n != 1 {
		return fmt.Sprintf("want exactly one selector (%s), got %d", ruleSelectorList, n)
	}
	switch {
	case r.ServiceToken != nil && !slices.ContainsFunc(st.tokens, func(t *tokenRecord) bool {
		return t.id == r.ServiceToken.TokenID
	}):
		return fmt.Sprintf("service_token: no service token has id %q", r.ServiceToken.TokenID)
	case r.Group != nil && st.findGroup(r.Group.ID) == nil:
		return fmt.Sprintf("group: no Access group has id %q", r.Group.ID)
	}
	return ruleValueProblem(r)
}

// newPolicy makes a policy record from a checked request.
func newPolicy(id string, req policyRequest, appID string, now time.Time) *policyRecord {
	rec := &policyRecord{policy: access.Policy{ID: id}, appID: appID, createdAt: now}
	rec.replace(req, now)
	return rec
}

// replace sets every field of a policy from a checked request.
func (p *policyRecord) replace(req policyRequest, now time.Time) {
	p.policy.Name, p.policy.Decision = *req.Name, *req.Decision
	p.policy.Include = cloneRules(req.Include)
	p.policy.Exclude = cloneRules(req.Exclude)
	p.policy.Require = cloneRules(req.Require)
	p.policy.Reusable = p.appID == ""
	p.sessionDuration = ""
	if req.SessionDuration != nil {
		p.sessionDuration = *req.SessionDuration
	}
	p.updatedAt = now
}

// findPolicy returns the policy with id, reusable or app-scoped. st.mu must be held.
func (st *state) findPolicy(id string) *policyRecord {
	for _, p := range st.policies {
		if p.policy.ID == id {
			return p
		}
	}
	return nil
}

// findGroup returns the group with id, in any scope. st.mu must be held.
func (st *state) findGroup(id string) *groupRecord {
	for _, g := range st.groupList {
		if g.group.ID == id {
			return g
		}
	}
	return nil
}

// findApp returns the application with id, in any scope. st.mu must be held.
func (st *state) findApp(id string) *appRecord {
	for _, a := range st.apps {
		if a.app.ID == id {
			return a
		}
	}
	return nil
}

// appCount counts the applications a policy is attached to. st.mu must be held.
func (st *state) appCount(policyID string) int {
	n := 0
	for _, a := range st.apps {
		if slices.ContainsFunc(a.links, func(l policyLink) bool {
			return l.policyID == policyID
		}) {
			n++
		}
	}
	return n
}

// policyJSON is a policy as the API shows it. Precedence is set when it is shown as part
// of an application; AppCount for reusable policies.
type policyJSON struct {
	access.Policy
	SessionDuration string    `json:"session_duration,omitempty"`
	AppCount        *int      `json:"app_count,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// toJSON shows a policy. st.mu must be held.
func (st *state) policyToJSON(p *policyRecord, precedence int) policyJSON {
	out := policyJSON{Policy: policyCopy(p.policy, precedence),
		SessionDuration: p.sessionDuration, CreatedAt: p.createdAt, UpdatedAt: p.updatedAt}
	if p.appID == "" {
		count := st.appCount(p.policy.ID)
		out.AppCount = &count
	}
	return out
}

// idResult is the answer of a delete that answers with the id only.
type idResult struct {
	ID string `json:"id"`
}
