package probe_test

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

const (
	emulatorClientID   = "a1b2c3d4e5f60718293a4b5c6d7e8f90.access"
	emulatorWrongValue = "cfast_WRONGwrongWRONGwrongWRONGwrongWRONGwr12345678"
)

// emulatorWorld is the default world plus a token whose secret is the canary and a few
// applications for the classes and signals the default world does not show: gate answers
// 401 to tokens it does not admit, portal covers only /admin of its hostname, so the
// edge forwards its other paths with a cf-ray header but without Access, and vault's
// origin answers 401 after Access admits the token.
func emulatorWorld(strict bool) *emulator.World {
	world := emulator.DefaultWorld()
	world.Strict = strict
	world.ServiceTokens = append(world.ServiceTokens, emulator.WorldServiceToken{
		Name: "ci", ClientID: emulatorClientID, ClientSecret: emulator.NewSecret(canary)})
	serviceAuth := []emulator.WorldAppPolicy{{Ref: "service-tokens"}}
	bypass := []emulator.WorldAppPolicy{{WorldPolicy: emulator.WorldPolicy{
		Name: "public", Decision: access.DecisionBypass,
		Include: []access.Rule{{Everyone: &access.Empty{}}}}}}
	legacyOnly := []emulator.WorldAppPolicy{{WorldPolicy: emulator.WorldPolicy{
		Name: "legacy-only", Decision: access.DecisionNonIdentity,
		Include: []access.Rule{{ServiceToken: &access.ServiceTokenRule{TokenID: "legacy-monitor"}}}}}}
	world.Applications = append(world.Applications,
		emulator.WorldApp{Name: "status", Domain: "status.example.com", Policies: bypass},
		emulator.WorldApp{Name: "teapot", Domain: "teapot.example.com",
			Policies: serviceAuth, Origin: "status:418"},
		emulator.WorldApp{Name: "slow", Domain: "slow.example.com",
			Policies: serviceAuth, Origin: "slow:1m"},
		emulator.WorldApp{Name: "hook", Domain: "hook.example.com",
			Policies: serviceAuth, ReadServiceTokensFromHeader: "X-Service-Token"},
		emulator.WorldApp{Name: "gate", Domain: "gate.example.com",
			Policies: legacyOnly, ServiceAuth401Redirect: true},
		emulator.WorldApp{Name: "portal", Domain: "portal.example.com/admin",
			Policies: serviceAuth},
		emulator.WorldApp{Name: "vault", Domain: "vault.example.com",
			Policies: serviceAuth, Origin: "status:401"},
	)
	return world
}

