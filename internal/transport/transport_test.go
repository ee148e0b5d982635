package transport_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

// newTestClient returns a client trusting ca that sends every hostname to srv.
func newTestClient(t *testing.T, ca *transporttest.CA, srv *httptest.Server) *http.Client {
	t.Helper()
	client, err := transport.NewClient(transport.Options{
		RootCAs: ca.Pool(), ConnectTo: transporttest.RouteTo(srv)})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestNewClientNeverFollowsRedirects(t *testing.T) {
	ca := transporttest.NewCA(t)
	var hits atomic.Int32
	srv := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "next.test" {
			hits.Add(1)
			return
		}
		http.Redirect(w, r, "https://next.test/", http.StatusFound)
	}))
	resp, err := newTestClient(t, ca, srv).Get("https://app.test/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://next.test/" {
		t.Errorf("got %d to %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect was followed %d times", hits.Load())
	}
}

func TestNewClientSpeaksHTTP2WithUserAgent(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.UserAgent())
	}))
	client := newTestClient(t, ca, srv)
	tests := []struct{ agent, want string }{
		{"", "HTTP/2.0 cfst"},
		{"cfst/1.2", "HTTP/2.0 cfst/1.2"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", "https://app.test/", nil)
		if tt.agent != "" {
			req.Header.Set("User-Agent", tt.agent)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("server saw %q, want %q", body, tt.want)
		}
	}
}

func TestNewClientVerifiesTLS(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	untrusting, err := transport.NewClient(transport.Options{
		RootCAs: x509.NewCertPool(), ConnectTo: transporttest.RouteTo(srv)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusting.Get("https://app.test/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("a server signed by an untrusted CA gave %v", err)
	}
}

// TestTrustSources checks the ways a private CA becomes trusted: --cacert and
// SSL_CERT_FILE.
func TestTrustSources(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    transport.Options
		certEnv string
	}{
		{"cacert over an empty pool", transport.Options{RootCAs: x509.NewCertPool(),
			CAFile: caFile}, ""},
		{"cacert over system roots", transport.Options{CAFile: caFile}, ""},
		{"SSL_CERT_FILE", transport.Options{}, caFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SSL_CERT_FILE", tt.certEnv)
			tt.opts.ConnectTo = transporttest.RouteTo(srv)
			client, err := transport.NewClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Get("https://app.test/")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		})
	}
}

func TestCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, want string }{
		{filepath.Join(dir, "missing.pem"), "read --cacert file: "},
		{notPEM, `--cacert file "` + notPEM + `" holds no PEM certificate`},
	}
	for _, tt := range tests {
		_, err := transport.NewClient(transport.Options{CAFile: tt.file})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CAFile %s: error %v, want %q", tt.file, err, tt.want)
		}
	}
	t.Setenv("SSL_CERT_FILE", notPEM)
	if _, err := transport.NewClient(transport.Options{}); err == nil ||
		!strings.Contains(err.Error(), "SSL_CERT_FILE") {
		t.Errorf("bad SSL_CERT_FILE: %v", err)
	}
}

func TestNewClientRefusesPlainHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hits.Add(1)
	}))
	defer srv.Close()
	body := &closeRecorder{Reader: strings.NewReader("x")}

	strict, _ := transport.NewClient(transport.Options{})
	_, err := strict.Post(srv.URL, "text/plain", body)
	if !errors.Is(err, transport.ErrPlainHTTP) || !strings.Contains(err.Error(), "--allow-http") {
		t.Errorf("plain http without AllowHTTP: %v", err)
	}
	if hits.Load() != 0 || !body.closed {
		t.Errorf("refused request: %d hits, body closed %v", hits.Load(), body.closed)
	}

	lax, _ := transport.NewClient(transport.Options{AllowHTTP: true})
	resp, err := lax.Get(srv.URL)
	if err != nil {
		t.Fatalf("plain http with AllowHTTP: %v", err)
	}
	_ = resp.Body.Close()
	if hits.Load() != 1 {
		t.Errorf("allowed request: %d hits", hits.Load())
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestReadLimited(t *testing.T) {
	data, err := transport.ReadLimited(bytes.NewReader(make([]byte, 100)), 10)
	if err != nil || len(data) != 10 {
		t.Errorf("got %d bytes, %v", len(data), err)
	}
	data, err = transport.ReadLimited(strings.NewReader("short"), 10)
	if err != nil || string(data) != "short" {
		t.Errorf("got %q, %v", data, err)
	}
}
