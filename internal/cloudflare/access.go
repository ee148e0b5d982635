package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	cfsdk "github.com/cloudflare/cloudflare-go/v6"

	"github.com/cfst/cfst/internal/access"
)

// The API-token permissions Access operations need.
const (
	PermAppsRead   = "Access: Apps and Policies Read"
	PermAppsWrite  = "Access: Apps and Policies Write"
	PermGroupsRead = "Access: Organizations, Identity Providers, and Groups Read"
)

// Applications, policies and groups go through the SDK's generic requests with the types
// of package access: the SDK models them as large unions that would need converting.

// appScopes remembers which scope path each application lives at, so that calls about
// one application need not search every scope.
type appScopes struct {
	mu    sync.Mutex
	scope map[string]string
}

func (s *appScopes) get(appID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, ok := s.scope[appID]
	return path, ok
}

func (s *appScopes) put(appID, scopePath string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scope == nil {
		s.scope = map[string]string{}
	}
	s.scope[appID] = scopePath
}

// ListApplications returns the Access applications of every configured scope, account
// first.
func (c *Client) ListApplications(ctx context.Context) ([]access.Application, error) {
	op := operation{name: "list access applications", permission: PermAppsRead}
	var apps []access.Application
	err := c.run(ctx, op, func(ctx context.Context) error {
		for _, scope := range c.scopePaths() {
			err := c.listAll(ctx, scope+"/access/apps", url.Values{}, 0,
				func(raw json.RawMessage) error {
					var app access.Application
					if err := c.decodeResult(raw, &app); err != nil {
						return err
					}
					c.apps.put(app.ID, scope)
					apps = append(apps, app)
					return nil
				})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return apps, err
}

// GetApplication returns one Access application, looked up in every configured scope.
func (c *Client) GetApplication(ctx context.Context, appID string) (access.Application, error) {
	op := appOperation("get access application", PermAppsRead, appID)
	var app access.Application
	err := c.run(ctx, op, func(ctx context.Context) error {
		raw, _, err := c.getAppRaw(ctx, appID)
		if err != nil {
			return err
		}
		return c.decodeResult(raw, &app)
	})
	return app, err
}

func appOperation(name, permission, appID string) operation {
	return operation{name: name, permission: permission,
		subject: fmt.Sprintf("access application %q", appID)}
}

// getAppRaw returns the application's JSON as the API sent it and its scope path.
func (c *Client) getAppRaw(ctx context.Context, appID string) (json.RawMessage, string, error) {
	scopes := c.scopePaths()
	if known, ok := c.apps.get(appID); ok {
		scopes = []string{known}
	}
	var err error
	for _, scope := range scopes {
		var raw json.RawMessage
		err = c.getResult(ctx, appPath(scope, appID), &raw)
		if err == nil {
			c.apps.put(appID, scope)
			return raw, scope, nil
		}
		if !isStatus(err, http.StatusNotFound) {
			return nil, "", err
		}
	}
	return nil, "", err
}

func appPath(scope, appID string) string {
	return scope + "/access/apps/" + url.PathEscape(appID)
}

// isStatus reports whether err is an API answer with this HTTP status.
func isStatus(err error, status int) bool {
	var apiErr *cfsdk.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == status
}

// policyLink is how an application refers to a policy it uses.
type policyLink struct {
	ID         string `json:"id"`
	Precedence int    `json:"precedence"`
}

// AttachPolicy makes the application use the policy at this precedence (1 runs first). A
// precedence of 0 puts a new policy after the application's others and leaves an attached
// one where it is; policies at or after the precedence move down by one.
// The application is otherwise sent back exactly as the API described it.
func (c *Client) AttachPolicy(ctx context.Context, appID, policyID string, precedence int,
) (access.Application, error) {
	op := appOperation("attach policy", PermAppsWrite, appID)
	return c.editPolicyLinks(ctx, op, appID, func(links []policyLink) []policyLink {
		return attach(links, policyID, precedence)
	})
}

// DetachPolicy makes the application stop using the policy. Detaching a policy the
// application does not use changes nothing.
func (c *Client) DetachPolicy(ctx context.Context, appID, policyID string,
) (access.Application, error) {
	op := appOperation("detach policy", PermAppsWrite, appID)
	return c.editPolicyLinks(ctx, op, appID, func(links []policyLink) []policyLink {
		return slices.DeleteFunc(links, func(l policyLink) bool { return l.ID == policyID })
	})
}

// editPolicyLinks reads the application, lets edit change its policy links, and writes it
// back with PUT if they changed. Fields cfst does not model travel through untouched.
func (c *Client) editPolicyLinks(ctx context.Context, op operation, appID string,
	edit func([]policyLink) []policyLink) (access.Application, error) {
	var app access.Application
	err := c.run(ctx, op, func(ctx context.Context) error {
		raw, scope, err := c.getAppRaw(ctx, appID)
		if err != nil {
			return err
		}
		var fields map[string]json.RawMessage
		var current struct {
			Policies []policyLink `json:"policies"`
		}
		if json.Unmarshal(raw, &fields) != nil || json.Unmarshal(raw, &current) != nil {
			return c.unreadable("access application")
		}
		links := edit(slices.Clone(current.Policies))
		if slices.Equal(links, current.Policies) {
			return c.decodeResult(raw, &app)
		}
		fields["policies"], _ = json.Marshal(links)
		return c.sendResult(ctx, http.MethodPut, appPath(scope, appID), fields, &app)
	})
	return app, err
}

// attach returns links with policyID at precedence, renumbered 1, 2, 3... in order. With
// precedence 0, a policy already linked stays where it is.
func attach(links []policyLink, policyID string, precedence int) []policyLink {
	linked := slices.ContainsFunc(links, func(l policyLink) bool { return l.ID == policyID })
	if linked && precedence == 0 {
		return links
	}
	links = slices.DeleteFunc(links, func(l policyLink) bool { return l.ID == policyID })
	slices.SortStableFunc(links, func(a, b policyLink) int { return a.Precedence - b.Precedence })
	at := len(links)
	if precedence > 0 && precedence <= len(links) {
		at = precedence - 1
	}
	links = slices.Insert(links, at, policyLink{ID: policyID})
	for i := range links {
		links[i].Precedence = i + 1
	}
	return links
}

// ListAppPolicies returns the policies an application uses, reusable ones included, with
// their precedence.
func (c *Client) ListAppPolicies(ctx context.Context, appID string) ([]access.Policy, error) {
	op := appOperation("list application policies", PermAppsRead, appID)
	var policies []access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		scope, err := c.appScope(ctx, appID)
		if err != nil {
			return err
		}
		return c.listAll(ctx, appPath(scope, appID)+"/policies", url.Values{}, 0,
			c.collectPolicies(&policies))
	})
	return policies, err
}

// UpdateAppPolicy replaces an application-scoped (legacy) policy with p, matched by p.ID.
func (c *Client) UpdateAppPolicy(ctx context.Context, appID string, p access.Policy,
) (access.Policy, error) {
	op := operation{name: "update application policy", permission: PermAppsWrite,
		subject: fmt.Sprintf("policy %q of access application %q", p.ID, appID)}
	var updated access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		scope, err := c.appScope(ctx, appID)
		if err != nil {
			return err
		}
		path := appPath(scope, appID) + "/policies/" + url.PathEscape(p.ID)
		return c.sendResult(ctx, http.MethodPut, path, newPolicyBody(p), &updated)
	})
	return updated, err
}

