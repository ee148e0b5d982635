package probe_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

// canary is a fake secret; no output of the prober may ever contain it.
const canary = "cfast_CANARYcanaryCANARYcanaryCANARYcanary12abcdef"

func testCredentials() probe.Credentials {
	return probe.Credentials{ClientID: "0123456789abcdef0123456789abcdef.access",
		Secret: secret.New(canary)}
}

// seen is one request as a test server saw it.
type seen struct {
	host   string
	header http.Header
}

// requestLog records what a test server received.
type requestLog struct {
	mu       sync.Mutex
	requests []seen
}

func (l *requestLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, seen{host: r.Host, header: r.Header.Clone()})
}

func (l *requestLog) all() []seen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seen(nil), l.requests...)
}

// edge is a fake Cloudflare edge: one TLS server answering each hostname with its own
// handler, reached through ConnectTo rules.
type edge struct {
	ca     *transporttest.CA
	srv    *httptest.Server
	log    requestLog
	routes map[string]http.HandlerFunc
}

func newEdge(t *testing.T, routes map[string]http.HandlerFunc) *edge {
	t.Helper()
	e := &edge{ca: transporttest.NewCA(t), routes: routes}
	e.srv = e.ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.log.record(r)
		host := strings.Split(r.Host, ":")[0]
		handler, ok := e.routes[host]
		if !ok {
			http.Error(w, "no route for "+host, http.StatusMisdirectedRequest)
			return
		}
		handler(w, r)
	}))
	return e
}

// client returns a cfst client that sends every hostname to the edge.
func (e *edge) client(t *testing.T, extra ...transport.ConnectTo) *http.Client {
	t.Helper()
	rules := append(extra, transporttest.RouteTo(e.srv)...)
	client, err := transport.NewClient(transport.Options{RootCAs: e.ca.Pool(), ConnectTo: rules})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func (e *edge) prober(t *testing.T) *probe.Prober {
	return &probe.Prober{Client: e.client(t)}
}

// answer is a handler that writes status with headers (name, value pairs) and body.
func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

const testRay = "8c1d2e3f4a5b6c7d-LHR"

// viaCloudflare is answer with a cf-ray header.
func viaCloudflare(status int, body string, headers ...string) http.HandlerFunc {
	return answer(status, body, append([]string{"Cf-Ray", testRay}, headers...)...)
}

func targetFor(t *testing.T, rawURL string) probe.Target {
	t.Helper()
	target, err := probe.ParseTarget(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// assertNoCanary fails when the canary appears in any text.
func assertNoCanary(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if strings.Contains(text, canary) || strings.Contains(text, "CANARY") {
			t.Errorf("canary secret leaked into %s: %s", where, text)
		}
	}
}
