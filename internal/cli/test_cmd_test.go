package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

func TestTestOptions(t *testing.T) {
	var got *testOptions
	record := func(_ context.Context, _ *App, opts *testOptions) error { got = opts; return nil }

	err := parse(t, testCommand(testApp(), record), "a.example.com", "--services", "s.yaml",
		"--concurrency", "5", "--timeout-per-target", "3s", "--deadline", "1m",
		"--compare-anonymous", "-o", "junit", "--allow-http", "--cacert", "ca.pem",
		"--connect-to", "::127.0.0.1:8443", "b.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Args, []string{"a.example.com", "b.example.com"}) ||
		got.Services != "s.yaml" || got.Concurrency != 5 || got.TimeoutPerTarget != 3*time.Second ||
		got.Deadline != time.Minute || !got.CompareAnonymous || got.Output != formatJUnit ||
		!got.Conn.AllowHTTP || got.Conn.CAFile != "ca.pem" || len(got.Conn.ConnectTo) != 1 {
		t.Errorf("got %+v", *got)
	}

	got = nil
	if err := parse(t, testCommand(testApp(), record), "a.example.com"); err != nil {
		t.Fatal(err)
	}
	if got.Concurrency != probe.DefaultConcurrency || got.TimeoutPerTarget != probe.DefaultTimeout ||
		got.Output != formatText || got.Deadline != 0 || got.Conn.AllowHTTP {
		t.Errorf("defaults: %+v", *got)
	}

	for _, args := range [][]string{
		{},
		{"a.example.com", "--concurrency", "0"},
		{"a.example.com", "--timeout-per-target", "0s"},
		{"a.example.com", "--deadline", "-1s"},
		{"a.example.com", "--output", "yaml"},
		{"a.example.com", "--connect-to", "nonsense"},
	} {
		got = nil
		err := parse(t, testCommand(testApp(), record), args...)
		if err == nil || got != nil {
			t.Errorf("%q: err %v, run reached: %v", args, err, got != nil)
		}
	}
}

// classWorld has one application per class the edge can produce; %s is the origin URL of
// the waf application and strict is filled in per test.
const classWorld = `
team: classes
strict: %t
service_tokens:` + worldToken + `
policies:
  - name: tokens
    decision: non_identity
    include: [{any_valid_service_token: {}}]
  - name: other-token
    decision: non_identity
    include: [{service_token: {token_id: other}}]
  - name: people
    decision: allow
    include: [{email_domain: {domain: example.com}}]
  - name: everyone
    decision: bypass
    include: [{everyone: {}}]
applications:
  - {name: ok, domain: ok.example.com, policies: [tokens]}
  - {name: down, domain: down.example.com, policies: [tokens], origin: down}
  - {name: tunnel, domain: tunnel.example.com, policies: [tokens], origin: tunnel-down}
  - {name: login, domain: login.example.com, policies: [people]}
  - {name: hook, domain: hook.example.com, policies: [other-token], service_auth_401_redirect: true}
  - {name: closed, domain: closed.example.com, policies: [other-token]}
  - {name: teapot, domain: teapot.example.com, policies: [tokens], origin: "status:418"}
  - {name: waf, domain: waf.example.com, policies: [tokens], origin: "%s"}
  - {name: open, domain: open.example.com, policies: [everyone]}
`

// wafOrigin answers as Cloudflare's browser-signature rule does. The emulator has no WAF,
// so the rule sits behind Access here; the classification only sees the answer.
func wafOrigin(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, "error code: 1010")
}

