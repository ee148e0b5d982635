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
// other host. Every answer but the admin API's carries a cf-ray header, and those of the
// edge and the team domain Server: cloudflare too, injected faults included.
//
// # The Access edge
//
// The edge answers as Cloudflare's documentation and cfst's fact sheet describe; the
// policy decisions come from cfst's internal/access package, the same code that cfst's
// own analysis uses. Where Cloudflare documents nothing, the emulator chooses:
//
//   - Credentials. A client id without a secret, or a secret without a client id, counts
//     as credentials that do not authenticate. A header sent twice counts with its first
//     value; in strict mode it is answered with 401. An application that sets
//     read_service_tokens_from_header reads only that header, a JSON object with lowercase
//     keys; the standard headers are then ignored, or answered with 401 in strict mode.
//   - The client. Its address is the connection's peer address and its country is "US".
//     For tests of ip and geo rules, the emulator-only request headers X-Emulator-Client-IP
//     and X-Emulator-Country set them instead.
//   - Sessions. Outside strict mode, a request without credentials that would be sent to
//     the login page is admitted when it carries a valid CF_Authorization cookie (or
//     cf-access-token header) issued for the application. Deleting the service token does
//     not end such a session before its JWT expires. Strict mode ignores cookies and sets
//     none.
//   - Application tokens are RS256 JWTs signed by a key made at Start and published at
//     https://<team>.cloudflareaccess.com/cdn-cgi/access/certs. The edge hands out the same
//     token for one client, application and session duration for up to 30 seconds.
//   - The origin never receives CF-Access-Client-Secret, the single credentials header, the
//     X-Emulator-* headers, or a Cf-Access-Jwt-Assertion sent by the client. It receives
//     CF-Access-Client-Id, Cf-Access-Jwt-Assertion when Access admitted the request,
//     Cf-Ray, Cf-Connecting-Ip and Cf-Ipcountry.
//   - Login events (Server.LoginEvents) record every request whose credentials are
//     complete and name a client id the account knows, admitted or not, in both modes;
//     Cloudflare documents this rule for strict mode only. Requests that a Bypass policy
//     lets through, requests without credentials, faulty credentials and unknown client ids
//     are not recorded.
//   - When two applications have the very same destination, the account's application
//     wins over the zone's, and then the one created first.
//   - A request to a covered hostname on a path no application covers goes to the origin
//     of the first application on that hostname, without Access.
//   - The login redirect carries kid and redirect_url, not Cloudflare's meta parameter.
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

	"github.com/cfst/cfst/internal/access"
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
	edge   *edgeRuntime
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
	if s.edge, err = newEdgeRuntime(world.TeamDomain()); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops accepting connections and waits for requests in flight to finish.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.edge.close()
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

// TeamDomain is the team's Access domain, <team>.cloudflareaccess.com.
func (s *Server) TeamDomain() string { return s.world.TeamDomain() }

// Hostnames lists the literal hostnames the edge serves now, sorted.
func (s *Server) Hostnames() []string { return access.Hostnames(s.state.applications()) }
