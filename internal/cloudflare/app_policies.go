package cloudflare

import (
	"context"
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
