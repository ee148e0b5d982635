package cli

// Tests of `cfst apps` against the in-process emulator: each reason a verdict gives, the
// JSON report, --probe agreeing with the edge and reporting a disagreement, --token by
// name, id and client id, and applications of both scopes. Flag parsing is tested apart.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cfst/cfst/emulator"
)

// The token "ci" of appsWorld, by id and client id.
const (
	appsCIID       = "8a0c3e52-5d1b-4b6a-9e2f-0c1d2e3f4a5b"
	appsCIClientID = "8a0c3e525d1b4b6a9e2f0c1d2e3f4a5b.access"
)

// The token "rotated" of appsWorld: its previous secret's grace period has ended.
const (
	appsRotatedClientID = "5e1f0a9b8c7d4e3f2a1b0c9d8e7f6a5b.access"
	appsRotatedOld      = "cfast_OLDrotatedOLDrotatedOLDrotatedOLDrotated1234"
)

// appsWorld has one application for each verdict reason, at account scope, and one
// application at zone scope; tokens in every state; and a zone-scoped token.
const appsWorld = `
seed: 12
account_id: 0123456789abcdef0123456789abcdef
zone_id: fedcba9876543210fedcba9876543210
team: apps
api_tokens:
  - {name: all, value: apps-cmd-test-api-token, permissions: [all]}
service_tokens:` + worldToken + `
  - name: ci
    id: ` + appsCIID + `
    client_id: ` + appsCIClientID + `
  - name: expired-one
    expires_at: expired
  - name: disabled-one
    enabled: false
  - name: rotated
    client_id: ` + appsRotatedClientID + `
    client_secret: cfast_NEWrotatedNEWrotatedNEWrotatedNEWrotated1234
    client_secret_version: 2
    previous_client_secret: ` + appsRotatedOld + `
    previous_client_secret_expires_at: -1h
  - name: zprobe
    scope: zone
groups:
  - name: robots
    include: [{service_token: {token_id: probe}}]
policies:
  - {name: by-id, decision: non_identity, include: [{service_token: {token_id: probe}}]}
  - {name: any-token, decision: non_identity, include: [{any_valid_service_token: {}}]}
  - {name: by-group, decision: non_identity, include: [{group: {id: robots}}]}
  - {name: people, decision: allow, include: [{email_domain: {domain: example.com}}]}
  - name: no-probe
    decision: non_identity
    include: [{any_valid_service_token: {}}]
    exclude: [{service_token: {token_id: probe}}]
  - name: needs-ci
    decision: non_identity
    include: [{any_valid_service_token: {}}]
    require: [{service_token: {token_id: ci}}]
  - {name: open, decision: bypass, include: [{everyone: {}}]}
applications:
  - {name: id-app, domain: id.example.com, policies: [by-id]}
  - {name: any-app, domain: any.example.com, policies: [any-token]}
  - {name: group-app, domain: group.example.com, policies: [by-group]}
  - {name: login-app, domain: login.example.com, policies: [people]}
  - {name: excluded-app, domain: excluded.example.com, policies: [no-probe]}
  - {name: require-app, domain: require.example.com, policies: [needs-ci]}
  - name: header-app
    domain: header.example.com
    policies: [any-token]
    read_service_tokens_from_header: Authorization
  - {name: open-app, domain: open.example.com, policies: [open]}
  - name: zone-app
    scope: zone
    domain: zone.example.net
    policies:
      - {name: zone-tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
`

// startApps starts appsWorld with the probe token in .env and the account configured,
// and returns the harness and the zone's id.
func startApps(t *testing.T) *inProcess {
	t.Helper()
	world, err := emulator.ParseWorld("apps.yaml", []byte(appsWorld))
	if err != nil {
		t.Fatal(err)
	}
	h := startInProcess(t, world)
	h.env["CLOUDFLARE_API_TOKEN"] = "apps-cmd-test-api-token"
	writeTestEnv(t, h.envFile())
	return h
}

// appsJSON runs cfst apps -o json with args, wants exit code want, and returns the
// report and its applications by name.
func appsJSON(h *inProcess, want int, args ...string) (appsReportJSON,
	map[string]appVerdictJSON) {
	h.t.Helper()
	run := h.mustRun(want, append([]string{"apps", "-o", "json"}, args...)...)
	assertNoCanary(h.t, "cfst apps -o json", run.stdout, run.stderr)
	var report appsReportJSON
	if err := json.Unmarshal([]byte(run.stdout), &report); err != nil {
		h.t.Fatalf("stdout is not the JSON report (%v):\n%s", err, run.stdout)
	}
	byName := map[string]appVerdictJSON{}
	for _, app := range report.Applications {
		byName[app.Name] = app
	}
	return report, byName
}

