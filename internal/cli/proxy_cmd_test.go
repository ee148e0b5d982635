package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/transport/transporttest"
)

func TestProxyOptions(t *testing.T) {
	var got *proxyOptions
	record := func(_ context.Context, _ *App, opts *proxyOptions) error { got = opts; return nil }

	err := parse(t, proxyCommand(testApp(), record), "--listen", "0.0.0.0:9", "--to",
		"https://a.example.com", "--to", "b.example.com", "--listen-public",
		"--auth-token-file", "tok", "--allow-client", "10.0.0.0/8", "--pass-access-cookie",
		"--reload-every", "5s", "--allow-http", "--connect-to", "::127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Listen != "0.0.0.0:9" ||
		!slices.Equal(got.To, []string{"https://a.example.com", "b.example.com"}) ||
		!got.ListenPublic || got.AuthTokenFile != "tok" ||
		!slices.Equal(got.AllowClients, []string{"10.0.0.0/8"}) || !got.PassAccessCookie ||
		got.ReloadEvery.String() != "5s" || !got.Conn.AllowHTTP || len(got.Conn.ConnectTo) != 1 {
		t.Errorf("got %+v", *got)
	}
	got = nil
	if err := parse(t, proxyCommand(testApp(), record)); err == nil || got != nil {
		t.Errorf("no --to: %v", err)
	}
	if err := parse(t, proxyCommand(testApp(), record), "--to", "a.example.com", "extra"); err == nil ||
		got != nil {
		t.Errorf("an argument: %v", err)
	}
}

// proxyTestEcho is the part of the echo origin's answer the tests read.
type proxyTestEcho struct {
	App      string         `json:"app"`
	Host     string         `json:"host"`
	Path     string         `json:"path"`
	Received map[string]any `json:"access_headers_received"`
}

func decodeProxyEcho(t *testing.T, body string) proxyTestEcho {
	t.Helper()
	var echo proxyTestEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatalf("not the echo origin's answer: %v\n%s", err, body)
	}
	return echo
}

// TestProxySuccess: a plain http client without credentials reaches a protected service
// through the proxy, and the origin behind Access saw the token's id and Access's JWT.
func TestProxySuccess(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com")
	resp, body := p.get("/echo.example.com/api/traces")
	echo := decodeProxyEcho(t, body)
	if resp.StatusCode != http.StatusOK || echo.App != "echo" || echo.Path != "/api/traces" ||
		echo.Received["cf-access-client-id"] != testClientID ||
		echo.Received["cf-access-jwt-assertion"] != true {
		t.Errorf("status %d, the origin saw %+v", resp.StatusCode, echo)
	}
	if code := p.stop(); code != ExitOK {
		t.Errorf("exit code %d after stop; stderr:\n%s", code, p.stderr)
	}
	assertNoCanary(t, "the proxy's stderr", p.stderr.String())
	if !strings.Contains(p.stderr.String(), "cfst proxy: listening on http://127.0.0.1:") ||
		!strings.Contains(p.stderr.String(), "/echo.example.com/ -> https://echo.example.com") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}

// TestProxyFailureClasses: the answers of Access and of the edge pass through as they
// are (a login redirect, a down backend, a down tunnel), and an upstream that does not
// answer at all gets a 502 from the proxy that says why.
func TestProxyFailureClasses(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://login.example.com", "--to",
		"https://down.example.com", "--to", "https://tunnel.example.com", "--to",
		"https://gone.example.com", "--connect-to", "gone.example.com:443:"+
			transporttest.ClosedPort(t))
	tests := []struct {
		path     string
		status   int
		body     string
		location string
	}{
		{"/login.example.com/", http.StatusFound, "",
			"https://" + f.srv.TeamDomain() + "/cdn-cgi/access/login/login.example.com"},
		{"/down.example.com/", http.StatusBadGateway, "502: Bad gateway", ""},
		{"/tunnel.example.com/", 530, "error code: 1033", ""},
		{"/gone.example.com/", http.StatusBadGateway,
			"cfst proxy: upstream gave no answer: connect: connection refused", ""},
	}
	for _, tt := range tests {
		resp, body := p.get(tt.path)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) ||
			!strings.HasPrefix(resp.Header.Get("Location"), tt.location) {
			t.Errorf("%s: status %d, Location %q, body:\n%s", tt.path, resp.StatusCode,
				resp.Header.Get("Location"), body)
		}
	}
	log := p.stderr.String()
	for _, line := range []string{" GET /login.example.com/ 302 login.example.com ",
		" GET /down.example.com/ 502 down.example.com ",
		" GET /tunnel.example.com/ 530 tunnel.example.com ",
		" GET /gone.example.com/ 502 gone.example.com "} {
		if !strings.Contains(log, line) {
			t.Errorf("no access log line with %q:\n%s", line, log)
		}
	}
}