// classFixture starts classWorld and returns --cacert and --connect-to arguments for two
// targets outside it: plain.example.com (TLS, but not through Cloudflare) and
// refused.example.com (a closed port).
func classFixture(t *testing.T, strict bool) (*emuFixture, []string) {
	t.Helper()
	f := newEmuFixture(t, fmt.Sprintf(classWorld, strict, originServer(t, wafOrigin)))
	ca := transporttest.NewCA(t)
	plain := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	caFile := filepath.Join(f.dir, "other-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	plainAddr := strings.TrimPrefix(plain.URL, "https://")
	return f, []string{"--cacert", caFile,
		"--connect-to", "plain.example.com:443:" + plainAddr,
		"--connect-to", "refused.example.com:443:" + transporttest.ClosedPort(t)}
}

// classCase is the class and hint cfst test must report for one target.
type classCase struct {
	target string
	class  probe.Class
	status int
	hint   string // a phrase of the hint; "" for ok
}

// TestEveryClassWithItsHint probes one target per class, in default and strict mode.
func TestEveryClassWithItsHint(t *testing.T) {
	common := []classCase{
		{"down.example.com", probe.ClassBackendDown, 502, "origin behind the tunnel"},
		{"tunnel.example.com", probe.ClassTunnelDown, 530, "cloudflared connector"},
		{"teapot.example.com", probe.ClassUnexpectedStatus, 418, "not as this target expects"},
		{"waf.example.com", probe.ClassBlockedByWAF, 403, "WAF or bot rule"},
		{"closed.example.com", probe.ClassForbidden, 403, "no policy admits it"},
		{"plain.example.com", probe.ClassNotProtected, 200, "no cf-ray header"},
		{"refused.example.com", probe.ClassNetworkError, 0, "nothing accepts connections"},
	}
	modes := []struct {
		name   string
		strict bool
		extra  []classCase
	}{
		{"default", false, []classCase{
			{"ok.example.com", probe.ClassOK, 200, ""},
			{"login.example.com", probe.ClassLoginRedirect, 302, "no Service Auth policy"},
			// A valid token hook's policies do not admit: 401 because of
			// service_auth_401_redirect, not because the token cannot authenticate.
			{"hook.example.com", probe.ClassUnauthenticated, 401,
				"service_auth_401_redirect answers 401"},
		}},
		{"strict", true, []classCase{
			// Strict mode sets no CF_Authorization cookie, so nothing shows Access.
			{"ok.example.com", probe.ClassOK, 200, "normal in strict mode"},
			{"login.example.com", probe.ClassForbidden, 403, "no policy admits it"},
			{"hook.example.com", probe.ClassForbidden, 403, "no policy admits it"},
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			f, conn := classFixture(t, mode.strict)
			cases := append(slices.Clone(common), mode.extra...)
			args := append([]string{"test", "-o", "json"}, conn...)
			for _, c := range cases {
				args = append(args, c.target)
			}
			run := f.run(args...)
			checkClasses(t, run, cases)
			if run.code != ExitRejected {
				t.Errorf("exit code %d, want %d; stderr:\n%s", run.code, ExitRejected, run.stderr)
			}
		})
	}
}

func checkClasses(t *testing.T, run cliRun, cases []classCase) {
	t.Helper()
	var results []testResultJSON
	if err := json.Unmarshal([]byte(run.stdout), &results); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s\nstderr:\n%s", err, run.stdout, run.stderr)
	}
	if len(results) != len(cases) {
		t.Fatalf("%d results for %d targets", len(results), len(cases))
	}
	for i, c := range cases {
		got := results[i]
		switch {
		case got.Target != c.target || got.Class != string(c.class) || got.Status != c.status:
			t.Errorf("%s: got %s %d, want %s %d (hint %q)", c.target, got.Class, got.Status,
				c.class, c.status, got.Hint)
		case c.hint == "" && got.Hint != "", !strings.Contains(got.Hint, c.hint):
			t.Errorf("%s: hint %q, want one with %q", c.target, got.Hint, c.hint)
		case c.status != 0 && !strings.HasSuffix(got.Ray, "-SJC") && c.class != probe.ClassNotProtected:
			t.Errorf("%s: ray %q", c.target, got.Ray)
		}
	}
}

// TestInvalidSecretClasses sends a wrong secret: strict mode says 401 everywhere; the
// default mode sends a login redirect where an identity login could pass, and 403 or the
// application's 401 elsewhere.
func TestInvalidSecretClasses(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%t", strict), func(t *testing.T) {
			t.Parallel()
			f, _ := classFixture(t, strict)
			f.writeEnv("CF_SERVICE_TOKEN_CLIENT_ID=" + testClientID + "\n" +
				"CF_SERVICE_TOKEN_CLIENT_SECRET=cfast_WRONGwrongWRONGwrongWRONGwrong1234\n")
			cases := []classCase{
				{"ok.example.com", probe.ClassForbidden, 403, "no policy admits it"},
				{"login.example.com", probe.ClassLoginRedirect, 302, "no Service Auth policy"},
				{"hook.example.com", probe.ClassUnauthenticated, 401, "cannot authenticate"},
			}
			if strict {
				cases[0] = classCase{"ok.example.com", probe.ClassUnauthenticated, 401,
					"cannot authenticate"}
				cases[1] = classCase{"login.example.com", probe.ClassUnauthenticated, 401,
					"cannot authenticate"}
			}
			checkClasses(t, f.run("test", "-o", "json", "ok.example.com", "login.example.com",
				"hook.example.com"), cases)
		})
	}
}

