package cloudflare

import (
	"net/http"
	"slices"
	"testing"

	"github.com/cfst/cfst/internal/secret"
)

func TestEnsureExpiryAlert(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	ctx := t.Context()
	email := AlertTarget{Email: "ops@example.com"}
	hook := AlertTarget{WebhookURL: "https://hooks.example.com/T0/B0/abc", WebhookName: "chat",
		WebhookSecret: secret.New("hook-secret")}
	steps := []struct {
		target      AlertTarget
		wantCreated bool
	}{
		{email, true},
		{email, false},
		{hook, true},
		{hook, false},
		{AlertTarget{Email: "ops@example.com", WebhookURL: hook.WebhookURL}, true},
	}
	for i, step := range steps {
		created, err := c.EnsureExpiryAlert(ctx, step.target)
		if err != nil || created != step.wantCreated {
			t.Fatalf("step %d: created %v, %v; want %v", i, created, err, step.wantCreated)
		}
	}
	var hooks []webhookWire
	if err := c.getResult(ctx, c.alertingPath()+"/destinations/webhooks", &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].Name != "chat" || hooks[0].URL != hook.WebhookURL {
		t.Errorf("webhooks: %+v", hooks)
	}

	alerts, err := c.ListAlerts(ctx)
	if err != nil || len(alerts) != 3 {
		t.Fatalf("alerts: %+v, %v", alerts, err)
	}
	last := alerts[2]
	if !last.Enabled || last.Name != alertPolicyName ||
		!slices.Equal(last.Emails, []string{"ops@example.com"}) ||
		!slices.Equal(last.WebhookIDs, []string{hooks[0].ID}) {
		t.Errorf("last alert: %+v", last)
	}

	_, err = c.EnsureExpiryAlert(ctx, AlertTarget{})
	requireKind(t, err, KindConfig)
	_, err = c.EnsureExpiryAlert(ctx, AlertTarget{Email: "not-an-address"})
	requireKind(t, err, KindInvalid)
}

func TestAlertErrors(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)

	reader := newClient(t, srv, func(cfg *Config) { cfg.APIToken = secret.New(readerAPIToken) })
	_, err := reader.ListAlerts(t.Context())
	if e := requireKind(t, err, KindPermission); e.Permission != PermNotificationsRead {
		t.Errorf("permission %q", e.Permission)
	}

	zoneOnly := newClient(t, srv, zoneScope(srv))
	_, err = zoneOnly.ListAlerts(t.Context())
	requireKind(t, err, KindConfig)
	_, err = zoneOnly.EnsureExpiryAlert(t.Context(), AlertTarget{Email: "ops@example.com"})
	requireKind(t, err, KindConfig)

	// An API that echoes the webhook URL or secret back must not get them into errors:
	// chat webhooks carry their credential in the URL.
	target := AlertTarget{WebhookURL: "https://hooks.example.com/services/credential-in-url",
		WebhookSecret: secret.New("hook-secret-value")}
	tamper := func([]byte) (int, string) {
		return http.StatusBadRequest, apiErrorBody(17000, "bad webhook "+target.WebhookURL+
			" "+target.WebhookSecret.Reveal())
	}
	echoing := newClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = tamperingClient(srv.Client(), &tamper)
	})
	_, err = echoing.EnsureExpiryAlert(t.Context(), target)
	requireKind(t, err, KindInvalid, "credential-in-url", "hook-secret-value")
}