// TestAppsVerdictReasons: for the token of .env, each application gets the verdict and
// reason its policies call for, naming the policy and the rule that decided.
func TestAppsVerdictReasons(t *testing.T) {
	h := startApps(t)
	h.env["CLOUDFLARE_ZONE_ID"] = h.srv.ZoneID()
	report, apps := appsJSON(h, ExitOK)
	if report.Token == nil || report.Token.Name != "probe" || !report.Token.Local {
		t.Fatalf("token %+v, want the probe token of .env", report.Token)
	}
	probeID := report.Token.ID
	for _, c := range []struct {
		app, verdict, reason, policy, rule string
		status                             int
	}{
		{"id-app", "admitted", "", "by-id", "service token " + probeID, 0},
		{"any-app", "admitted", "", "any-token", "any valid service token", 0},
		{"group-app", "admitted", "", "by-group", "group robots (", 0},
		{"zone-app", "admitted", "", "zone-tokens", "any valid service token", 0},
		{"login-app", "login_redirect", "only_identity_policies", "", "", 302},
		{"excluded-app", "forbidden", "excluded", "no-probe", "service token " + probeID, 403},
		{"require-app", "forbidden", "require_not_met", "needs-ci", "service token ", 403},
		{"header-app", "forbidden", "standard_headers_ignored", "", "", 403},
		{"open-app", "bypassed", "", "open", "everyone", 0},
	} {
		got, ok := apps[c.app]
		switch {
		case !ok:
			t.Errorf("%s: not listed", c.app)
			continue
		case got.Verdict != c.verdict || got.Reason != c.reason || got.Status != c.status:
			t.Errorf("%s: %s %q %d, want %s %q %d (%s)", c.app, got.Verdict, got.Reason,
				got.Status, c.verdict, c.reason, c.status, got.Detail)
		case c.policy != "" && (got.Policy == nil || got.Policy.Name != c.policy):
			t.Errorf("%s: policy %+v, want %q", c.app, got.Policy, c.policy)
		case !strings.HasPrefix(got.Rule, c.rule):
			t.Errorf("%s: rule %q, want one starting %q", c.app, got.Rule, c.rule)
		}
	}
	if header := apps["header-app"]; header.SingleHeader != "Authorization" ||
		!strings.Contains(header.Detail, "Authorization header") {
		t.Errorf("header-app: %+v, want the single header named", header)
	}
}

// TestAppsTokenProblems: an expired or disabled token is refused everywhere but where a
// Bypass policy lets everyone through, and the verdict says what the policies would do
// once the token authenticates.
func TestAppsTokenProblems(t *testing.T) {
	h := startApps(t)
	for token, problem := range map[string]string{"expired-one": "expired at",
		"disabled-one": "disabled"} {
		report, apps := appsJSON(h, ExitOK, "--token", token)
		if report.Token == nil || report.Token.Name != token || report.Token.Local {
			t.Errorf("--token %s: token %+v", token, report.Token)
		}
		any := apps["any-app"]
		if any.Admitted || any.Reason != "token_invalid" ||
			!strings.Contains(any.Detail, "cannot authenticate: "+problem) ||
			any.IfAuthenticated == nil || any.IfAuthenticated.Verdict != "admitted" {
			t.Errorf("--token %s: any-app %+v, want refused as %s, admitted once fixed",
				token, any, problem)
		}
		if open := apps["open-app"]; open.Verdict != "bypassed" {
			t.Errorf("--token %s: open-app %s, want bypassed", token, open.Verdict)
		}
	}
}

// TestAppsJSONShape: the report's keys are a stable interface.
func TestAppsJSONShape(t *testing.T) {
	h := startApps(t)
	run := h.mustRun(ExitOK, "apps", "--output", "json")
	var report map[string]json.RawMessage
	if err := json.Unmarshal([]byte(run.stdout), &report); err != nil {
		t.Fatal(err)
	}
	assertKeys(t, "report", report, "token", "client_id", "strict_mode", "notes",
		"applications")
	var apps []map[string]json.RawMessage
	if err := json.Unmarshal(report["applications"], &apps); err != nil || len(apps) != 8 {
		t.Fatalf("applications: %v, %d of them, want the 8 of the account", err, len(apps))
	}
	for _, app := range apps {
		assertKeys(t, "application", app, "id", "name", "domain", "destinations", "verdict",
			"admitted", "status", "reason", "policy", "rule", "detail", "single_header",
			"client_dependent")
	}
	if string(report["client_id"]) != `"`+testClientID+`"` ||
		string(report["strict_mode"]) != "false" {
		t.Errorf("client_id %s, strict_mode %s", report["client_id"], report["strict_mode"])
	}
}