// TestProxyRouting follows the rules of the help: Host first, then the first path
// segment, then the single upstream; with several, anything else is a 404.
func TestProxyRouting(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com", "--to",
		"https://rec.example.com")
	tests := []struct {
		path, host   string
		status       int
		app, seePath string
	}{
		{"/echo.example.com/a/b?q=1", "", http.StatusOK, "echo", "/a/b"},
		{"/ECHO.example.com", "", http.StatusOK, "echo", "/"},
		{"/a/b", "echo.example.com", http.StatusOK, "echo", "/a/b"},
		{"/rec.example.com/x", "echo.example.com", http.StatusOK, "echo", "/rec.example.com/x"},
		{"/x", "rec.example.com:8080", http.StatusOK, "rec", "/x"},
		{"/other.example.com/x", "", http.StatusNotFound, "", ""},
		{"/x", "localhost", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		var headers []string
		if tt.host != "" {
			headers = append(headers, "Host: "+tt.host)
		}
		resp, body := p.get(tt.path, headers...)
		if resp.StatusCode != tt.status {
			t.Errorf("%s (Host %q): status %d, body %s", tt.path, tt.host, resp.StatusCode, body)
			continue
		}
		switch tt.app {
		case "echo":
			if echo := decodeProxyEcho(t, body); echo.Path != tt.seePath ||
				echo.Host != "echo.example.com" {
				t.Errorf("%s (Host %q): echo saw %+v", tt.path, tt.host, echo)
			}
		case "rec":
			if got := f.origin.last(t); got.path != tt.seePath || body != "recorded\n" {
				t.Errorf("%s (Host %q): rec saw %s, body %q", tt.path, tt.host, got.path, body)
			}
		}
	}
}

// TestProxySingleUpstreamIsDefault: with one --to, every path goes there unchanged.
func TestProxySingleUpstreamIsDefault(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com")
	resp, body := p.get("/metrics")
	if echo := decodeProxyEcho(t, body); resp.StatusCode != http.StatusOK ||
		echo.Path != "/metrics" || echo.Received["cf-access-client-id"] != testClientID {
		t.Errorf("status %d, echo saw %+v", resp.StatusCode, echo)
	}
}

// TestProxyUnlistedHostGetsNothing: whatever a client names, a host that is not a --to
// receives no request from the proxy, so no credential: the receiving server's log is
// empty. A redirect there is handed to the client, and a client that follows it arrives
// without a credential.
func TestProxyUnlistedHostGetsNothing(t *testing.T) {
	f := newProxyFixture(t)
	conn := f.collectorConn(t)
	p := f.start(t, append(conn, "--to", "https://echo.example.com",
		"--to", "https://away.example.com")...)
	tests := []struct {
		path, host string
		status     int
	}{
		{"/collector.example.com/steal", "", http.StatusNotFound},
		{"/steal", "collector.example.com", http.StatusMisdirectedRequest},
		{"/steal", "collector.example.com:443", http.StatusMisdirectedRequest},
		{"/steal", "localhost", http.StatusNotFound},
	}
	for _, tt := range tests {
		headers := []string{}
		if tt.host != "" {
			headers = append(headers, "Host: "+tt.host)
		}
		if resp, body := p.get(tt.path, headers...); resp.StatusCode != tt.status {
			t.Errorf("%s (Host %q): status %d, want %d: %s", tt.path, tt.host,
				resp.StatusCode, tt.status, body)
		}
	}
	resp, _ := p.get("/away.example.com/")
	if resp.StatusCode != http.StatusFound ||
		resp.Header.Get("Location") != "https://collector.example.com/steal" {
		t.Errorf("redirect to another host: status %d, Location %q", resp.StatusCode,
			resp.Header.Get("Location"))
	}
	if n := proxyTestCount(f.collector); n != 0 {
		t.Fatalf("the collector received %d requests through the proxy", n)
	}
	followed, err := f.collectorClient().Get(p.base + "/away.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	followed.Body.Close()
	got := f.collector.last(t)
	if followed.StatusCode != http.StatusOK || proxyTestAccessHeaders(got.header) != "" {
		t.Errorf("after the redirect: status %d, the collector got %v", followed.StatusCode,
			got.header)
	}
}

// proxyTestCount is how many requests o received.
func proxyTestCount(o *recordingOrigin) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.requests)
}

// proxyTestAccessHeaders lists the CF-Access-* headers and the Access cookie in header.
func proxyTestAccessHeaders(header http.Header) string {
	var found []string
	for name := range header {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), accessHeaderPrefix) {
			found = append(found, name)
		}
	}
	if strings.Contains(header.Get("Cookie"), accessCookie) {
		found = append(found, "Cookie "+accessCookie)
	}
	slices.Sort(found)
	return strings.Join(found, ", ")
}

