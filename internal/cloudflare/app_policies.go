package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/cfst/cfst/internal/access"
)

// CreateAppPolicy adds an application-scoped (legacy) policy to the application, after
// its other policies unless p.Precedence says where. p.ID is ignored.
func (c *Client) CreateAppPolicy(ctx context.Context, appID string, p access.Policy,
) (access.Policy, error) {
	op := appOperation("create application policy", PermAppsWrite, appID)
	var created access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		scope, err := c.appScope(ctx, appID)
		if err != nil {
			return err
		}
		return c.sendResult(ctx, http.MethodPost, appPath(scope, appID)+"/policies",
			newPolicyBody(p), &created)
	})
	return created, err
}

// DeleteAppPolicy deletes an application-scoped policy of the application.
func (c *Client) DeleteAppPolicy(ctx context.Context, appID, policyID string) error {
	op := operation{name: "delete application policy", permission: PermAppsWrite,
		subject: fmt.Sprintf("policy %q of access application %q", policyID, appID)}
	return c.run(ctx, op, func(ctx context.Context) error {
		scope, err := c.appScope(ctx, appID)
		if err != nil {
			return err
		}
		return c.sendResult(ctx, http.MethodDelete, appPolicyPath(scope, appID, policyID),
			nil, nil)
	})
}

// EditAppPolicy reads an application-scoped policy, lets edit change its rules, and
// writes it back with PUT when edit reports a change. Every field the API sent, those
// package access does not model (session_duration, ...) included, is sent back as it was,
// so that an edit and its reverse leave the policy exactly as they found it.
func (c *Client) EditAppPolicy(ctx context.Context, appID, policyID string,
	edit func(*access.Policy) bool) (access.Policy, error) {
	op := operation{name: "update application policy", permission: PermAppsWrite,
		subject: fmt.Sprintf("policy %q of access application %q", policyID, appID)}
	var policy access.Policy
	err := c.run(ctx, op, func(ctx context.Context) error {
		scope, err := c.appScope(ctx, appID)
		if err != nil {
			return err
		}
		path := appPolicyPath(scope, appID, policyID)
		var raw json.RawMessage
		if err := c.getResult(ctx, path, &raw); err != nil {
			return err
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || json.Unmarshal(raw, &policy) != nil {
			return c.unreadable("application policy")
		}
		if !edit(&policy) {
			return nil
		}
		for key, value := range map[string][]access.Rule{"include": policy.Include,
			"exclude": policy.Exclude, "require": policy.Require} {
			fields[key], _ = json.Marshal(orEmptyRules(value))
		}
		return c.sendResult(ctx, http.MethodPut, path, fields, &policy)
	})
	return policy, err
}

func orEmptyRules(rules []access.Rule) []access.Rule {
	if rules == nil {
		return []access.Rule{}
	}
	return rules
}

func appPolicyPath(scope, appID, policyID string) string {
	return appPath(scope, appID) + "/policies/" + url.PathEscape(policyID)
}

// AppendPolicy makes the application use the policy after all its others, at one more
// than the highest precedence it has. Unlike AttachPolicy it renumbers nothing, so that
// DetachPolicy restores the application's policies exactly. A policy already attached
// stays where it is.
func (c *Client) AppendPolicy(ctx context.Context, appID, policyID string,
) (access.Application, error) {
	op := appOperation("attach policy", PermAppsWrite, appID)
	return c.editPolicyLinks(ctx, op, appID, func(links []policyLink) []policyLink {
		if slices.ContainsFunc(links, func(l policyLink) bool { return l.ID == policyID }) {
			return links
		}
		highest := 0
		for _, link := range links {
			highest = max(highest, link.Precedence)
		}
		return append(links, policyLink{ID: policyID, Precedence: highest + 1})
	})
}
