package cli

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/dotenv"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// proxyTestDirectClient sends creds itself to hostnames behind the emulator's edge, as a
// tool with headers would, without the proxy.
func proxyTestDirectClient(tb testing.TB, f *emuFixture, creds transport.Credentials,
	hosts ...string) *http.Client {
	tb.Helper()
	app, _, _ := f.newApp("")
	opts, err := app.transportOptions(connectionOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	base, err := transport.NewTransport(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: transport.NoRedirects,
		Transport: &transport.CredentialTransport{Base: base, Credentials: creds, Hosts: hosts}}
}

// proxyTestHammer sends requests through the proxy from several clients until stop,
// counting them and keeping what failed.
type proxyTestHammer struct {
	sent     atomic.Int64
	mu       sync.Mutex
	failures []string
	stop     chan struct{}
	wg       sync.WaitGroup
}

func proxyTestStartHammer(p *runningTestProxy, clients int, path string) *proxyTestHammer {
	h := &proxyTestHammer{stop: make(chan struct{})}
	for range clients {
		h.wg.Go(func() {
			for {
				select {
				case <-h.stop:
					return
				default:
				}
				problem := proxyTestFetch(p, path)
				h.sent.Add(1)
				if problem != "" {
					h.mu.Lock()
					h.failures = append(h.failures, problem)
					h.mu.Unlock()
				}
			}
		})
	}
	return h
}

// waitFor waits until n more requests have been sent.
func (h *proxyTestHammer) waitFor(t *testing.T, n int64) {
	t.Helper()
	target := h.sent.Load() + n
	for deadline := time.Now().Add(10 * time.Second); h.sent.Load() < target; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests in 10s", h.sent.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// finish stops the clients and returns the failures.
func (h *proxyTestHammer) finish() []string {
	close(h.stop)
	h.wg.Wait()
	return h.failures
}

// TestProxyRotationUnderLoad: clients hammer the proxy while `cfst rotate` writes a new
// secret to .env. No request fails; the proxy reloads, and once `cfst rotate --finish`
// has ended the old secret's grace, requests still pass: the proxy sends the new one.
func TestProxyRotationUnderLoad(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com", "--reload-every", "5ms")
	hammer := proxyTestStartHammer(p, 8, "/echo.example.com/load")
	hammer.waitFor(t, 40)

	if run := f.run("rotate", "probe", "--grace", "1h"); run.code != ExitOK {
		t.Fatalf("rotate: exit %d\n%s", run.code, run.stderr)
	}
	newSecret := proxyTestEnvSecret(t, f.emuFixture)
	if newSecret.Reveal() == testCanary {
		t.Fatal("rotate left the old secret in .env")
	}
	proxyTestWaitForLog(t, p, "cfst proxy: credentials reloaded from "+f.envFile+
		" (client id "+testClientID+")")
	hammer.waitFor(t, 40)
	if run := f.run("rotate", "probe", "--finish"); run.code != ExitOK {
		t.Fatalf("rotate --finish: exit %d\n%s", run.code, run.stderr)
	}
	old := proxyTestDirectClient(t, f.emuFixture, transport.Credentials{
		ClientID: testClientID, Secret: secret.New(testCanary)}, "echo.example.com")
	resp, err := old.Get("https://echo.example.com/")
	if err != nil {
		t.Fatalf("a request with the old secret after --finish: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("the old secret still works after --finish: %s", resp.Status)
	}
	hammer.waitFor(t, 40)
	for _, problem := range hammer.finish() {
		t.Error(problem)
	}
	if problem := proxyTestFetch(p, "/echo.example.com/after"); problem != "" {
		t.Errorf("after the rotation: %s", problem)
	}
	log := p.stderr.String()
	assertNoCanary(t, "the proxy's stderr", log)
	if strings.Contains(log, newSecret.Reveal()) {
		t.Errorf("the new secret is on the proxy's stderr")
	}
}

func proxyTestEnvSecret(t *testing.T, f *emuFixture) secret.Secret {
	t.Helper()
	file, err := dotenv.Load(f.envFile)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := file.Credentials(dotenv.DefaultKeys)
	if err != nil {
		t.Fatal(err)
	}
	return creds.ClientSecret
}

func proxyTestWaitForLog(t *testing.T, p *runningTestProxy, text string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stderr.String(), text); {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on stderr in 5s:\n%s", text, p.stderr)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestProxyReloadKeepsCredentialsOnBadFile: a .env that loses the token leaves the
// previous credentials in use, with a warning; requests keep passing.
func TestProxyReloadKeepsCredentialsOnBadFile(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com", "--reload-every", "5ms")
	f.writeEnv("OTHER=1\n")
	proxyTestWaitForLog(t, p, "changed but could not be read")
	if problem := proxyTestFetch(p, "/echo.example.com/"); problem != "" {
		t.Error(problem)
	}
	assertNoCanary(t, "the proxy's stderr", p.stderr.String())
}
