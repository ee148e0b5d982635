package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// proxyTestBearer is the bearer token of the --auth-token-file tests.
const proxyTestBearer = "proxy-bearer-0123456789abcdef"

// TestProxyPublicListenRefused: another interface than loopback needs --listen-public,
// and that needs --auth-token-file or --allow-client; both refusals exit 5 with a hint,
// before anything listens.
func TestProxyPublicListenRefused(t *testing.T) {
	f := newProxyFixture(t)
	tests := []struct {
		args        []string
		code        int
		error, hint string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, ExitRefused,
			`cfst: refusing to listen on "0.0.0.0:0": it is not a loopback address`,
			"hint: listen on 127.0.0.1, or pass --listen-public with --auth-token-file or " +
				"--allow-client"},
		{[]string{"--listen", "0.0.0.0:0", "--listen-public"}, ExitRefused,
			"cfst: refusing --listen-public without protection",
			"hint: add --auth-token-file FILE"},
		{[]string{"--listen", "no-port"}, ExitUsage, `cfst: --listen "no-port": `,
			"hint: write --listen HOST:PORT"},
		{[]string{"--listen", "0.0.0.0:0", "--listen-public", "--allow-client", "10.0.0.300"},
			ExitUsage, `cfst: --allow-client "10.0.0.300": not an address or CIDR`,
			"hint: write --allow-client"},
		{[]string{"--listen", "0.0.0.0:0", "--listen-public", "--auth-token-file",
			filepath.Join(f.dir, "missing")}, ExitUsage, "cfst: read --auth-token-file: ",
			"hint: write a random token to the file"},
		{[]string{"--to", "http://echo.example.com"}, ExitRefused,
			`cfst: refusing plain http upstream "echo.example.com"`, "hint: use https"},
	}
	for _, tt := range tests {
		args := append([]string{"--to", "https://echo.example.com"}, tt.args...)
		p, code, stderr := proxyTestLaunch(t, f.emuFixture, args...)
		if p != nil {
			t.Errorf("%v: the proxy started", tt.args)
			p.stop()
			continue
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != tt.code || len(lines) != 2 || !strings.HasPrefix(lines[0], tt.error) ||
			!strings.HasPrefix(lines[1], tt.hint) {
			t.Errorf("%v: exit %d (want %d), stderr:\n%s", tt.args, code, tt.code, stderr)
		}
	}
}

// TestProxyPublicListenWithBearer: --listen-public with --auth-token-file listens; a
// request without the token, or with another, gets 401 and reaches nothing, and the
// token itself is never forwarded.
func TestProxyPublicListenWithBearer(t *testing.T) {
	f := newProxyFixture(t)
	tokenFile := filepath.Join(f.dir, "proxy.token")
	if err := os.WriteFile(tokenFile, []byte(proxyTestBearer+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := f.start(t, "--listen", "0.0.0.0:0", "--listen-public", "--auth-token-file",
		tokenFile, "--to", "https://rec.example.com")
	p.base = "http://127.0.0.1:" + p.base[strings.LastIndex(p.base, ":")+1:]
	for _, header := range []string{"", "Authorization: Bearer wrong-token-0123456789",
		"Authorization: " + proxyTestBearer, "X-Token: Bearer " + proxyTestBearer} {
		resp, body := p.get("/x", header)
		if resp.StatusCode != http.StatusUnauthorized ||
			!strings.Contains(body, "send 'Authorization: Bearer TOKEN'") {
			t.Errorf("%q: status %d, body %q", header, resp.StatusCode, body)
		}
	}
	if n := proxyTestCount(f.origin); n != 0 {
		t.Fatalf("%d requests without the bearer token reached the origin", n)
	}
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		resp, body := p.get("/in", name+": Bearer "+proxyTestBearer, "Host: any.name.example")
		got := f.origin.last(t)
		if resp.StatusCode != http.StatusOK || got.header.Get(name) != "" ||
			got.header.Get("Cf-Access-Client-Id") != testClientID {
			t.Errorf("%s: status %d (%s), the origin got %v", name, resp.StatusCode, body,
				got.header)
		}
	}
	if log := p.stderr.String(); strings.Contains(log, proxyTestBearer) {
		t.Errorf("the bearer token is on stderr:\n%s", log)
	}
}

// TestProxyAllowClient: --allow-client admits the listed networks only.
func TestProxyAllowClient(t *testing.T) {
	f := newProxyFixture(t)
	for _, tt := range []struct {
		network string
		status  int
	}{{"10.0.0.0/8", http.StatusForbidden}, {"127.0.0.1", http.StatusOK},
		{"127.0.0.0/8", http.StatusOK}} {
		p := f.start(t, "--listen-public", "--allow-client", tt.network, "--to",
			"https://echo.example.com")
		if resp, body := p.get("/"); resp.StatusCode != tt.status {
			t.Errorf("--allow-client %s: status %d, body %s", tt.network, resp.StatusCode, body)
		}
		p.stop()
	}
}

// TestProxyLoopbackGuards: on loopback, a Host that is neither local nor an upstream
// (DNS rebinding) and a browser request from another site are refused.
func TestProxyLoopbackGuards(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com")
	tests := []struct {
		headers []string
		status  int
	}{
		{[]string{"Host: attacker.example.net"}, http.StatusMisdirectedRequest},
		{[]string{"Sec-Fetch-Site: cross-site"}, http.StatusForbidden},
		{[]string{"Origin: https://attacker.example.net"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site: same-origin"}, http.StatusOK},
		{[]string{"Host: localhost:8080"}, http.StatusOK},
	}
	for _, tt := range tests {
		if resp, body := p.get("/", tt.headers...); resp.StatusCode != tt.status {
			t.Errorf("%v: status %d, want %d: %s", tt.headers, resp.StatusCode, tt.status, body)
		}
	}
}
