package cloudflare

import (
	"context"
	"net/http"
	"slices"

	"github.com/cfst/cfst/internal/secret"
)

// AlertTypeExpiringToken is Cloudflare's notification a week before a service token
// expires.
const AlertTypeExpiringToken = "expiring_service_token_alert"

// The API-token permissions alert operations need.
const (
	PermNotificationsRead  = "Notifications Read"
	PermNotificationsWrite = "Notifications Write"
)

// alertPolicyName is the name of the notification policies cfst creates.
const alertPolicyName = "cfst: expiring service tokens"

// AlertTarget is where expiry alerts go: an email address, a webhook, or both.
type AlertTarget struct {
	Email string
	// WebhookURL is treated as a secret: chat webhooks carry their credential in the URL.
	WebhookURL  string
	WebhookName string
	// WebhookSecret, if set, is sent by Cloudflare in the cf-webhook-auth header.
	WebhookSecret secret.Secret
}

// AlertPolicy is a notification policy for expiring service tokens.
type AlertPolicy struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Enabled    bool     `json:"enabled"`
	Emails     []string `json:"emails"`
	WebhookIDs []string `json:"webhook_ids"`
}

// alertPolicyWire is a notification policy as the alerting API v3 sends it.
type alertPolicyWire struct {
	ID         string     `json:"id,omitempty"`
	Name       string     `json:"name"`
	AlertType  string     `json:"alert_type"`
	Enabled    bool       `json:"enabled"`
	Mechanisms mechanisms `json:"mechanisms"`
}

type mechanisms struct {
	Email    []mechanism `json:"email,omitempty"`
	Webhooks []mechanism `json:"webhooks,omitempty"`
}

type mechanism struct {
	ID string `json:"id"`
}

type webhookWire struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// ListAlerts returns the account's notification policies for expiring service tokens.
func (c *Client) ListAlerts(ctx context.Context) ([]AlertPolicy, error) {
	if err := c.needAccount("alerts"); err != nil {
		return nil, err
	}
	op := operation{name: "list alerts", permission: PermNotificationsRead}
	var alerts []AlertPolicy
	err := c.run(ctx, op, func(ctx context.Context) error {
		wires, err := c.expiryPolicies(ctx)
		for _, w := range wires {
			alerts = append(alerts, AlertPolicy{ID: w.ID, Name: w.Name, Enabled: w.Enabled,
				Emails:     mechanismIDs(w.Mechanisms.Email),
				WebhookIDs: mechanismIDs(w.Mechanisms.Webhooks)})
		}
		return err
	})
	return alerts, err
}

// EnsureExpiryAlert makes sure an enabled expiring-token notification reaches target,
// creating the webhook destination and the policy if needed. It reports whether it
// created anything.
func (c *Client) EnsureExpiryAlert(ctx context.Context, target AlertTarget) (bool, error) {
	if err := c.needAccount("alerts"); err != nil {
		return false, err
	}
	if target.Email == "" && target.WebhookURL == "" {
		return false, configError("no alert target", "give an email address or a webhook URL")
	}
	c.scrubber.Add(secret.New(target.WebhookURL), target.WebhookSecret)
	op := operation{name: "set up expiry alert", permission: PermNotificationsWrite}
	var created bool
	err := c.run(ctx, op, func(ctx context.Context) (err error) {
		created, err = c.ensureExpiryAlert(ctx, target)
		return err
	})
	return created, err
}

func (c *Client) ensureExpiryAlert(ctx context.Context, target AlertTarget) (bool, error) {
	want := mechanisms{}
	created := false
	if target.Email != "" {
		want.Email = []mechanism{{ID: target.Email}}
	}
	if target.WebhookURL != "" {
		id, isNew, err := c.ensureWebhook(ctx, target)
		if err != nil {
			return false, err
		}
		want.Webhooks, created = []mechanism{{ID: id}}, isNew
	}
	policies, err := c.expiryPolicies(ctx)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(policies, func(p alertPolicyWire) bool { return covers(p, want) }) {
		return created, nil
	}
	policy := alertPolicyWire{Name: alertPolicyName, AlertType: AlertTypeExpiringToken,
		Enabled: true, Mechanisms: want}
	return true, c.sendResult(ctx, http.MethodPost, c.alertingPath()+"/policies", policy, nil)
}

// ensureWebhook returns the id of the webhook destination with the target's URL,
// creating it if there is none.
func (c *Client) ensureWebhook(ctx context.Context, target AlertTarget) (string, bool, error) {
	path := c.alertingPath() + "/destinations/webhooks"
	var hooks []webhookWire
	if err := c.getResult(ctx, path, &hooks); err != nil {
		return "", false, err
	}
	for _, hook := range hooks {
		if hook.URL == target.WebhookURL {
			return hook.ID, false, nil
		}
	}
	name := target.WebhookName
	if name == "" {
		name = "cfst"
	}
	hook := webhookWire{Name: name, URL: target.WebhookURL, Secret: target.WebhookSecret.Reveal()}
	var made webhookWire
	if err := c.sendResult(ctx, http.MethodPost, path, hook, &made); err != nil {
		return "", false, err
	}
	return made.ID, true, nil
}

// expiryPolicies returns the account's notification policies of the expiring-token type.
func (c *Client) expiryPolicies(ctx context.Context) ([]alertPolicyWire, error) {
	var all []alertPolicyWire
	if err := c.getResult(ctx, c.alertingPath()+"/policies", &all); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p alertPolicyWire) bool {
		return p.AlertType != AlertTypeExpiringToken
	}), nil
}

// covers reports whether an enabled policy sends to every mechanism in want.
func covers(p alertPolicyWire, want mechanisms) bool {
	has := func(have, wanted []mechanism) bool {
		for _, w := range wanted {
			if !slices.Contains(have, w) {
				return false
			}
		}
		return true
	}
	return p.Enabled && has(p.Mechanisms.Email, want.Email) &&
		has(p.Mechanisms.Webhooks, want.Webhooks)
}

func mechanismIDs(ms []mechanism) []string {
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func (c *Client) alertingPath() string { return "accounts/" + c.accountID + "/alerting/v3" }
