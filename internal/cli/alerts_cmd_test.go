package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/cloudflare"
)

// alertsWorld has an API token with every permission and one without notifications.
const alertsWorld = `
team: alerts
api_tokens:
  - {name: all, value: alerts-cmd-test-api-token, permissions: [all]}
  - {name: tokens-only, value: alerts-cmd-tokens-only, permissions: [service_tokens:write]}
service_tokens:` + worldToken

// alertsWebhookKey is the credential in the test webhook's URL; no output may hold it.
const alertsWebhookKey = "hookKEYhookKEYhookKEY0123456789"

const alertsWebhook = "https://hooks.example.com/services/T000/B000?token=" + alertsWebhookKey

func alertsRun(f *emuFixture, stdin string, args ...string) cliRun {
	f.t.Helper()
	app, stdout, stderr := f.newApp(stdin)
	code := Run(context.Background(), app, append([]string{"--env-file", f.envFile}, args...))
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// assertNoWebhookSecret fails when the webhook's path or credential is in some text.
func assertNoWebhookSecret(t *testing.T, where string, texts ...string) {
	t.Helper()
	assertNoCanary(t, where, texts...)
	for _, text := range texts {
		if strings.Contains(text, alertsWebhookKey) || strings.Contains(text, "T000/B000") {
			t.Errorf("the webhook URL leaked into %s:\n%s", where, text)
		}
	}
}

func TestAlertsSetupOptions(t *testing.T) {
	var got *alertsSetupOptions
	record := func(_ context.Context, _ *App, o *alertsSetupOptions) error { got = o; return nil }
	list := func(context.Context, *App, *alertsListOptions) error { return nil }
	app := testApp()
	app.Streams.Err = io.Discard
	cmd := alertsCommand(app, record, list)
	if err := parse(t, cmd, "setup", "--email", "ops@example.com", "--webhook",
		alertsWebhook, "--name", "ops"); err != nil {
		t.Fatal(err)
	}
	if got.Email != "ops@example.com" || got.webhookURL.Reveal() != alertsWebhook ||
		got.Name != "ops" || got.Output != formatText {
		t.Errorf("options %+v", got)
	}
	if strings.Contains(fmt.Sprint(got.webhookURL), alertsWebhookKey) {
		t.Error("the parsed webhook URL prints")
	}
}

// TestAlertsBadFlags: each bad flag exits 2 with a hint and makes no request.
func TestAlertsBadFlags(t *testing.T) {
	f := newEmuFixture(t, alertsWorld)
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"alerts", "setup"}},
		{"", []string{"alerts", "setup", "--email", "not an address"}},
		{"", []string{"alerts", "setup", "--email", "Ops <ops@example.com>"}},
		{"", []string{"alerts", "setup", "--webhook", "ftp://hooks.example.com/x?token=" +
			alertsWebhookKey}},
		{"", []string{"alerts", "setup", "--webhook", "hooks.example.com/" + alertsWebhookKey}},
		{"", []string{"alerts", "setup", "--webhook", "-"}},
		{"\n", []string{"alerts", "setup", "--webhook", "-"}},
		{"", []string{"alerts", "list", "--output", "yaml"}},
		{"", []string{"alerts", "list", "extra"}},
	} {
		before := f.srv.APIRequestCount()
		run := alertsRun(f, c.stdin, c.args...)
		if run.code != ExitUsage || !strings.Contains(run.stderr, "\nhint: ") || run.stdout != "" {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", c.args, run.code, run.stdout,
				run.stderr)
		}
		if f.srv.APIRequestCount() != before {
			t.Errorf("%q: the API was called", c.args)
		}
		assertNoWebhookSecret(t, fmt.Sprintf("%q", c.args), run.stdout, run.stderr)
	}
}

