package access

import (
	"fmt"
	"net/netip"
	"strings"
)

// MatchingRule returns the first of rules that matches req, resolving group references
// through groups. Use it to tell which selector of a policy's include list let a request
// in; DescribeRule turns the result into words.
func MatchingRule(rules []Rule, groups []Group, req Request) (Rule, bool) {
	rc := newRuleContext(groups, req)
	if i := rc.firstMatch(rules, groupStack{}); i >= 0 {
		return rules[i], true
	}
	return Rule{}, false
}

// DescribeRule says what a rule selects, for operators: "service token <id>", "any valid
// service token", "group <name> (<id>)", "everyone", "ip <cidr>", "country <cc>". Group
// names are looked up in groups; an unknown group is described by its id alone.
func DescribeRule(rule Rule, groups []Group) string {
	return newRuleContext(groups, Request{}).describe(rule)
}

// ruleContext evaluates selectors for one request. Group references resolve through
// groups.
type ruleContext struct {
	req    Request
	groups map[string]*Group
}

// groupStack holds the ids of the groups being evaluated, so that a cycle never matches.
type groupStack map[string]bool

func newRuleContext(groups []Group, req Request) *ruleContext {
	byID := make(map[string]*Group, len(groups))
	for i := range groups {
		byID[groups[i].ID] = &groups[i]
	}
	return &ruleContext{req: req, groups: byID}
}

// matches reports whether one selector matches the request. Email, email domain and
// certificate selectors never match: a service-token request has no identity and this
// model has no mutual TLS. Selectors this package does not know never match either.
func (rc *ruleContext) matches(rule Rule, visiting groupStack) bool {
	switch {
	case rule.ServiceToken != nil:
		return rc.req.Credentials == ValidToken && rule.ServiceToken.TokenID != "" &&
			rule.ServiceToken.TokenID == rc.req.TokenID
	case rule.AnyValidServiceToken != nil:
		return rc.req.Credentials == ValidToken
	case rule.Group != nil:
		return rc.groupMatches(rule.Group.ID, visiting)
	case rule.Everyone != nil:
		return true
	case rule.IP != nil:
		return addressMatches(rule.IP.IP, rc.req.IP)
	case rule.Geo != nil:
		return rc.req.Country != "" && strings.EqualFold(rule.Geo.CountryCode, rc.req.Country)
	default:
		return false
	}
}

// groupMatches evaluates a group's rules like a policy's. An unknown group, and a group
// already being evaluated further up (a cycle), do not match.
//
// TODO: results are not memoized, so groups that each refer to the same group several
// times, over many levels, cost exponential time; real configurations nest a level or two.
func (rc *ruleContext) groupMatches(id string, visiting groupStack) bool {
	group, known := rc.groups[id]
	if !known || visiting[id] {
		return false
	}
	visiting[id] = true
	defer delete(visiting, id)
	return rc.check(group.Include, group.Require, group.Exclude, visiting).passed()
}

// ruleCheck records how a set of include, require and exclude rules judged a request:
// the index of the first include that matched, of the first require that failed and of
// the first exclude that matched, each -1 when there is none.
type ruleCheck struct {
	include, require, exclude int
}

// included reports whether some include rule matched.
func (c ruleCheck) included() bool { return c.include >= 0 }

// passed reports whether the rules admit the request: an include matched (OR), every
// require matched (AND) and no exclude matched (NOT).
func (c ruleCheck) passed() bool { return c.include >= 0 && c.require < 0 && c.exclude < 0 }

// check evaluates a rule set. It stops early when no include matches, so a set without
// includes never passes.
func (rc *ruleContext) check(include, require, exclude []Rule, visiting groupStack) ruleCheck {
	result := ruleCheck{include: rc.firstMatch(include, visiting), require: -1, exclude: -1}
	if !result.included() {
		return result
	}
	for i, rule := range require {
		if !rc.matches(rule, visiting) {
			result.require = i
			break
		}
	}
	result.exclude = rc.firstMatch(exclude, visiting)
	return result
}

// checkPolicy evaluates one policy's rules for the request.
func (rc *ruleContext) checkPolicy(policy *Policy) ruleCheck {
	return rc.check(policy.Include, policy.Require, policy.Exclude, groupStack{})
}

// firstMatch returns the index of the first rule that matches, or -1.
func (rc *ruleContext) firstMatch(rules []Rule, visiting groupStack) int {
	for i, rule := range rules {
		if rc.matches(rule, visiting) {
			return i
		}
	}
	return -1
}

// addressMatches reports whether addr is the address, or falls in the CIDR range, that
// selector gives. A selector that does not parse matches nothing.
func addressMatches(selector string, addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	if strings.Contains(selector, "/") {
		prefix, err := netip.ParsePrefix(strings.TrimSpace(selector))
		return err == nil && prefix.Contains(addr)
	}
	single, err := netip.ParseAddr(strings.TrimSpace(selector))
	return err == nil && single.Unmap().WithZone("") == addr
}

// describe says what a rule selects; see DescribeRule.
func (rc *ruleContext) describe(rule Rule) string {
	switch {
	case rule.ServiceToken != nil:
		return "service token " + rule.ServiceToken.TokenID
	case rule.AnyValidServiceToken != nil:
		return "any valid service token"
	case rule.Group != nil:
		return rc.describeGroup(rule.Group.ID)
	case rule.Everyone != nil:
		return "everyone"
	case rule.IP != nil:
		return "ip " + rule.IP.IP
	case rule.Geo != nil:
		return "country " + strings.ToUpper(rule.Geo.CountryCode)
	case rule.Email != nil:
		return "email " + rule.Email.Email
	case rule.EmailDomain != nil:
		return "email domain " + rule.EmailDomain.Domain
	case rule.Certificate != nil:
		return "valid client certificate"
	default:
		return "unsupported selector"
	}
}

func (rc *ruleContext) describeGroup(id string) string {
	if group, known := rc.groups[id]; known && group.Name != "" {
		return fmt.Sprintf("group %s (%s)", group.Name, id)
	}
	return "group " + id
}
