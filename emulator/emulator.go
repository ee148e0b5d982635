// Package emulator is a local stand-in for the Cloudflare API v4 and the Cloudflare Access
// edge, for offline use and for tests. It is shaped like net/http/httptest:
//
//	srv, err := emulator.Start(emulator.Config{World: emulator.DefaultWorld()})
//	if err != nil { ... }
//	defer srv.Close()
//	client := srv.Client() // trusts the emulator's CA and dials it for every hostname
//
// One HTTPS listener serves everything, routed by host and path: the team domain
// (<team>.cloudflareaccess.com), the hostnames of the world's applications (the Access
// edge), an admin API under /__emulator/, and the Cloudflare API under /client/v4 on any
// other host.
package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Config configures a Server. The zero value serves an empty world on 127.0.0.1:0.
type Config struct {
	// World is the initial state. Nil means an empty world with default settings.
	World *World
	// Addr is the address to listen on; empty means "127.0.0.1:0".
	Addr string
	// CAFile, if set, is where the CA certificate is written as PEM, so that curl
	// (--cacert) and other processes (SSL_CERT_FILE) can trust the emulator.
	CAFile string
	// Clock gives the time. Nil means a ManualClock started at the real time, which the
	// admin endpoint can advance.
	Clock Clock
}

// Server is a running emulator.
type Server struct {
	// URL is the base URL of the Cloudflare API, ending in /client/v4.
	URL string

	cfg      Config
	world    *World
	clock    Clock
	ca       *authority
	listener net.Listener
	http     *http.Server
	inflight sync.WaitGroup

	state  *state
	events *eventLog
}

// Start listens on cfg.Addr and serves until Close. The listener is bound before Start
// returns, so an address already in use is reported at once.
func Start(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %q: %w", addr, err)
	}
	s.listener = ln
	s.URL = "https://" + ln.Addr().String() + "/client/v4"
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         s.ca.serverTLSConfig(),
		ErrorLog:          quietLogger(),
	}
	go s.http.ServeTLS(ln, "", "") //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

func newServer(cfg Config) (*Server, error) {
	world := cfg.World
	if world == nil {
		world = &World{}
	}
	if err := world.Validate(); err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = NewManualClock(time.Now())
	}
	ca, err := newAuthority(world.TeamDomain())
	if err != nil {
		return nil, fmt.Errorf("emulator: create CA: %w", err)
	}
	if cfg.CAFile != "" {
		if err := os.WriteFile(cfg.CAFile, ca.certPEM, 0o644); err != nil {
			return nil, fmt.Errorf("emulator: write CA file: %w", err)
		}
	}
	s := &Server{cfg: cfg, world: world, clock: clock, ca: ca}
	st, err := newState(world, clock.Now())
	if err != nil {
		return nil, err
	}
	s.state = st
	s.events = newEventLog()
	return s, nil
}

// Close stops accepting connections and waits for requests in flight to finish.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	s.inflight.Wait()
}

// Addr is the host:port the emulator listens on: the edge address for every hostname.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// CACertPEM returns the PEM of the CA that signs every certificate the emulator serves.
func (s *Server) CACertPEM() []byte { return s.ca.certPEM }

// CertPool returns a pool holding only the emulator's CA.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.ca.certPEM)
	return pool
}

// Clock returns the clock the emulator runs on.
func (s *Server) Clock() Clock { return s.clock }

// Client returns an HTTP client that trusts the emulator's CA and connects to the emulator
// whatever hostname a URL names, like curl --connect-to ::host:port. It follows no
// redirects, as an Access client should not.
func (s *Server) Client() *http.Client {
	addr := s.Addr()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.CertPool()},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 30 * time.Second,
	}
}

// ServeHTTP routes a request to the team domain, the edge, the admin API or the
// Cloudflare API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()

	host := hostOnly(r.Host)
	switch {
	case strings.HasPrefix(r.URL.Path, adminPrefix):
		s.serveAdmin(w, r)
	case host == s.world.TeamDomain():
		s.serveTeam(w, r)
	case s.isEdgeHost(host):
		s.serveEdge(w, r)
	default:
		s.serveAPI(w, r)
	}
}

// hostOnly strips the port from a Host header and lowercases it.
func hostOnly(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
