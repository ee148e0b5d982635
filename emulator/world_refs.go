package emulator

import (
	"net/netip"
	"strings"

	"github.com/cfst/cfst/internal/access"
)

// refIndex resolves the names and ids that rules and applications refer to.
type refIndex struct {
	tokens   map[string]string // id or name -> id
	groups   map[string]string
	policies map[string]string // reusable policies only
}

func (w *World) refs() refIndex {
	idx := refIndex{tokens: map[string]string{}, groups: map[string]string{},
		policies: map[string]string{}}
	for _, t := range w.ServiceTokens {
		idx.tokens[t.Name], idx.tokens[t.ID] = t.ID, t.ID
	}
	for _, g := range w.Groups {
		idx.groups[g.Name], idx.groups[g.ID] = g.ID, g.ID
	}
	for _, p := range w.Policies {
		idx.policies[p.Name], idx.policies[p.ID] = p.ID, p.ID
	}
	return idx
}

func (w *World) checkGroups() error {
	idx := w.refs()
	ids, names := map[string]bool{}, map[string]bool{}
	for i := range w.Groups {
		g := &w.Groups[i]
		path := fieldPath{"groups", i}
		if err := checkName(path, g.Name, names); err != nil {
			return err
		}
		if !validID(g.ID) || ids[g.ID] {
			return badID(path, g.ID)
		}
		ids[g.ID] = true
		if err := checkScope(path, g.Scope); err != nil {
			return err
		}
		if err := idx.resolveRuleSets(path, g.Include, g.Exclude, g.Require); err != nil {
			return err
		}
	}
	for i, g := range w.Groups {
		if groupCycle(w.Groups, g.ID, map[string]bool{}) {
			return problemAt(fieldPath{"groups", i}, "group %q includes itself through its rules",
				g.Name)
		}
	}
	return nil
}

// groupCycle reports whether following group rules from id comes back to a group already
// on the path.
func groupCycle(groups []WorldGroup, id string, onPath map[string]bool) bool {
	if onPath[id] {
		return true
	}
	onPath[id] = true
	defer delete(onPath, id)
	for _, g := range groups {
		if g.ID != id {
			continue
		}
		for _, rules := range [][]access.Rule{g.Include, g.Exclude, g.Require} {
			for _, r := range rules {
				if r.Group != nil && groupCycle(groups, r.Group.ID, onPath) {
					return true
				}
			}
		}
	}
	return false
}

func (w *World) checkPolicies() error {
	idx := w.refs()
	ids, names := map[string]bool{}, map[string]bool{}
	for i := range w.Policies {
		p := &w.Policies[i]
		path := fieldPath{"policies", i}
		if err := checkName(path, p.Name, names); err != nil {
			return err
		}
		if !validID(p.ID) || ids[p.ID] {
			return badID(path, p.ID)
		}
		ids[p.ID] = true
		if err := idx.checkPolicy(path, p); err != nil {
			return err
		}
	}
	return nil
}

func (idx refIndex) checkPolicy(path fieldPath, p *WorldPolicy) error {
	if !validDecision(p.Decision) {
		return problemAt(path.with("decision"),
			"unknown decision %q (want allow, deny, non_identity or bypass)", p.Decision)
	}
	if p.SessionDuration != "" {
		if _, err := parsePositiveDuration(p.SessionDuration); err != nil {
			return problemAt(path.with("session_duration"), "%v", err)
		}
	}
	if len(p.Include) == 0 {
		return problemAt(path.with("include"), "a policy needs at least one include rule")
	}
	return idx.resolveRuleSets(path, p.Include, p.Exclude, p.Require)
}

func validDecision(d access.Decision) bool {
	switch d {
	case access.DecisionAllow, access.DecisionDeny, access.DecisionNonIdentity,
		access.DecisionBypass:
		return true
	}
	return false
}

func (idx refIndex) resolveRuleSets(path fieldPath, include, exclude,
	require []access.Rule) error {
	sets := []struct {
		field string
		rules []access.Rule
	}{{"include", include}, {"exclude", exclude}, {"require", require}}
	for _, set := range sets {
		if set.field == "include" && len(set.rules) == 0 {
			return problemAt(path.with("include"), "at least one include rule is needed")
		}
		for i := range set.rules {
			if err := idx.resolveRule(path.with(set.field, i), &set.rules[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

const ruleSelectorList = "service_token, any_valid_service_token, group, everyone, ip, geo, " +
	"email, email_domain or certificate"

// resolveRule checks one rule and replaces token and group names with ids.
func (idx refIndex) resolveRule(path fieldPath, r *access.Rule) error {
	if n := ruleSelectors(*r); n != 1 {
		return problemAt(path, "want exactly one selector (%s), got %d", ruleSelectorList, n)
	}
	switch {
	case r.ServiceToken != nil:
		id, ok := idx.tokens[r.ServiceToken.TokenID]
		if !ok {
			return problemAt(path.with("service_token", "token_id"),
				"unknown service token %q (want the name or id of one of service_tokens)",
				r.ServiceToken.TokenID)
		}
		r.ServiceToken.TokenID = id
	case r.Group != nil:
		id, ok := idx.groups[r.Group.ID]
		if !ok {
			return problemAt(path.with("group", "id"),
				"unknown group %q (want the name or id of one of groups)", r.Group.ID)
		}
		r.Group.ID = id
	}
	if detail := ruleValueProblem(*r); detail != "" {
		return problemAt(path, "%s", detail)
	}
	return nil
}

// ruleSelectors counts the selectors a rule sets; a valid rule has exactly one.
func ruleSelectors(r access.Rule) int {
	n := 0
	for _, set := range []bool{r.ServiceToken != nil, r.AnyValidServiceToken != nil,
		r.Group != nil, r.Everyone != nil, r.IP != nil, r.Geo != nil, r.Email != nil,
		r.EmailDomain != nil, r.Certificate != nil} {
		if set {
			n++
		}
	}
	return n
}

// ruleValueProblem describes what is wrong with the value of a rule's selector, or "".
func ruleValueProblem(r access.Rule) string {
	switch {
	case r.IP != nil && !validIPRange(r.IP.IP):
		return "ip: want an address or CIDR range, got " + quote(r.IP.IP)
	case r.Geo != nil && len(r.Geo.CountryCode) != 2:
		return "geo: want a two-letter country code, got " + quote(r.Geo.CountryCode)
	case r.Email != nil && !strings.Contains(r.Email.Email, "@"):
		return "email: want an email address, got " + quote(r.Email.Email)
	case r.EmailDomain != nil && r.EmailDomain.Domain == "":
		return "email_domain: missing domain"
	}
	return ""
}

func validIPRange(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