// appScope returns the scope path of an application, asking the API only when more than
// one scope is configured and the application has not been seen yet.
func (c *Client) appScope(ctx context.Context, appID string) (string, error) {
	if scopes := c.scopePaths(); len(scopes) == 1 {
		return scopes[0], nil
	}
	if scope, ok := c.apps.get(appID); ok {
		return scope, nil
	}
	_, scope, err := c.getAppRaw(ctx, appID)
	return scope, err
}

func (c *Client) collectPolicies(policies *[]access.Policy) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		var p access.Policy
		if err := c.decodeResult(raw, &p); err != nil {
			return err
		}
		*policies = append(*policies, p)
		return nil
	}
}

// policyBody is what create and update send: the fields a client may set.
type policyBody struct {
	Name       string          `json:"name"`
	Decision   access.Decision `json:"decision"`
	Include    []access.Rule   `json:"include"`
	Exclude    []access.Rule   `json:"exclude"`
	Require    []access.Rule   `json:"require"`
	Precedence int             `json:"precedence,omitempty"`
}

func newPolicyBody(p access.Policy) policyBody {
	orEmpty := func(rules []access.Rule) []access.Rule {
		if rules == nil {
			return []access.Rule{}
		}
		return rules
	}
	return policyBody{Name: p.Name, Decision: p.Decision, Include: orEmpty(p.Include),
		Exclude: orEmpty(p.Exclude), Require: orEmpty(p.Require), Precedence: p.Precedence}
}

