package cli

// Helpers of the `cfst proxy` tests: a world with every kind of origin behind Access, a
// host outside it that records what reaches it, and a proxy run in-process through Run
// on 127.0.0.1:0 with a context the test cancels.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cfst/cfst/internal/transport/transporttest"
)

// proxyTestWorld: the echo origin, a recording origin, a streaming origin of our own, a
// down backend, a down tunnel, an identity-only application and an origin that
// redirects to another host.
const proxyTestWorld = `
api_tokens:
  - {name: admin, value: proxy-test-admin-api-token, permissions: [all]}
service_tokens:` + worldToken + `
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
  - {name: people, decision: allow, include: [{email_domain: {domain: example.com}}]}
applications:
  - {name: echo, domain: echo.example.com, policies: [tokens]}
  - {name: rec, domain: rec.example.com, policies: [tokens], origin: "%s"}
  - {name: stream, domain: stream.example.com, policies: [tokens], origin: "%s"}
  - {name: down, domain: down.example.com, policies: [tokens], origin: down}
  - {name: tunnel, domain: tunnel.example.com, policies: [tokens], origin: tunnel-down}
  - {name: login, domain: login.example.com, policies: [people]}
  - {name: away, domain: away.example.com, policies: [tokens], origin: "%s"}
`

// proxyTestLargeSize is the size of the stream origin's /large download.
const proxyTestLargeSize = 8 << 20

// proxyFixture is an emulator with proxyTestWorld, and a host outside it.
type proxyFixture struct {
	*emuFixture
	origin    *recordingOrigin // behind rec.example.com
	collector *recordingOrigin // collector.example.com: not behind Access, never a --to
	// collectorAddr is where collector.example.com:443 listens; collectorCA trusts it.
	collectorAddr string
	collectorCA   *transporttest.CA
	// release ends the stream origin's /events and /hold answers.
	release     chan struct{}
	releaseOnce sync.Once
	// held is signalled when /hold has received a request.
	held chan struct{}
}

func newProxyFixture(t *testing.T) *proxyFixture {
	t.Helper()
	f := &proxyFixture{origin: &recordingOrigin{}, collector: &recordingOrigin{},
		release: make(chan struct{}), held: make(chan struct{}, 16)}
	recURL := originServer(t, f.origin.handler(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/new/place?x=1", http.StatusFound)
			return
		}
		fmt.Fprint(w, "recorded\n")
	}))
	streamURL := originServer(t, f.streamHandler)
	awayURL := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://collector.example.com/steal", http.StatusFound)
	})
	f.emuFixture = newEmuFixture(t, fmt.Sprintf(proxyTestWorld, recURL, streamURL, awayURL))
	f.collectorCA = transporttest.NewCA(t)
	srv := f.collectorCA.NewServer(t, f.collector.handler(func(w http.ResponseWriter,
		_ *http.Request) {
		fmt.Fprint(w, "collector\n")
	}))
	f.collectorAddr = strings.TrimPrefix(srv.URL, "https://")
	t.Cleanup(f.releaseOrigin)
	return f
}

// releaseOrigin lets the stream origin's held answers end.
func (f *proxyFixture) releaseOrigin() { f.releaseOnce.Do(func() { close(f.release) }) }

// start runs cfst proxy with args (see proxyTestStart). The origin's held answers are
// released before the proxy stops, so its graceful shutdown never waits for them.
func (f *proxyFixture) start(t *testing.T, args ...string) *runningTestProxy {
	t.Helper()
	p := proxyTestStart(t, f.emuFixture, args...)
	t.Cleanup(f.releaseOrigin)
	return p
}

// streamHandler is the origin behind stream.example.com: server-sent events that wait
// for release, a large download, a websocket echo, a cookie, and a request that holds
// until release.
func (f *proxyFixture) streamHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/events":
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		<-f.release
		fmt.Fprint(w, "data: last\n\n")
	case "/large":
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = io.CopyN(w, &proxyTestPattern{}, proxyTestLargeSize)
	case "/ws":
		proxyTestEchoWebsocket(w, r)
	case "/cookie":
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "kept", Path: "/"})
		fmt.Fprint(w, "cookie\n")
	case "/hold":
		f.held <- struct{}{}
		<-f.release
		fmt.Fprint(w, "held and done\n")
	default:
		http.NotFound(w, r)
	}
}

