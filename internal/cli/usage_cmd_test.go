package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/usage"
)

// usageWorld has the canary token (probe), a token a month from expiry, one idle for 40
// days, and one API token that may not read analytics.
const usageWorld = `
team: usage
api_tokens:
  - {name: all, value: usage-cmd-test-api-token, permissions: [all]}
  - {name: tokens-only, value: usage-cmd-tokens-only, permissions: [service_tokens:read]}
service_tokens:` + worldToken + `
  - {name: monthly, duration: 720h}
  - {name: idle, last_seen_at: -960h}
policies:
  - name: tokens
    decision: non_identity
    include: [{any_valid_service_token: {}}]
applications:
  - {name: api, domain: api.example.com, policies: [tokens]}
  - {name: web, domain: web.example.com, policies: [tokens]}
`

// usageFixture starts usageWorld. Its runs read the time from the emulator's clock.
func usageFixture(t *testing.T) *emuFixture {
	t.Helper()
	return newEmuFixture(t, usageWorld)
}

// usageRun runs cfst with the emulator's clock and, when tty, on terminal streams.
func usageRun(f *emuFixture, tty bool, args ...string) cliRun {
	f.t.Helper()
	app, stdout, stderr := f.newApp("")
	app.Now = f.srv.Clock().Now
	app.Streams.OutTTY = tty
	code := Run(context.Background(), app, append([]string{"--env-file", f.envFile}, args...))
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// usageJSON runs cfst usage --output json with args and decodes the report.
func usageJSON(t *testing.T, f *emuFixture, args ...string) usageView {
	t.Helper()
	run := usageRun(f, false, append([]string{"usage", "-o", "json"}, args...)...)
	if run.code != ExitOK {
		t.Fatalf("usage exited %d\nstderr: %s", run.code, run.stderr)
	}
	var view usageView
	if err := json.Unmarshal([]byte(run.stdout), &view); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, run.stdout)
	}
	return view
}