// TestCompareAnonymous proves protection: a Bypass application answers without the token
// too, so it is not_protected; a protected one shows what the request without it got.
func TestCompareAnonymous(t *testing.T) {
	f, _ := classFixture(t, false)
	run := f.run("test", "--compare-anonymous", "ok.example.com", "open.example.com")
	lines := strings.Split(strings.TrimSpace(run.stdout), "\n")
	want := []string{
		`^✓ ok\.example\.com  ok  200  \d+ms  without token: 403 forbidden$`,
		`^✗ open\.example\.com  not_protected  200  \d+ms  HTTP 200; without credentials ` +
			`too \(HTTP 200\)  without token: 200 ok  hint: the request without the token ` +
			`succeeded too`,
	}
	if len(lines) != len(want) {
		t.Fatalf("stdout:\n%s", run.stdout)
	}
	for i, pattern := range want {
		if !matches(pattern, lines[i]) {
			t.Errorf("line %d: %q\nwant %s", i+1, lines[i], pattern)
		}
	}
	if run.code != ExitRejected {
		t.Errorf("exit code %d", run.code)
	}
}

// TestExitCodes: 0 when all are ok, 8 when only backends or tunnels are down, 9 when
// something rejected the token.
func TestExitCodes(t *testing.T) {
	f, _ := classFixture(t, false)
	tests := []struct {
		targets []string
		code    int
		stderr  string
	}{
		{[]string{"ok.example.com"}, ExitOK, "1 target in "},
		{[]string{"ok.example.com", "down.example.com", "tunnel.example.com"}, ExitDegraded,
			"cfst: the token was accepted everywhere, but 2 of 3 targets have a backend or " +
				"tunnel down"},
		{[]string{"ok.example.com", "down.example.com", "login.example.com"}, ExitRejected,
			"cfst: 1 of 3 targets rejected the token, answered unexpectedly or could not " +
				"be reached; 1 more has a backend or tunnel down"},
	}
	for _, tt := range tests {
		run := f.run(append([]string{"test"}, tt.targets...)...)
		if run.code != tt.code || !strings.Contains(run.stderr, tt.stderr) {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", tt.targets, run.code, tt.code,
				run.stderr)
		}
	}
}

