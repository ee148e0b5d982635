package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cfst/cfst/internal/transport/transporttest"
)

func TestCurlOptions(t *testing.T) {
	var got *curlOptions
	record := func(_ context.Context, _ *App, opts *curlOptions) error { got = opts; return nil }

	err := parse(t, curlCommand(testApp(), record), "-X", "PUT", "-H", "A: 1", "-H", "B: 2, 3",
		"-d", "x=1", "-d", "@f", "--data-binary", "@g", "-i", "-o", "out", "-sS", "--fail",
		"--allow-http", "--connect-to", "::127.0.0.1:1", "https://a.example.com/p")
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://a.example.com/p" || got.Method != "PUT" ||
		!slices.Equal(got.Headers, []string{"A: 1", "B: 2, 3"}) ||
		!slices.Equal(got.Data, []string{"x=1", "@f"}) ||
		!slices.Equal(got.DataBinary, []string{"@g"}) || !got.Include || got.OutFile != "out" ||
		!got.Silent || !got.ShowError || !got.Fail || !got.Conn.AllowHTTP ||
		len(got.Conn.ConnectTo) != 1 {
		t.Errorf("got %+v", *got)
	}
	// The help's example, and the long forms.
	for _, args := range [][]string{
		{"-sS", "--fail", "-o", "report.csv", "https://ha.example.com/export"},
		{"--silent", "--show-error", "--fail", "https://ha.example.com/export"},
	} {
		got = nil
		if err := parse(t, curlCommand(testApp(), record), args...); err != nil ||
			!got.Silent || !got.ShowError || !got.Fail {
			t.Errorf("%q: err %v, got %+v", args, err, got)
		}
	}
	got = nil
	err = parse(t, curlCommand(testApp(), record), "-S", "https://a.example.com/")
	if err != nil || got.Silent || !got.ShowError {
		t.Errorf("-S alone: err %v, got %+v", err, got)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"-X"}} {
		got = nil
		if err := parse(t, curlCommand(testApp(), record), args...); err == nil || got != nil {
			t.Errorf("%q: err %v", args, err)
		}
	}
}

// recordingOrigin is an origin behind the emulator that remembers each request.
type recordingOrigin struct {
	mu       sync.Mutex
	requests []recordedRequest
}

type recordedRequest struct {
	method, path string
	header       http.Header
	body         string
}

func (o *recordingOrigin) handler(answer http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.requests = append(o.requests, recordedRequest{method: r.Method, path: r.URL.Path,
			header: r.Header.Clone(), body: string(body)})
		o.mu.Unlock()
		answer(w, r)
	}
}

func (o *recordingOrigin) last(t *testing.T) recordedRequest {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.requests) == 0 {
		t.Fatal("the origin received no request")
	}
	return o.requests[len(o.requests)-1]
}

// curlWorld: an echo, a recording origin, a down origin, an identity-only application
// and an origin that redirects to another host.
const curlWorld = `
service_tokens:` + worldToken + `
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
  - {name: people, decision: allow, include: [{email_domain: {domain: example.com}}]}
applications:
  - {name: echo, domain: echo.example.com, policies: [tokens]}
  - {name: rec, domain: rec.example.com, policies: [tokens], origin: "%s"}
  - {name: down, domain: down.example.com, policies: [tokens], origin: down}
  - {name: login, domain: login.example.com, policies: [people]}
  - {name: away, domain: away.example.com, policies: [tokens], origin: "%s"}
`

type curlFixture struct {
	*emuFixture
	origin    *recordingOrigin
	collector *recordingOrigin
	conn      []string // --connect-to for collector.example.com, --cacert for its CA
}

func newCurlFixture(t *testing.T) *curlFixture {
	t.Helper()
	origin, collector := &recordingOrigin{}, &recordingOrigin{}
	recURL := originServer(t, origin.handler(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "recorded\n")
	}))
	awayURL := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://collector.example.com/steal", http.StatusFound)
	})
	f := &curlFixture{emuFixture: newEmuFixture(t, fmt.Sprintf(curlWorld, recURL, awayURL)),
		origin: origin, collector: collector}
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, collector.handler(func(http.ResponseWriter, *http.Request) {}))
	caFile := filepath.Join(f.dir, "collector-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	f.conn = []string{"--cacert", caFile, "--connect-to",
		"collector.example.com:443:" + strings.TrimPrefix(srv.URL, "https://")}
	return f
}

