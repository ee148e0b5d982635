package emulator

import (
	"fmt"
	"regexp"
	"strings"
)

func (w *World) checkApps() error {
	idx := w.refs()
	ids, names, policyIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range w.Policies {
		policyIDs[p.ID] = true
	}
	for i := range w.Applications {
		app := &w.Applications[i]
		path := fieldPath{"applications", i}
		if err := checkName(path, app.Name, names); err != nil {
			return err
		}
		if !validID(app.ID) || ids[app.ID] {
			return badID(path, app.ID)
		}
		ids[app.ID] = true
		if err := checkWorldAppFields(path, app); err != nil {
			return err
		}
		if err := idx.checkAppPolicies(path, app, policyIDs); err != nil {
			return err
		}
	}
	return nil
}

func checkWorldAppFields(path fieldPath, app *WorldApp) error {
	if err := checkScope(path, app.Scope); err != nil {
		return err
	}
	if err := checkDomain(app.Domain); err != nil {
		return problemAt(path.with("domain"), "%v", err)
	}
	for i, d := range app.Destinations {
		if err := checkDomain(d); err != nil {
			return problemAt(path.with("destinations", i), "%v", err)
		}
	}
	if err := checkOrigin(app.Origin); err != nil {
		return problemAt(path.with("origin"), "%v", err)
	}
	if app.SessionDuration != "" {
		if _, err := parsePositiveDuration(app.SessionDuration); err != nil {
			return problemAt(path.with("session_duration"), "%v", err)
		}
	}
	return nil
}

// checkAppPolicies resolves references to reusable policies and checks inline ones. As in
// the API, one application cannot mix the two.
func (idx refIndex) checkAppPolicies(path fieldPath, app *WorldApp,
	policyIDs map[string]bool) error {
	precedences := map[int]bool{}
	refs, inline := 0, 0
	for i := range app.Policies {
		p := &app.Policies[i]
		ppath := path.with("policies", i)
		if p.Precedence < 1 || precedences[p.Precedence] {
			return problemAt(ppath.with("precedence"),
				"want a positive precedence, unique within the application, got %d", p.Precedence)
		}
		precedences[p.Precedence] = true
		if p.Ref != "" {
			refs++
			if err := idx.resolvePolicyRef(ppath, p); err != nil {
				return err
			}
			continue
		}
		inline++
		if err := idx.checkInlinePolicy(ppath, p, policyIDs); err != nil {
			return err
		}
	}
	if refs > 0 && inline > 0 {
		return problemAt(path.with("policies"),
			"reusable and inline policies cannot be mixed in one application")
	}
	return nil
}

func (idx refIndex) resolvePolicyRef(path fieldPath, p *WorldAppPolicy) error {
	inline := p.WorldPolicy
	inline.ID = ""
	if inline.Name != "" || inline.Decision != "" || len(inline.Include) > 0 {
		return problemAt(path, "ref names a reusable policy and cannot have inline fields")
	}
	id, ok := idx.policies[p.Ref]
	if !ok {
		return problemAt(path.with("ref"),
			"unknown policy %q (want the name or id of one of policies)", p.Ref)
	}
	p.Ref, p.ID = id, id
	return nil
}

func (idx refIndex) checkInlinePolicy(path fieldPath, p *WorldAppPolicy,
	ids map[string]bool) error {
	if strings.TrimSpace(p.Name) == "" {
		return problemAt(path.with("name"), "missing name (or ref, to use a reusable policy)")
	}
	if nameTooLong(p.Name) {
		return problemAt(path.with("name"), "name is longer than %d characters", maxNameLength)
	}
	if !validID(p.ID) || ids[p.ID] {
		return badID(path, p.ID)
	}
	ids[p.ID] = true
	return idx.checkPolicy(path, &p.WorldPolicy)
}

// hostPattern matches a lowercase hostname, perhaps starting with "*.".
var hostPattern = regexp.MustCompile(
	`^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// checkDomain checks an application domain or public destination: a hostname, perhaps
// starting with "*.", and an optional path, without scheme or port.
func checkDomain(domain string) error {
	host, _, _ := strings.Cut(domain, "/")
	switch {
	case domain == "":
		return fmt.Errorf("missing domain")
	case strings.Contains(domain, "://"):
		return fmt.Errorf("want a hostname and optional path without a scheme, got %q", domain)
	case strings.Contains(host, ":"):
		return fmt.Errorf("ports are not supported in application domains, got %q", domain)
	case !hostPattern.MatchString(strings.ToLower(host)):
		return fmt.Errorf("want a hostname such as app.example.com, got %q", host)
	case strings.ContainsAny(domain, " \t?#"):
		return fmt.Errorf("want a hostname and path without spaces or query, got %q", domain)
	}
	return nil
}