// TestProxyRewritesRedirectsWithinUpstream: a redirect to a path of the upstream stays
// under its /HOST prefix when routing by path, and is left alone when routing by Host.
func TestProxyRewritesRedirectsWithinUpstream(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://rec.example.com", "--to",
		"https://echo.example.com")
	resp, _ := p.get("/rec.example.com/moved")
	if resp.StatusCode != http.StatusFound ||
		resp.Header.Get("Location") != "/rec.example.com/new/place?x=1" {
		t.Errorf("by path: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = p.get("/moved", "Host: rec.example.com")
	if resp.Header.Get("Location") != "/new/place?x=1" {
		t.Errorf("by Host: Location %q", resp.Header.Get("Location"))
	}
}

// TestProxyStripsClientAccessHeaders: CF-Access-* headers and the CF_Authorization
// cookie a client sends never reach Access or the origin; other cookies do.
func TestProxyStripsClientAccessHeaders(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://rec.example.com")
	resp, _ := p.get("/in", "CF-Access-Client-Id: attacker.access",
		"cf-access-client-secret: "+testCanary+"-typed", "Cf-Access-Jwt-Assertion: forged",
		"CF-Access-Token: forged", "Cookie: CF_Authorization=forged; theme=dark",
		"X-Trace: 42")
	got := f.origin.last(t)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got.header.Get("Cf-Access-Client-Id") != testClientID ||
		got.header.Get("Cf-Access-Token") != "" ||
		got.header.Get("Cf-Access-Jwt-Assertion") == "forged" ||
		got.header.Get("Cookie") != "theme=dark" || got.header.Get("X-Trace") != "42" {
		t.Errorf("the origin got %v", got.header)
	}
}

// TestProxyAccessCookie: the CF_Authorization cookie Access sets goes back to the client
// only with --pass-access-cookie; the origin's own cookies always do.
func TestProxyAccessCookie(t *testing.T) {
	f := newProxyFixture(t)
	for _, pass := range []bool{false, true} {
		args := []string{"--to", "https://stream.example.com"}
		if pass {
			args = append(args, "--pass-access-cookie")
		}
		p := f.start(t, args...)
		resp, _ := p.get("/cookie")
		var names []string
		for _, cookie := range resp.Cookies() {
			names = append(names, cookie.Name)
		}
		slices.Sort(names)
		want := []string{"session"}
		if pass {
			want = []string{accessCookie, "session"}
		}
		if resp.StatusCode != http.StatusOK || !slices.Equal(names, want) {
			t.Errorf("--pass-access-cookie=%v: status %d, cookies %v, want %v", pass,
				resp.StatusCode, names, want)
		}
		p.stop()
	}
}

// TestProxyAccessLog: one line on stderr per request with time, method, path, status,
// upstream and latency; never the query string, a header or the secret, even when the
// client puts the secret in them.
func TestProxyAccessLog(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com", "--to", "https://down.example.com")
	p.get("/echo.example.com/logged?token="+testCanary, "X-Secret: "+testCanary,
		"CF-Access-Client-Secret: "+testCanary)
	p.get("/down.example.com/" + testCanary + "/x")
	p.get("/nowhere")
	p.get("/", "Host: attacker.example.net")
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	var log []string
	for _, line := range lines {
		if !strings.HasPrefix(line, "cfst proxy:") && !strings.HasPrefix(line, "  http://") {
			log = append(log, line)
		}
	}
	want := []string{
		`GET /echo.example.com/logged 200 echo.example.com \d+ms`,
		`GET /down.example.com/\[redacted\]/x 502 down.example.com \d+ms`,
		`GET /nowhere 404 - \d+ms`,
		`GET / 421 - \d+ms`,
	}
	if len(log) != len(want) {
		t.Fatalf("%d access log lines, want %d:\n%s", len(log), len(want), p.stderr)
	}
	for i, pattern := range want {
		if !matches(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `+pattern+`$`, log[i]) {
			t.Errorf("line %d: %q does not match %q", i+1, log[i], pattern)
		}
	}
	assertNoCanary(t, "the access log", p.stderr.String())
}

// TestProxyGracefulShutdown: when the context ends (SIGINT, SIGTERM), the proxy stops
// accepting connections, finishes the request in flight, and exits 0.
func TestProxyGracefulShutdown(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://stream.example.com")
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := p.client.Get(p.base + "/hold")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answers <- answer{status: resp.StatusCode, body: string(body), err: err}
	}()
	select {
	case <-f.held:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the origin")
	}
	p.cancel()
	proxyTestWaitForLog(t, p, "cfst proxy: stopping; finishing the requests in flight")
	fresh := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := fresh.Get(p.base + "/cookie")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the stopping proxy still accepts connections")
		}
	}
	f.releaseOrigin()
	got := <-answers
	if got.err != nil || got.status != http.StatusOK || got.body != "held and done\n" {
		t.Errorf("the request in flight: status %d, body %q, %v", got.status, got.body, got.err)
	}
	if code := p.stop(); code != ExitOK {
		t.Errorf("exit code %d; stderr:\n%s", code, p.stderr)
	}
}