// assertKeys fails unless object has every key of want, and no key but those and the
// optional probes and if_authenticated.
func assertKeys(t *testing.T, what string, object map[string]json.RawMessage,
	want ...string) {
	t.Helper()
	for _, key := range want {
		if _, ok := object[key]; !ok {
			t.Errorf("%s lacks key %q", what, key)
		}
	}
	for key := range object {
		if !slices.Contains(want, key) && key != "probes" && key != "if_authenticated" {
			t.Errorf("%s has unexpected key %q", what, key)
		}
	}
}

// TestAppsTextOutput: piped, stdout holds one tab-separated line per application and
// stderr the token, strict mode and a summary with a grant hint.
func TestAppsTextOutput(t *testing.T) {
	h := startApps(t)
	run := h.mustRun(ExitOK, "apps")
	assertNoCanary(t, "cfst apps", run.stdout, run.stderr)
	for _, want := range []string{"\nlogin-app\t", "\tlogin.example.com\tlogin_redirect\t302\t",
		"\topen.example.com\tbypassed\t-\t"} {
		if !strings.Contains(run.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, run.stdout)
		}
	}
	for _, want := range []string{"token probe (" + testClientID + ")", "strict mode off",
		"4 of 8 applications let the token through", "cfst grant login-app --token probe"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
}

// TestAppsProbeAgrees: every live answer of the edge agrees with its verdict.
func TestAppsProbeAgrees(t *testing.T) {
	h := startApps(t)
	h.env["CLOUDFLARE_ZONE_ID"] = h.srv.ZoneID()
	_, apps := appsJSON(h, ExitOK, "--probe")
	for name, app := range apps {
		if len(app.Probes) != 1 || app.Probes[0].Agreement != string(probeAgrees) {
			t.Errorf("%s: %s, probes %+v, want one that agrees", name, app.Verdict, app.Probes)
		}
	}
	run := h.mustRun(ExitOK, "apps", "--probe")
	if !strings.Contains(run.stdout, "\tok 200") || strings.Contains(run.stderr, "DISAGREE") {
		t.Errorf("the LIVE column or stderr is wrong:\n%s\n%s", run.stdout, run.stderr)
	}
}

// TestAppsProbeDisagrees: .env holds the previous secret of a token whose grace period has
// ended. The verdicts assume the current secret; the edge refuses the old one, and apps
// says so prominently, with the likely cause, and exits 12.
func TestAppsProbeDisagrees(t *testing.T) {
	h := startApps(t)
	(&emuFixture{t: t, envFile: h.envFile()}).writeEnv("CF_SERVICE_TOKEN_CLIENT_ID=" +
		appsRotatedClientID + "\nCF_SERVICE_TOKEN_CLIENT_SECRET=" + appsRotatedOld + "\n")
	run := h.mustRun(ExitCheckFailed, "apps", "--probe")
	if strings.Contains(run.stdout+run.stderr, appsRotatedOld) {
		t.Fatalf("the secret leaked:\n%s\n%s", run.stdout, run.stderr)
	}
	for _, want := range []string{`DISAGREEMENT any.example.com/ (application "any-app")`,
		"its grace period ended", "the live edge disagreed with"} {
		if !strings.Contains(run.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
		}
	}
	if !strings.Contains(run.stdout, "DISAGREES: forbidden 403") {
		t.Errorf("the LIVE column does not show the disagreement:\n%s", run.stdout)
	}
	_, apps := appsJSON(h, ExitCheckFailed, "--probe")
	if p := apps["any-app"].Probes; len(p) != 1 || p[0].Agreement != string(probeDisagrees) {
		t.Errorf("any-app probes %+v, want one that disagrees", p)
	}
}