// proxyTestPattern reads as an endless run of the bytes 0 to 250, so a download can be
// checked byte for byte.
type proxyTestPattern struct{ offset int }

func (r *proxyTestPattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte((r.offset + i) % 251)
	}
	r.offset += len(p)
	return len(p), nil
}

func proxyTestEchoWebsocket(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	for {
		kind, message, err := conn.Read(r.Context())
		if err != nil {
			return
		}
		if err := conn.Write(r.Context(), kind, append([]byte("echo: "), message...)); err != nil {
			return
		}
	}
}

// collectorConn are the flags that let cfst reach collector.example.com.
func (f *proxyFixture) collectorConn(t *testing.T) []string {
	t.Helper()
	caFile := filepath.Join(f.dir, "collector-ca.pem")
	if err := os.WriteFile(caFile, f.collectorCA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--cacert", caFile, "--connect-to",
		"collector.example.com:443:" + f.collectorAddr}
}

// collectorClient is a client that follows redirects and reaches collector.example.com
// directly, as a browser behind the proxy would.
func (f *proxyFixture) collectorClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: f.collectorCA.Pool()},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "collector.example.com:") {
				addr = f.collectorAddr
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}}
}

// runningTestProxy is `cfst proxy` running in-process until stop.
type runningTestProxy struct {
	t      *testing.T
	base   string // http://127.0.0.1:PORT
	stderr *syncBuffer
	cancel context.CancelFunc
	exited chan int
	client *http.Client
}

var proxyTestListening = regexp.MustCompile(`listening on (http://\S+);`)

// proxyTestStart runs cfst [globals...] proxy --listen 127.0.0.1:0 args... and waits
// until it listens. A later --listen in args wins.
func proxyTestStart(t *testing.T, f *emuFixture, args ...string) *runningTestProxy {
	t.Helper()
	p, code, stderr := proxyTestLaunch(t, f, args...)
	if p == nil {
		t.Fatalf("cfst proxy %q exited %d before listening; stderr:\n%s", args, code, stderr)
	}
	return p
}

// proxyTestLaunch is proxyTestStart that returns the exit code and stderr instead when
// cfst proxy ends before it listens.
func proxyTestLaunch(t *testing.T, f *emuFixture,
	args ...string) (*runningTestProxy, int, string) {
	t.Helper()
	app, _, stderr := f.newApp("")
	ctx, cancel := context.WithCancel(context.Background())
	p := &runningTestProxy{t: t, stderr: stderr, cancel: cancel, exited: make(chan int, 1),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64}, CheckRedirect: transportNoRedirect}}
	argv := append([]string{"--env-file", f.envFile, "proxy", "--listen", "127.0.0.1:0"},
		args...)
	go func() { p.exited <- Run(ctx, app, argv) }()
	deadline := time.After(10 * time.Second)
	for {
		if m := proxyTestListening.FindStringSubmatch(stderr.String()); m != nil {
			p.base = m[1]
			break
		}
		select {
		case code := <-p.exited:
			cancel()
			return nil, code, stderr.String()
		case <-deadline:
			cancel()
			t.Fatalf("cfst proxy did not listen in 10s; stderr:\n%s", stderr)
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Cleanup(func() { p.stop() })
	return p, 0, ""
}

func transportNoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// stop cancels the proxy's context, as SIGINT would, and returns its exit code.
func (p *runningTestProxy) stop() int {
	p.t.Helper()
	p.cancel()
	p.client.CloseIdleConnections()
	select {
	case code := <-p.exited:
		p.exited <- code // stop may be called again by the cleanup
		return code
	case <-time.After(35 * time.Second):
		p.t.Fatal("cfst proxy did not stop in 35s")
		return -1
	}
}

// get sends a GET for path (which starts with /) to the proxy, with header lines
// "Name: value" and "Host: NAME" to set the Host header.
func (p *runningTestProxy) get(path string, headers ...string) (*http.Response, string) {
	p.t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, line := range headers {
		if line == "" {
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		req.Header.Add(name, value)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("GET %s through the proxy: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("read the body of %s: %v", path, err)
	}
	return resp, string(body)
}