// TestPipedLines checks the piped text format, in target order whatever the order of
// answers: a slow first target must not reorder the lines.
func TestPipedLines(t *testing.T) {
	f := newEmuFixture(t, `
service_tokens:`+worldToken+`
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
applications:
  - {name: slow, domain: slow.example.com, policies: [tokens], origin: "slow:300ms"}
  - {name: fast, domain: fast.example.com, policies: [tokens]}
  - {name: down, domain: down.example.com, policies: [tokens], origin: down}
`)
	run := f.run("test", "slow.example.com", "fast.example.com", "down.example.com")
	want := []string{
		`^✓ slow\.example\.com  ok  200  \d+ms$`,
		`^✓ fast\.example\.com  ok  200  \d+ms$`,
		`^✗ down\.example\.com  backend_down  502  \d+ms  HTTP 502  hint: Access admitted the ` +
			`token; the origin behind the tunnel is not answering`,
	}
	lines := strings.Split(strings.TrimSpace(run.stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stdout:\n%s", run.stdout)
	}
	for i, pattern := range want {
		if !matches(pattern, lines[i]) {
			t.Errorf("line %d: %q\nwant %s", i+1, lines[i], pattern)
		}
	}
	if !strings.Contains(run.stderr, "3 targets in ") ||
		!strings.Contains(run.stderr, "2 ok, 1 backend_down") {
		t.Errorf("stderr:\n%s", run.stderr)
	}
}

// TestSecretInNoOutput runs every output format, verbose, over every class: the canary
// secret must appear in none of them.
func TestSecretInNoOutput(t *testing.T) {
	f, conn := classFixture(t, false)
	targets := []string{"ok.example.com", "down.example.com", "tunnel.example.com",
		"login.example.com", "hook.example.com", "closed.example.com", "teapot.example.com",
		"waf.example.com", "open.example.com", "plain.example.com", "refused.example.com",
		"http://ok.example.com/"}
	for _, format := range []string{formatText, formatJSON, formatJUnit, formatMarkdown} {
		args := append([]string{"--verbose", "test", "--compare-anonymous", "-o", format},
			conn...)
		run := f.run(append(args, targets...)...)
		assertNoCanary(t, format+" stdout", run.stdout)
		assertNoCanary(t, format+" stderr", run.stderr)
		if !strings.Contains(run.stderr, "Cf-Access-Client-Secret: [redacted]") {
			t.Errorf("%s: --verbose dumped no redacted request:\n%s", format, run.stderr)
		}
	}
}

func TestJSONKeys(t *testing.T) {
	f, _ := classFixture(t, false)
	run := f.run("test", "-o", "json", "ok.example.com")
	var items []map[string]any
	if err := json.Unmarshal([]byte(run.stdout), &items); err != nil || len(items) != 1 {
		t.Fatalf("%v\n%s", err, run.stdout)
	}
	var keys []string
	for key := range items[0] {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	want := []string{"class", "hint", "latency_ms", "ray", "status", "target"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want exactly %v", keys, want)
	}
}

func TestJUnitReport(t *testing.T) {
	f, conn := classFixture(t, false)
	args := append([]string{"test", "-o", "junit"}, conn...)
	run := f.run(append(args, "ok.example.com", "login.example.com",
		"refused.example.com")...)
	var report junitSuites
	if err := xml.Unmarshal([]byte(run.stdout), &report); err != nil {
		t.Fatalf("not XML: %v\n%s", err, run.stdout)
	}
	if report.Tests != 3 || report.Failures != 1 || report.Errors != 1 ||
		len(report.Suites) != 1 || len(report.Suites[0].Cases) != 3 {
		t.Fatalf("report %+v", report)
	}
	cases := report.Suites[0].Cases
	if cases[0].Failure != nil || cases[0].Error != nil {
		t.Errorf("ok case: %+v", cases[0])
	}
	if cases[1].Failure == nil || cases[1].Failure.Type != "login_redirect" ||
		!strings.Contains(cases[1].Failure.Text, "Service Auth") {
		t.Errorf("login case: %+v", cases[1])
	}
	if cases[2].Error == nil || cases[2].Error.Type != "network_error" ||
		!strings.HasPrefix(cases[2].Error.Message, "network_error: connect: connection refused") {
		t.Errorf("refused case: %+v", cases[2].Error)
	}
}

func TestMarkdownTable(t *testing.T) {
	got := captureMarkdown(t, []probe.Result{
		{Target: probe.Target{Name: "a.example.com"}, Class: probe.ClassOK, Status: 200,
			Latency: 41 * time.Millisecond},
		{Target: probe.Target{Name: "b|c"}, Class: probe.ClassLoginRedirect, Status: 302,
			Latency: 1500 * time.Millisecond, Hint: "fix\nit | now"},
	})
	want := "| | Target | Class | Status | Latency | Hint |\n" +
		"|---|---|---|---|---|---|\n" +
		"| ✓ | a.example.com | `ok` | 200 | 41ms |  |\n" +
		"| ✗ | b\\|c | `login_redirect` | 302 | 1.5s | fix it \\| now |\n" +
		"\n1 of 2 targets ok.\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func captureMarkdown(t *testing.T, results []probe.Result) string {
	t.Helper()
	var out strings.Builder
	if err := writeTestMarkdown(&out, results); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestTableOnTerminal checks the terminal form: a table, then each failure's hint.
func TestTableOnTerminal(t *testing.T) {
	f, _ := classFixture(t, false)
	app, stdout, stderr := f.newApp("")
	app.Streams.OutTTY = true
	code := Run(context.Background(), app, []string{"--env-file", f.envFile, "test",
		"ok.example.com", "down.example.com"})
	out := stdout.String()
	lines := strings.Split(out, "\n")
	if code != ExitDegraded || !matches(`^ +TARGET +CLASS +STATUS +LATENCY +RAY$`, lines[0]) ||
		!matches(`^✓ +ok\.example\.com +ok +200 +\d+ms +[0-9a-f]{16}-SJC$`, lines[1]) ||
		!strings.Contains(out, "\n✗ down.example.com: HTTP 502\n  hint: Access admitted") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
}

// TestProgressLine checks that a terminal's stderr gets a progress line that is cleared
// at the end.
func TestProgressLine(t *testing.T) {
	f, _ := classFixture(t, false)
	app, _, stderr := f.newApp("")
	app.Streams.ErrTTY = true
	Run(context.Background(), app, []string{"--env-file", f.envFile, "test", "ok.example.com"})
	text := stderr.String()
	if !strings.Contains(text, "\r\033[Ktesting 0/1: 0 ok, 0 failed") ||
		!strings.Contains(text, "\r\033[K1 target in ") {
		t.Errorf("stderr: %q", text)
	}
}

// TestSlowTargetTimesOutAlone checks --timeout-per-target at the CLI: the slow target
// fails with a timeout, the others answer, and a services file's own timeout wins.
func TestSlowTargetTimesOutAlone(t *testing.T) {
	f := newEmuFixture(t, `
service_tokens:`+worldToken+`
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
applications:
  - {name: stuck, domain: stuck.example.com, policies: [tokens], origin: "slow:1h"}
  - {name: fast, domain: fast.example.com, policies: [tokens]}
`)
	services := filepath.Join(f.dir, "services.yaml")
	content := "- fast.example.com\n- {host: stuck.example.com, timeout: 200ms, name: stuck}\n"
	if err := os.WriteFile(services, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	run := f.run("test", "-o", "json", "--timeout-per-target", "1m", "--services", services)
	checkClasses(t, run, []classCase{
		{"fast.example.com", probe.ClassOK, 200, ""},
		{"stuck", probe.ClassNetworkError, 0, "no answer in time"},
	})
}

// TestDeadlineEndsTheRun checks --deadline: pending targets fail, each with a result.
func TestDeadlineEndsTheRun(t *testing.T) {
	f := newEmuFixture(t, `
service_tokens:`+worldToken+`
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
applications:
  - {name: stuck, domain: stuck.example.com, policies: [tokens], origin: "slow:1h"}
`)
	run := f.run("test", "-o", "json", "--deadline", "200ms", "stuck.example.com")
	checkClasses(t, run, []classCase{
		{"stuck.example.com", probe.ClassNetworkError, 0, "allow the run more time"},
	})
}

// TestCredentialsOnlyOverHTTPS: a plain http target gets no credentials without
// --allow-http, and a warning with it.
func TestCredentialsOnlyOverHTTPS(t *testing.T) {
	f, _ := classFixture(t, false)
	run := f.run("test", "-o", "json", "http://ok.example.com/")
	checkClasses(t, run, []classCase{
		{"http://ok.example.com/", probe.ClassNetworkError, 0, "--allow-http"},
	})
	run = f.run("test", "--allow-http", "http://plain-http.example.com/",
		"--connect-to", "plain-http.example.com:80:"+transporttest.ClosedPort(t))
	if !strings.Contains(run.stderr, "warning: --allow-http: the client secret goes "+
		"unencrypted to plain-http.example.com") {
		t.Errorf("stderr:\n%s", run.stderr)
	}
}

// TestTestUsageErrors covers the failures before any request.
func TestTestUsageErrors(t *testing.T) {
	f, _ := classFixture(t, false)
	bad := filepath.Join(f.dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("- {url: x, colour: red}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"test"}, "cfst: cfst test needs targets"},
		{[]string{"test", "ftp://a.example.com"}, `scheme "ftp" is not http or https`},
		{[]string{"test", "--services", bad}, `bad.yaml:1: unknown key "colour"`},
		{[]string{"test", "--services", filepath.Join(f.dir, "missing")}, "read services file"},
	}
	for _, tt := range tests {
		run := f.run(tt.args...)
		if run.code != ExitUsage || !strings.Contains(run.stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr:\n%s", tt.args, run.code, run.stderr)
		}
	}
	f.writeEnv("# no token\n")
	run := f.run("test", "ok.example.com")
	if run.code != ExitUsage || !strings.Contains(run.stderr, "no service token") {
		t.Errorf("without credentials: exit %d, stderr:\n%s", run.code, run.stderr)
	}
}

// TestServicesFromStdin reads a plain list from stdin.
func TestServicesFromStdin(t *testing.T) {
	f, _ := classFixture(t, false)
	app, stdout, _ := f.newApp("# services\nok.example.com\nhttps://down.example.com/x\n")
	code := Run(context.Background(), app, []string{"--env-file", f.envFile, "test",
		"--services", "-", "-o", "json"})
	var results []testResultJSON
	if err := json.Unmarshal([]byte(stdout.String()), &results); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Target+" "+r.Class)
	}
	want := []string{"ok.example.com ok", "https://down.example.com/x backend_down"}
	if code != ExitDegraded || !reflect.DeepEqual(got, want) {
		t.Errorf("exit %d, got %v", code, got)
	}
}