// TestAlertsSetupIsIdempotent sets up an email and a webhook alert twice each, then
// lists them: one policy per destination, the webhook created once, its URL never shown.
func TestAlertsSetupIsIdempotent(t *testing.T) {
	f := newEmuFixture(t, alertsWorld)
	var outputs []string
	check := func(want string, run cliRun) {
		t.Helper()
		outputs = append(outputs, run.stdout, run.stderr)
		if run.code != ExitOK || !strings.Contains(run.stdout, want) {
			t.Errorf("exit %d, want %q in\nstdout: %s\nstderr: %s", run.code, want,
				run.stdout, run.stderr)
		}
	}
	email := []string{"alerts", "setup", "--email", "ops@example.com"}
	check("expiring service token alert set up: email ops@example.com", alertsRun(f, "", email...))
	check("alert already set up: email ops@example.com", alertsRun(f, "", email...))

	hook := []string{"--verbose", "alerts", "setup", "--webhook", "-", "--name", "ops-chat"}
	check("alert set up: webhook https://hooks.example.com\n",
		alertsRun(f, alertsWebhook+"\n", hook...))
	check("alert already set up: webhook https://hooks.example.com\n",
		alertsRun(f, alertsWebhook, hook...))
	argv := alertsRun(f, "", "alerts", "setup", "--webhook", alertsWebhook, "-o", "json")
	check(`"created": false`, argv)
	if !strings.Contains(argv.stderr, "--webhook - reads it from stdin") {
		t.Errorf("no warning for a webhook URL in the arguments: %s", argv.stderr)
	}

	list := alertsRun(f, "", "alerts", "list")
	check("cfst: expiring service tokens", list)
	if strings.Count(list.stdout, "\n") != 2 ||
		!matches(`(?m)^[0-9a-f-]+\tcfst: expiring service tokens\tyes\tops@example\.com\t-$`,
			list.stdout) ||
		!matches(`(?m)^[0-9a-f-]+\tcfst: expiring service tokens\tyes\t-\t[0-9a-f-]+$`,
			list.stdout) {
		t.Errorf("list:\n%s", list.stdout)
	}
	jsonList := alertsRun(f, "", "alerts", "list", "-o", "json")
	outputs = append(outputs, jsonList.stdout, jsonList.stderr)
	var alerts []cloudflare.AlertPolicy
	if err := json.Unmarshal([]byte(jsonList.stdout), &alerts); err != nil || len(alerts) != 2 {
		t.Fatalf("list -o json: %v\n%s", err, jsonList.stdout)
	}
	webhooks := 0
	for _, a := range alerts {
		webhooks += len(a.WebhookIDs)
		if !a.Enabled {
			t.Errorf("policy %+v is disabled", a)
		}
	}
	if webhooks != 1 {
		t.Errorf("%d webhook destinations in %+v, want one", webhooks, alerts)
	}
	assertNoWebhookSecret(t, "alerts output", outputs...)
}

// TestAlertsNeedNotificationsPermission: an API token without it exits 3 with a hint
// that names the permission.
func TestAlertsNeedNotificationsPermission(t *testing.T) {
	f := newEmuFixture(t, alertsWorld)
	f.env["CLOUDFLARE_API_TOKEN"] = "alerts-cmd-tokens-only"
	for _, args := range [][]string{
		{"alerts", "setup", "--email", "ops@example.com"},
		{"alerts", "setup", "--webhook", "-"},
		{"alerts", "list"},
	} {
		run := alertsRun(f, alertsWebhook, args...)
		if run.code != ExitAuth || !matches(`(?m)^hint: .*"Notifications (Read|Write)"`,
			run.stderr) {
			t.Errorf("%q: exit %d\n%s", args, run.code, run.stderr)
		}
		assertNoWebhookSecret(t, fmt.Sprintf("%q", args), run.stdout, run.stderr)
	}
}

func TestWebhookLabel(t *testing.T) {
	for raw, want := range map[string]string{
		alertsWebhook:                            "https://hooks.example.com",
		"http://user:pw@10.0.0.1:8080/hook?k=v":  "http://10.0.0.1:8080",
		"https://[2001:db8::1]:8443/x":           "https://[2001:db8::1]:8443",
		"not a url at all with " + alertsWebhook: "(webhook)",
	} {
		if got := webhookLabel(raw); got != want {
			t.Errorf("webhookLabel(%q) = %q, want %q", raw, got, want)
		}
	}
}