// startEmulator runs the emulator and returns a cfst client that reaches it for every
// hostname, as `--connect-to ::127.0.0.1:PORT --cacert ca.pem` would.
func startEmulator(t *testing.T, strict bool) *http.Client {
	t.Helper()
	srv, err := emulator.Start(emulator.Config{World: emulatorWorld(strict)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	host, portText, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	caFile := filepath.Join(t.TempDir(), "emulator-ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	client, err := transport.NewClient(transport.Options{
		RootCAs:   x509.NewCertPool(), // trust the emulator's CA only
		CAFile:    caFile,
		ConnectTo: []transport.ConnectTo{{ToHost: host, ToPort: port}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// emulatorCase is one probe against the emulator's edge.
type emulatorCase struct {
	host    string
	wrong   bool // send a wrong secret
	header  string
	timeout time.Duration
	// alone: without CompareAnonymous, so the result is what one request shows.
	alone  bool
	class  probe.Class
	status int
	hint   string // a phrase of the hint; "" for none at all
}

func TestEmulatorDefaultMode(t *testing.T) { runEmulatorCases(t, false, defaultModeCases) }

var defaultModeCases = []emulatorCase{
	{host: "jaeger.example.com", class: probe.ClassOK, status: 200},
	{host: "jaeger.example.com", alone: true, class: probe.ClassOK, status: 200},
	{host: "pihole.example.com", class: probe.ClassOK, status: 200},
	{host: "hook.example.com", header: "X-Service-Token", class: probe.ClassOK,
		status: 200},
	{host: "portal.example.com/admin", alone: true, class: probe.ClassOK, status: 200},
	// An uncovered path is proxied with a cf-ray header but no CF_Authorization cookie:
	// ok for one request, with a hint; the request without the token proves it.
	{host: "portal.example.com/", alone: true, class: probe.ClassOK, status: 200,
		hint: "no sign of Access"},
	{host: "portal.example.com/", class: probe.ClassNotProtected, status: 200,
		hint: "no Access application covers this URL"},
	{host: "langfuse.example.com", class: probe.ClassBackendDown, status: 502,
		hint: "origin behind the tunnel"},
	{host: "sprinkler.example.com", class: probe.ClassTunnelDown, status: 530,
		hint: "start the tunnel"},
	{host: "code.example.com", class: probe.ClassLoginRedirect, status: 302,
		hint: "Service Auth policy"},
	{host: "pihole.example.com", wrong: true, class: probe.ClassLoginRedirect,
		status: 302, hint: "Service Auth policy"},
	{host: "jaeger.example.com", wrong: true, class: probe.ClassForbidden, status: 403,
		hint: "credentials are invalid"},
	// service_auth_401_redirect: 401 for a wrong secret and for a valid token that no
	// Service Auth policy admits alike; the hint must not blame the secret alone.
	{host: "webhook.example.com", wrong: true, class: probe.ClassUnauthenticated,
		status: 401, hint: "service_auth_401_redirect"},
	{host: "gate.example.com", class: probe.ClassUnauthenticated, status: 401,
		hint: "no Service Auth policy admits, valid or not"},
	{host: "teapot.example.com", class: probe.ClassUnexpectedStatus, status: 418,
		hint: "expected status"},
	// Access admitted the token (the cookie says so) and the origin answered 401 itself.
	{host: "vault.example.com", class: probe.ClassUnexpectedStatus, status: 401,
		hint: "origin itself refused"},
	{host: "status.example.com", class: probe.ClassNotProtected, status: 200,
		hint: "Bypass"},
	{host: "slow.example.com", timeout: 300 * time.Millisecond,
		class: probe.ClassNetworkError, hint: "--timeout"},
}

func TestEmulatorStrictMode(t *testing.T) {
	runEmulatorCases(t, true, []emulatorCase{
		// Strict mode sets no CF_Authorization cookie: ok, with a hint that says so.
		{host: "jaeger.example.com", alone: true, class: probe.ClassOK, status: 200,
			hint: "normal in strict mode"},
		{host: "langfuse.example.com", class: probe.ClassBackendDown, status: 502,
			hint: "cloudflared's ingress"},
		{host: "sprinkler.example.com", class: probe.ClassTunnelDown, status: 530,
			hint: "error 1033"},
		{host: "jaeger.example.com", wrong: true, class: probe.ClassUnauthenticated,
			status: 401, hint: "strict mode"},
		{host: "pihole.example.com", wrong: true, class: probe.ClassUnauthenticated,
			status: 401, hint: "secret is wrong"},
		{host: "code.example.com", class: probe.ClassForbidden, status: 403,
			hint: "no policy admits it"},
		{host: "gate.example.com", class: probe.ClassForbidden, status: 403,
			hint: "no policy admits it"},
		{host: "gate.example.com", wrong: true, class: probe.ClassUnauthenticated,
			status: 401, hint: "cannot authenticate"},
		{host: "status.example.com", class: probe.ClassNotProtected, status: 200,
			hint: "Bypass"},
	})
}

func runEmulatorCases(t *testing.T, strict bool, cases []emulatorCase) {
	client := startEmulator(t, strict)
	for _, c := range cases {
		name := c.host
		if c.wrong {
			name += "/wrong-secret"
		}
		if c.alone {
			name += "/alone"
		}
		t.Run(name, func(t *testing.T) {
			creds := probe.Credentials{ClientID: emulatorClientID, Secret: secret.New(canary),
				Header: c.header}
			if c.wrong {
				creds.Secret = secret.New(emulatorWrongValue)
			}
			target := targetFor(t, c.host)
			target.Timeout = c.timeout
			var dump strings.Builder
			prober := &probe.Prober{Client: client, CompareAnonymous: !c.alone, Dump: &dump}
			r := prober.RunAll(context.Background(), []probe.Target{target}, creds)[0]
			if r.Class != c.class || r.Status != c.status {
				t.Fatalf("got %s %d (%s), want %s %d", r.Class, r.Status, r.Detail,
					c.class, c.status)
			}
			checkText(t, "hint", r.Hint, c.hint)
			if c.hint == "" && r.Hint != "" {
				t.Errorf("hint %q, want none", r.Hint)
			}
			if r.Status != 0 && !strings.HasSuffix(r.Ray, "-SJC") {
				t.Errorf("ray %q", r.Ray)
			}
			assertNoCanary(t, "result", r.Detail, r.Hint, r.Location, r.Ray, dump.String())
		})
	}
}

// TestEmulatorCasesCoverEveryClass checks that the default-mode cases reach every class
// but blocked_by_waf: the emulator models no WAF (an edge fault answers "error code:
// <status>", not 1010), so the synthetic table test covers that one.
func TestEmulatorCasesCoverEveryClass(t *testing.T) {
	covered := map[probe.Class]bool{}
	for _, c := range defaultModeCases {
		covered[c.class] = true
	}
	for _, class := range probe.Classes {
		if class != probe.ClassBlockedByWAF && !covered[class] {
			t.Errorf("no emulator case produces %s", class)
		}
	}
}