// usageLogin sends n requests to host through the edge with the probe token, from ip,
// with the right secret or a wrong one.
func usageLogin(t *testing.T, f *emuFixture, n int, host, ip, country string, right bool) {
	t.Helper()
	secretValue := testCanary
	if !right {
		secretValue = "cfast_wrongWRONGwrongWRONGwrongWRONGwrong000000"
	}
	for range n {
		req, err := http.NewRequest(http.MethodGet, "https://"+host+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("CF-Access-Client-Id", testClientID)
		req.Header.Set("CF-Access-Client-Secret", secretValue)
		req.Header.Set("X-Emulator-Client-Ip", ip)
		req.Header.Set("X-Emulator-Country", country)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// usageHistory records n admitted logins of the probe token from ip over the six days
// before the last one.
func usageHistory(t *testing.T, f *emuFixture, n int, ip string) {
	t.Helper()
	id := usageTokenID(t, f, "probe")
	now := f.srv.Clock().Now()
	events := make([]emulator.LoginEvent, 0, n)
	for i := range n {
		at := now.Add(-7*day + time.Duration(i)*5*day/time.Duration(n))
		events = append(events, emulator.LoginEvent{Time: at, TokenID: id, AppID: "history",
			IP: netip.MustParseAddr(ip), Country: "US", Allowed: true,
			RayID: fmt.Sprintf("%016x", i+1)})
	}
	f.srv.RecordLoginEvents(events...)
}

func usageTokenID(t *testing.T, f *emuFixture, name string) string {
	t.Helper()
	for _, ev := range usageJSON(t, f, "--baseline", "0").Tokens {
		if ev.Name == name {
			return ev.ID
		}
	}
	t.Fatalf("no token %q", name)
	return ""
}

func usageFindings(view usageView, kind, token string) []usage.Finding {
	var found []usage.Finding
	for _, f := range view.Findings {
		if f.Kind == kind && f.TokenName == token {
			found = append(found, f)
		}
	}
	return found
}

func usageTokenOf(t *testing.T, view usageView, name string) usage.TokenUsage {
	t.Helper()
	for _, tok := range view.Tokens {
		if tok.Name == name {
			return tok
		}
	}
	t.Fatalf("no token %q in %+v", name, view.Tokens)
	return usage.TokenUsage{}
}

func TestUsageOptions(t *testing.T) {
	var got *usageOptions
	record := func(_ context.Context, _ *App, opts *usageOptions) error { got = opts; return nil }
	if err := parse(t, usageCommand(testApp(), record)); err != nil {
		t.Fatal(err)
	}
	want := usage.Options{Since: day, Baseline: 7 * day, ExpiringWithin: 30 * day,
		UnusedAfter: 30 * day}
	if !equalUsageOptions(got.Analysis, want) || got.Output != formatText || got.Tokens != nil {
		t.Errorf("defaults: %+v", got.Analysis)
	}

	err := parse(t, usageCommand(testApp(), record), "--since", "1h", "--baseline", "0",
		"--expiring-within", "2w", "--unused-days", "7", "--token", "a", "--token", "b",
		"-o", "json")
	want = usage.Options{Since: time.Hour, Baseline: -1, ExpiringWithin: 2 * week,
		UnusedAfter: 7 * day}
	if err != nil || !equalUsageOptions(got.Analysis, want) || got.Output != formatJSON ||
		strings.Join(got.Tokens, ",") != "a,b" {
		t.Errorf("err %v, options %+v", err, got)
	}
}

func equalUsageOptions(a, b usage.Options) bool {
	return a.Since == b.Since && a.Baseline == b.Baseline &&
		a.ExpiringWithin == b.ExpiringWithin && a.UnusedAfter == b.UnusedAfter
}

// TestUsageBadFlags: each bad flag exits 2 with a hint, before any request.
func TestUsageBadFlags(t *testing.T) {
	f := usageFixture(t)
	for _, args := range [][]string{
		{"--since", "0"},
		{"--since", "yesterday"},
		{"--since", "-1h"},
		{"--baseline", "soon"},
		{"--since", "60d", "--baseline", "31d"},
		{"--expiring-within", "0"},
		{"--unused-days", "0"},
		{"--unused-days", "many"},
		{"--output", "yaml"},
		{"extra-argument"},
	} {
		before := f.srv.APIRequestCount()
		run := usageRun(f, false, append([]string{"usage"}, args...)...)
		if run.code != ExitUsage || !strings.Contains(run.stderr, "\nhint: ") ||
			strings.Count(run.stderr, "\n") != 2 || run.stdout != "" {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, run.code, run.stdout,
				run.stderr)
		}
		if f.srv.APIRequestCount() != before {
			t.Errorf("%q: the API was called", args)
		}
	}
}

func TestUsageFindsNewAddress(t *testing.T) {
	f := usageFixture(t)
	usageHistory(t, f, 14, "192.0.2.10")
	usageLogin(t, f, 3, "api.example.com", "192.0.2.10", "US", true)
	usageLogin(t, f, 2, "web.example.com", "203.0.113.50", "DE", true)

	view := usageJSON(t, f)
	found := usageFindings(view, usage.KindNewAddress, "probe")
	if len(found) != 1 {
		t.Fatalf("new-address findings %+v, want one", view.Findings)
	}
	e := found[0].Evidence
	if e.Address != "203.0.113.50" || e.Country != "DE" || e.Logins != 2 ||
		len(e.Applications) != 1 || view.AppNames[e.Applications[0]] != "web" ||
		strings.Join(e.KnownAddresses, ",") != "192.0.2.10" || e.FirstSeen.IsZero() {
		t.Errorf("evidence %+v, names %v", e, view.AppNames)
	}
	if len(usageFindings(view, usage.KindNewCountry, "probe")) != 1 {
		t.Errorf("no new-country finding: %+v", view.Findings)
	}
	probe := usageTokenOf(t, view, "probe")
	if probe.Admitted != 5 || probe.Refused != 0 || len(probe.Addresses) != 2 ||
		len(probe.Countries) != 2 || probe.LastLogin.IsZero() || probe.BaselineLogins != 14 {
		t.Errorf("probe usage %+v", probe)
	}

	piped := usageRun(f, false, "usage")
	if !matches(`(?m)^token\tprobe\t[0-9a-f-]+\t5\t0\t(api,web|web,api)\t`+
		`192\.0\.2\.10,203\.0\.113\.50\tUS,DE\t20\d\d-`, piped.stdout) ||
		!matches(`(?m)^finding\twarning\tnew_address\tprobe\t[0-9a-f-]+\t.*203\.0\.113\.50.*`+
			`\taddress=203\.0\.113\.50 country=DE applications=web logins=2 `, piped.stdout) {
		t.Errorf("piped output:\n%s", piped.stdout)
	}
	tty := usageRun(f, true, "usage")
	if !matches(`(?m)^TOKEN +ADMITTED +REFUSED +APPLICATIONS`, tty.stdout) ||
		!matches(`(?m)^  WARNING +new_address +probe logged in from 203\.0\.113\.50`, tty.stdout) ||
		!matches(`(?m)^ +evidence: address=203\.0\.113\.50 .*first_seen=(just now|\dm ago)`,
			tty.stdout) {
		t.Errorf("terminal output:\n%s", tty.stdout)
	}
	if !strings.Contains(tty.stderr, "compared with the 7 days before") {
		t.Errorf("stderr: %s", tty.stderr)
	}
}

func TestUsageFindsBurstOfRefusals(t *testing.T) {
	f := usageFixture(t)
	usageLogin(t, f, 12, "api.example.com", "198.51.100.66", "US", false)

	view := usageJSON(t, f, "--token", testClientID)
	bursts := usageFindings(view, usage.KindRefusalBurst, "probe")
	if len(bursts) != 1 || len(view.Tokens) != 1 {
		t.Fatalf("findings %+v, tokens %d: want one refusal burst for probe only",
			view.Findings, len(view.Tokens))
	}
	e := bursts[0].Evidence
	if e.Refused != 12 || len(e.Addresses) != 1 || e.Addresses[0].Value != "198.51.100.66" {
		t.Errorf("evidence %+v", e)
	}
	piped := usageRun(f, false, "usage", "--token", "probe")
	if !matches(`(?m)^finding\twarning\trefusal_burst\tprobe\t.*\trefused=12 from=.* to=.* `+
		`refused_from=198\.51\.100\.66\(12\)`, piped.stdout) {
		t.Errorf("piped output:\n%s", piped.stdout)
	}
}

// TestUsageFindsUnusedAndExpiringOnTheEmulatorClock moves the emulator's clock 20 days
// on: the 30-day token is then 10 days from expiry.
func TestUsageFindsUnusedAndExpiringOnTheEmulatorClock(t *testing.T) {
	f := usageFixture(t)
	view := usageJSON(t, f, "--expiring-within", "14d")
	if found := usageFindings(view, usage.KindExpiring, "monthly"); len(found) != 0 {
		t.Errorf("monthly expiring at the start: %+v", found)
	}
	unused := usageFindings(view, usage.KindUnused, "idle")
	if len(unused) != 1 || unused[0].Evidence.IdleDays != 40 {
		t.Errorf("unused findings %+v, want idle for 40 days", view.Findings)
	}
	if found := usageFindings(usageJSON(t, f, "--unused-days", "41"), usage.KindUnused,
		"idle"); len(found) != 0 {
		t.Errorf("idle for 40 days is unused at 41 days: %+v", found)
	}

	if err := f.srv.AdvanceClock(20 * day); err != nil {
		t.Fatal(err)
	}
	view = usageJSON(t, f, "--expiring-within", "14d")
	expiring := usageFindings(view, usage.KindExpiring, "monthly")
	if len(expiring) != 1 || !strings.Contains(expiring[0].Summary, "expires in 9 days") ||
		expiring[0].Evidence.ExpiresAt.IsZero() {
		t.Fatalf("after 20 days: %+v", view.Findings)
	}
	piped := usageRun(f, false, "usage", "--expiring-within", "14d")
	if !matches(`(?m)^finding\twarning\texpiring\tmonthly\t.*\texpires=20\d\d-`, piped.stdout) {
		t.Errorf("piped output:\n%s", piped.stdout)
	}
}

// TestUsageJSONShape pins the keys of the report: they are an interface.
func TestUsageJSONShape(t *testing.T) {
	f := usageFixture(t)
	usageLogin(t, f, 1, "api.example.com", "192.0.2.10", "US", true)
	run := usageRun(f, false, "usage", "-o", "json", "--token", "probe")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(run.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"since", "until", "baseline_since", "tokens", "findings",
		"application_names"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("no %q in %s", key, run.stdout)
		}
	}
	var tokens []map[string]json.RawMessage
	if err := json.Unmarshal(doc["tokens"], &tokens); err != nil || len(tokens) != 1 {
		t.Fatalf("tokens %s: %v", doc["tokens"], err)
	}
	for _, key := range []string{"id", "name", "client_id", "admitted", "refused",
		"applications", "addresses", "countries", "last_login", "expires_at",
		"baseline_logins"} {
		if _, ok := tokens[0][key]; !ok {
			t.Errorf("no %q in the token %s", key, doc["tokens"])
		}
	}
	tty := usageRun(f, true, "usage", "-o", "json", "--token", "probe")
	if stripTimes(tty.stdout) != stripTimes(run.stdout) {
		t.Errorf("JSON depends on the terminal:\n%s\n%s", tty.stdout, run.stdout)
	}
}

// stripTimes drops the window's ends, which move between two runs.
func stripTimes(text string) string {
	var kept []string
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, `"since"`) && !strings.Contains(line, `"until"`) &&
			!strings.Contains(line, `"baseline_since"`) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func TestUsageErrors(t *testing.T) {
	f := usageFixture(t)
	run := usageRun(f, false, "usage", "--token", "nobody")
	if run.code != ExitNotFound || !strings.Contains(run.stderr, "hint: run 'cfst list'") {
		t.Errorf("unknown token: exit %d\n%s", run.code, run.stderr)
	}
	f.env["CLOUDFLARE_API_TOKEN"] = "usage-cmd-tokens-only"
	run = usageRun(f, false, "usage")
	if run.code != ExitAuth || !strings.Contains(run.stderr, `"Account Analytics Read"`) {
		t.Errorf("no analytics permission: exit %d\n%s", run.code, run.stderr)
	}
}

// TestUsageSecretsNeverPrinted uses the canary token through the edge, rightly and
// wrongly, and checks every form of the report, quiet and verbose, for it.
func TestUsageSecretsNeverPrinted(t *testing.T) {
	f := usageFixture(t)
	usageHistory(t, f, 7, "192.0.2.10")
	usageLogin(t, f, 2, "api.example.com", "203.0.113.9", "DE", true)
	usageLogin(t, f, 11, "api.example.com", "203.0.113.9", "DE", false)
	for _, args := range [][]string{
		{"usage"}, {"usage", "-o", "json"}, {"--verbose", "usage"},
		{"--verbose", "usage", "--token", "probe", "-o", "json"},
		{"usage", "--token", testCanary},
	} {
		for _, tty := range []bool{false, true} {
			run := usageRun(f, tty, args...)
			assertNoCanary(t, fmt.Sprintf("%q", args), run.stdout, run.stderr)
		}
	}
}

// TestUsageDemoStep runs the demo's usage step after its lifecycle step, on the default
// world: every command succeeds and usage shows findings from the traffic.
func TestUsageDemoStep(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	srv, err := emulator.Start(emulator.Config{World: emulator.DefaultWorld(), CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	app := &App{Streams: &Streams{Out: &out, Err: &out}, Getenv: func(string) string { return "" },
		Now: time.Now}
	tour := newDemoTour(app, srv, dir, caFile)
	ctx := context.Background()
	if err := tour.showLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tour.showUsage(ctx); err != nil {
		t.Fatalf("showUsage: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"$ cfst usage --token demo-ci", "new_address",
		"refusal_burst", "evidence: address=127.0.0.1", "jaeger"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the tour:\n%s", want, text)
		}
	}
	if strings.Contains(text, "(exit code") {
		t.Errorf("a command failed:\n%s", text)
	}
}