// TestAppsTokenReference: --token names the same token by name, id or client id; --probe
// needs the token of .env.
func TestAppsTokenReference(t *testing.T) {
	h := startApps(t)
	want, _ := appsJSON(h, ExitOK, "--token", "ci")
	if want.Token == nil || want.Token.ID != appsCIID || want.ClientID != appsCIClientID {
		t.Fatalf("--token ci: %+v", want.Token)
	}
	for _, ref := range []string{appsCIID, appsCIClientID} {
		got, _ := appsJSON(h, ExitOK, "--token", ref)
		if gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, want); gotJSON != wantJSON {
			t.Errorf("--token %s:\n%s\nwant (--token ci):\n%s", ref, gotJSON, wantJSON)
		}
	}
	h.mustRun(ExitNotFound, "apps", "--token", "nobody")
	run := h.mustRun(ExitUsage, "apps", "--token", "ci", "--probe")
	if !strings.Contains(run.stderr, "--probe needs the token's secret") {
		t.Errorf("stderr:\n%s", run.stderr)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestAppsScopes: applications of the account and the zone are listed whichever of
// them comes from a flag and which from the environment, and the token is looked up at
// the account when there is one, then at the zone.
func TestAppsScopes(t *testing.T) {
	h := startApps(t)
	account, zone := h.srv.AccountID(), h.srv.ZoneID()
	both := []string{"any-app", "zone-app"}
	for _, c := range []struct {
		name         string
		env          map[string]string // "" removes the variable
		args         []string
		apps, absent []string
		token        string // the name the token resolves to, "" for none
	}{
		{"both in the environment", map[string]string{"CLOUDFLARE_ZONE_ID": zone}, nil,
			both, nil, "probe"},
		{"--zone beside the account", nil, []string{"--zone", zone}, both, nil, "probe"},
		{"--account beside the zone", map[string]string{"CLOUDFLARE_ACCOUNT_ID": "",
			"CLOUDFLARE_ZONE_ID": zone}, []string{"--account", account}, both, nil, "probe"},
		{"zone only", map[string]string{"CLOUDFLARE_ACCOUNT_ID": "",
			"CLOUDFLARE_ZONE_ID": zone}, nil, []string{"zone-app"}, []string{"any-app"}, ""},
		{"zone token, zone only", map[string]string{"CLOUDFLARE_ACCOUNT_ID": "",
			"CLOUDFLARE_ZONE_ID": zone}, []string{"--token", "zprobe"}, []string{"zone-app"},
			nil, "zprobe"},
		{"zone token, --zone beside the account", nil,
			[]string{"--zone", zone, "--token", "zprobe"}, both, nil, "zprobe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := map[string]string{}
			for key, value := range c.env {
				saved[key] = h.env[key]
				h.env[key] = value
			}
			defer func() {
				for key, value := range saved {
					h.env[key] = value
				}
			}()
			report, apps := appsJSON(h, ExitOK, c.args...)
			for _, name := range c.apps {
				got, listed := apps[name]
				if !listed || (c.token != "") != (got.Verdict == "admitted") {
					t.Errorf("%s: %+v, want it listed, admitted when the token is known",
						name, got)
				}
			}
			for _, name := range c.absent {
				if _, listed := apps[name]; listed {
					t.Errorf("%s is listed", name)
				}
			}
			switch {
			case c.token == "" && report.Token != nil:
				t.Errorf("token %+v, want none: the account's token is not the zone's",
					report.Token)
			case c.token != "" && (report.Token == nil || report.Token.Name != c.token):
				t.Errorf("token %+v, want %s", report.Token, c.token)
			}
		})
	}
}

// TestAppsOptions checks the flags of apps without running it.
func TestAppsOptions(t *testing.T) {
	var got *appsOptions
	record := func(_ context.Context, _ *App, o *appsOptions) error { got = o; return nil }
	if err := parse(t, appsCommand(testApp(), record)); err != nil {
		t.Fatal(err)
	}
	if got.Token != "" || got.Probe || got.Output != formatText {
		t.Errorf("defaults %+v", got)
	}
	err := parse(t, appsCommand(testApp(), record), "--token", "ci", "--probe", "-o", "json",
		"--cacert", "ca.pem", "--connect-to", "::127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "ci" || !got.Probe || got.Output != formatJSON ||
		got.Conn.CAFile != "ca.pem" || len(got.Conn.ConnectTo) != 1 {
		t.Errorf("options %+v", got)
	}
	for _, args := range [][]string{{"extra"}, {"--output", "yaml"}, {"--token"},
		{"--connect-to", "nonsense"}} {
		got = nil
		if err := parse(t, appsCommand(testApp(), record), args...); err == nil || got != nil {
			t.Errorf("apps %q parsed", args)
		}
	}
}