// ListPolicies returns the account's reusable policies.
func (c *Client) ListPolicies(ctx context.Context) ([]access.Policy, error) {
	if err := c.needAccount("reusable policies"); err != nil {
		return nil, err
	}
	op := operation{name: "list reusable policies", permission: PermAppsRead}
	var policies []access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		return c.listAll(ctx, c.policiesPath(), url.Values{}, 0, c.collectPolicies(&policies))
	})
	return policies, err
}

// GetPolicy returns one reusable policy.
func (c *Client) GetPolicy(ctx context.Context, policyID string) (access.Policy, error) {
	return c.policyCall(ctx, "get reusable policy", PermAppsRead, http.MethodGet,
		policyID, nil)
}

// CreatePolicy creates a reusable policy from p (its ID and Precedence are ignored) and
// returns it as the API stored it.
func (c *Client) CreatePolicy(ctx context.Context, p access.Policy) (access.Policy, error) {
	p.Precedence = 0
	return c.policyCall(ctx, "create reusable policy", PermAppsWrite, http.MethodPost, "",
		newPolicyBody(p))
}

// UpdatePolicy replaces the reusable policy p.ID with p.
func (c *Client) UpdatePolicy(ctx context.Context, p access.Policy) (access.Policy, error) {
	p.Precedence = 0
	return c.policyCall(ctx, "update reusable policy", PermAppsWrite, http.MethodPut, p.ID,
		newPolicyBody(p))
}

// DeletePolicy deletes a reusable policy.
func (c *Client) DeletePolicy(ctx context.Context, policyID string) error {
	_, err := c.policyCall(ctx, "delete reusable policy", PermAppsWrite, http.MethodDelete,
		policyID, nil)
	return err
}

// policyCall sends one request about a reusable policy; an empty id means the collection.
func (c *Client) policyCall(ctx context.Context, name, permission, method, id string,
	body any) (access.Policy, error) {
	if err := c.needAccount("reusable policies"); err != nil {
		return access.Policy{}, err
	}
	op := operation{name: name, permission: permission}
	path := c.policiesPath()
	if id != "" {
		op.subject = fmt.Sprintf("reusable policy %q", id)
		path += "/" + url.PathEscape(id)
	}
	var p access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		if method == http.MethodDelete {
			return c.sendResult(ctx, method, path, nil, nil)
		}
		return c.sendResult(ctx, method, path, body, &p)
	})
	return p, err
}

func (c *Client) policiesPath() string { return "accounts/" + c.accountID + "/access/policies" }

// ListGroups returns the Access groups of every configured scope, account first.
func (c *Client) ListGroups(ctx context.Context) ([]access.Group, error) {
	op := operation{name: "list access groups", permission: PermGroupsRead}
	var groups []access.Group
	err := c.run(ctx, op, func(ctx context.Context) error {
		for _, scope := range c.scopePaths() {
			err := c.listAll(ctx, scope+"/access/groups", url.Values{}, 0,
				func(raw json.RawMessage) error {
					var g access.Group
					if err := c.decodeResult(raw, &g); err != nil {
						return err
					}
					groups = append(groups, g)
					return nil
				})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return groups, err
}