func TestCurlSuccess(t *testing.T) {
	f := newCurlFixture(t)
	run := f.run("curl", "https://echo.example.com/hello")
	var echo struct {
		Path     string         `json:"path"`
		Received map[string]any `json:"access_headers_received"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &echo); err != nil || run.code != 0 {
		t.Fatalf("exit %d, %v; stdout:\n%s\nstderr:\n%s", run.code, err, run.stdout, run.stderr)
	}
	if echo.Path != "/hello" || echo.Received["cf-access-client-id"] != testClientID ||
		echo.Received["cf-access-jwt-assertion"] != true {
		t.Errorf("the origin saw %+v", echo)
	}
	if run.stderr != "" {
		t.Errorf("stderr on success: %q", run.stderr)
	}
}

func TestCurlIncludeAndHead(t *testing.T) {
	f := newCurlFixture(t)
	run := f.run("curl", "-i", "echo.example.com")
	if !strings.HasPrefix(run.stdout, "HTTP/2.0 200 OK\r\n") ||
		!strings.Contains(run.stdout, "\r\nCf-Ray: ") ||
		!strings.Contains(run.stdout, "\r\n\r\n{\"app\":\"echo\"") {
		t.Errorf("-i stdout:\n%s", run.stdout)
	}
	run = f.run("curl", "-I", "echo.example.com")
	if !strings.HasPrefix(run.stdout, "HTTP/2.0 200 OK\r\n") || strings.Contains(run.stdout, "{") {
		t.Errorf("-I stdout:\n%s", run.stdout)
	}
}

func TestCurlSendsMethodHeadersAndData(t *testing.T) {
	f := newCurlFixture(t)
	dataFile := filepath.Join(f.dir, "data.txt")
	if err := os.WriteFile(dataFile, []byte("line1\nline2\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args         []string
		method, body string
		header       [2]string
	}{
		{[]string{"-d", "a=1", "-d", "@" + dataFile}, "POST", "a=1&line1line2",
			[2]string{"Content-Type", "application/x-www-form-urlencoded"}},
		{[]string{"-X", "PUT", "--data-binary", "@" + dataFile, "-H",
			"Content-Type: text/plain"}, "PUT", "line1\nline2\r\n",
			[2]string{"Content-Type", "text/plain"}},
		{[]string{"-H", "X-Trace: 42", "-H", "User-Agent:"}, "GET", "",
			[2]string{"X-Trace", "42"}},
	}
	for _, tt := range tests {
		run := f.run(append(append([]string{"curl"}, tt.args...), "rec.example.com/in")...)
		got := f.origin.last(t)
		if run.code != 0 || got.method != tt.method || got.body != tt.body ||
			got.header.Get(tt.header[0]) != tt.header[1] {
			t.Errorf("%v: exit %d, origin got %s %q %v; stderr:\n%s", tt.args, run.code,
				got.method, got.body, got.header, run.stderr)
		}
	}
}

func TestCurlDataFromStdin(t *testing.T) {
	f := newCurlFixture(t)
	app, _, _ := f.newApp("from stdin\n")
	code := Run(context.Background(), app, []string{"--env-file", f.envFile, "curl",
		"--data-binary", "@-", "rec.example.com"})
	if got := f.origin.last(t); code != 0 || got.body != "from stdin\n" {
		t.Errorf("exit %d, body %q", code, got.body)
	}
}

// TestCurlDropsClientCredentials: credential headers given with -H never replace the
// token, and the secret never reaches the origin.
func TestCurlDropsClientCredentials(t *testing.T) {
	f := newCurlFixture(t)
	run := f.run("curl", "-H", "CF-Access-Client-Id: attacker.access", "-H",
		"cf-access-client-secret: "+testCanary+"-typed", "rec.example.com")
	got := f.origin.last(t)
	if run.code != 0 || got.header.Get("Cf-Access-Client-Id") != testClientID ||
		got.header.Get("Cf-Access-Client-Secret") != "" {
		t.Errorf("exit %d, origin headers %v", run.code, got.header)
	}
	if !strings.Contains(run.stderr, "warning: ignoring -H Cf-Access-Client-Id") {
		t.Errorf("stderr:\n%s", run.stderr)
	}
}

func TestCurlOutputFile(t *testing.T) {
	f := newCurlFixture(t)
	out := filepath.Join(f.dir, "body.txt")
	run := f.run("curl", "-o", out, "rec.example.com")
	data, err := os.ReadFile(out)
	if run.code != 0 || err != nil || string(data) != "recorded\n" || run.stdout != "" {
		t.Errorf("exit %d, file %q (%v), stdout %q", run.code, data, err, run.stdout)
	}
}

// TestCurlFailureClasses checks exit codes and the notes that name the class.
func TestCurlFailureClasses(t *testing.T) {
	f := newCurlFixture(t)
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{[]string{"down.example.com"}, 0, "502: Bad gateway",
			[]string{"cfst: backend_down: HTTP 502", "hint: Access admitted the token"}},
		{[]string{"--fail", "down.example.com"}, ExitHTTPError, "",
			[]string{"cfst: the server answered HTTP 502 (backend_down: HTTP 502)",
				"hint: Access admitted the token"}},
		{[]string{"-sf", "down.example.com"}, ExitHTTPError, "", nil},
		{[]string{"-sSf", "down.example.com"}, ExitHTTPError, "",
			[]string{"cfst: the server answered HTTP 502 (backend_down: HTTP 502)",
				"hint: Access admitted the token"}},
		{[]string{"-sS", "down.example.com"}, 0, "502: Bad gateway", nil},
		{[]string{"-S", "down.example.com"}, 0, "502: Bad gateway",
			[]string{"cfst: backend_down: HTTP 502", "hint: Access admitted the token"}},
		{[]string{"login.example.com"}, 0, "",
			[]string{"cfst: login_redirect: HTTP 302 to the Access login page",
				"hint: Access wants an identity login"}},
		{[]string{"-s", "login.example.com"}, 0, "", nil},
		{[]string{"-sS", "login.example.com"}, 0, "", nil},
		{[]string{"http://echo.example.com/"}, ExitRefused, "",
			[]string{`cfst: refusing to send the client secret over plain http to ` +
				`"echo.example.com"`, "hint: use an https URL, or pass --allow-http"}},
		{[]string{"--connect-to", "gone.example.com:443:" + transporttest.ClosedPort(t),
			"gone.example.com"}, ExitUnreachable, "",
			[]string{"cfst: connect: connection refused by 127.0.0.1:",
				"hint: nothing accepts connections there"}},
		{[]string{"-s", "--connect-to", "gone.example.com:443:" + transporttest.ClosedPort(t),
			"gone.example.com"}, ExitUnreachable, "", nil},
		{[]string{"-sS", "--connect-to", "gone.example.com:443:" +
			transporttest.ClosedPort(t), "gone.example.com"}, ExitUnreachable, "",
			[]string{"cfst: connect: connection refused by 127.0.0.1:",
				"hint: nothing accepts connections there"}},
		{[]string{"-H", "no colon", "echo.example.com"}, ExitUsage, "",
			[]string{"cfst: header 1 (-H) is not 'Name: value'",
				"hint: write -H 'Name: value'"}},
	}
	for _, tt := range tests {
		run := f.run(append([]string{"curl"}, tt.args...)...)
		lines := strings.Split(strings.TrimSpace(run.stderr), "\n")
		if run.stderr == "" {
			lines = nil
		}
		ok := run.code == tt.code && strings.Contains(run.stdout, tt.stdout) &&
			len(lines) == len(tt.stderr)
		for i := range min(len(lines), len(tt.stderr)) {
			ok = ok && strings.HasPrefix(lines[i], tt.stderr[i])
		}
		if !ok {
			t.Errorf("%v: exit %d (want %d)\nstdout: %q\nstderr:\n%s", tt.args, run.code,
				tt.code, run.stdout, run.stderr)
		}
	}
}

// TestCurlNeverFollowsRedirects: the redirect to another host comes back as it is, and
// the other host's log proves nothing, let alone a credential, arrived there.
func TestCurlNeverFollowsRedirects(t *testing.T) {
	f := newCurlFixture(t)
	run := f.run(append(append([]string{"curl", "-i"}, f.conn...), "away.example.com")...)
	if run.code != 0 || !strings.Contains(run.stdout, "302 Found") ||
		!strings.Contains(run.stdout, "Location: https://collector.example.com/steal") {
		t.Errorf("exit %d, stdout:\n%s", run.code, run.stdout)
	}
	if len(f.collector.requests) != 0 {
		t.Errorf("the other host received %d requests", len(f.collector.requests))
	}
	if !strings.Contains(run.stderr, `redirect to another host "collector.example.com", `+
		"not followed") {
		t.Errorf("stderr:\n%s", run.stderr)
	}
}

// TestCurlSecretInNoOutput runs curl verbose with headers over every outcome.
func TestCurlSecretInNoOutput(t *testing.T) {
	f := newCurlFixture(t)
	for _, target := range []string{"echo.example.com", "down.example.com",
		"login.example.com", "away.example.com", "http://echo.example.com"} {
		for _, extra := range [][]string{{"-i"}, {"--fail"}} {
			args := append([]string{"--verbose", "curl"}, extra...)
			run := f.run(append(append(args, f.conn...), target)...)
			assertNoCanary(t, target+" stdout", run.stdout)
			assertNoCanary(t, target+" stderr", run.stderr)
		}
	}
	run := f.run("--verbose", "curl", "echo.example.com")
	if !strings.Contains(run.stderr, "> Cf-Access-Client-Secret: [redacted]") {
		t.Errorf("--verbose shows no redacted request:\n%s", run.stderr)
	}
}
