package cli

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport"
)

// accessCookie is the cookie Access sets after admitting a request.
const accessCookie = "CF_Authorization"

// proxyFlushInterval bounds how long a response body with a known length may wait in
// the proxy's buffer. Server-sent events and bodies of unknown length are flushed at
// every write whatever it is (httputil.ReverseProxy does that), so streams are not
// delayed; flushing every write of other bodies too would cost a system call each.
const proxyFlushInterval = 0

// proxyBufferSize is the size of the buffers response bodies are copied through, the
// size httputil.ReverseProxy would allocate for each response without a pool.
const proxyBufferSize = 32 << 10

// accessHeaderPrefix is the canonical prefix of every header Access reads or sets.
const accessHeaderPrefix = "Cf-Access-"

// upstream is one --to: the hostname it is routed by and the URL requests go to.
type upstream struct {
	name   string // lowercase hostname, the key of Host and path routing
	target *url.URL
	proxy  *httputil.ReverseProxy
}

// accessProxy is the handler of `cfst proxy`.
type accessProxy struct {
	app        *App
	upstreams  map[string]*upstream
	only       *upstream // the single upstream, when there is one: the default route
	creds      *credentialSource
	guard      *clientGuard
	base       http.RoundTripper
	buffers    *bufferPool
	hosts      []string // every upstream hostname: the only hosts that get the token
	allowHTTP  bool
	passCookie bool
}

// newAccessProxy builds the proxy of opts: upstreams, credentials, client checks.
func (app *App) newAccessProxy(opts *proxyOptions) (*accessProxy, error) {
	creds, err := app.newCredentialSource()
	if err != nil {
		return nil, err
	}
	guard, err := app.newClientGuard(opts)
	if err != nil {
		return nil, err
	}
	transportOpts, err := app.transportOptions(opts.Conn)
	if err != nil {
		return nil, err
	}
	base, err := transport.NewTransport(transportOpts)
	if err != nil {
		return nil, usageError("check --cacert and "+envCertFile, "%s", err)
	}
	p := &accessProxy{app: app, creds: creds, guard: guard, base: app.debugTransport(base),
		buffers: newBufferPool(proxyBufferSize), upstreams: map[string]*upstream{},
		allowHTTP: opts.Conn.AllowHTTP, passCookie: opts.PassAccessCookie}
	if err := p.addUpstreams(opts.To); err != nil {
		return nil, err
	}
	guard.allowHosts(p.hosts...)
	return p, nil
}

// addUpstreams parses each --to.
func (p *accessProxy) addUpstreams(targets []string) error {
	for _, raw := range targets {
		target, err := probe.ParseTarget(raw)
		if err != nil {
			return usageError("give an https URL such as https://app.example.com", "--to: %s",
				err)
		}
		u, _ := url.Parse(target.URL)
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath, u.RawQuery = "", ""
		if u.Scheme == "http" && !p.allowHTTP {
			return withCode(ExitRefused, fmt.Errorf("refusing plain http upstream %q: the "+
				"client secret would go unencrypted", u.Host), "use https, or pass "+
				"--allow-http to accept the risk")
		}
		name := strings.ToLower(u.Hostname())
		if _, dup := p.upstreams[name]; dup {
			return usageError("give each hostname one --to", "two --to for %q", name)
		}
		up := &upstream{name: name, target: u}
		up.proxy = p.reverseProxy(up)
		p.upstreams[name] = up
		p.hosts = append(p.hosts, name)
	}
	if len(p.upstreams) == 1 {
		p.only = p.upstreams[p.hosts[0]]
	}
	return nil
}

// route is how a request reached its upstream, kept in the request's context.
type route struct {
	up       *upstream
	byPath   bool          // the path started with /HOST
	upstream time.Duration // time to the upstream's response headers
	status   int
}

type routeKey struct{}

func routeOf(r *http.Request) *route {
	rt, _ := r.Context().Value(routeKey{}).(*route)
	return rt
}

// ServeHTTP checks the client, picks the upstream and forwards the request.
func (p *accessProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	if status, reason := p.guard.check(r); status != 0 {
		http.Error(w, "cfst proxy: "+reason, status)
		p.logRequest(r, nil, status, started)
		return
	}
	rt, rest := p.pick(r)
	if rt == nil {
		http.Error(w, "cfst proxy: no upstream for this request: use /HOST/path or "+
			"Host: HOST with a --to hostname", http.StatusNotFound)
		p.logRequest(r, nil, http.StatusNotFound, started)
		return
	}
	out := r.WithContext(context.WithValue(r.Context(), routeKey{}, rt))
	if rt.byPath {
		out.URL = cloneURL(r.URL)
		out.URL.Path, out.URL.RawPath = rest, ""
	}
	recorder := &statusRecorder{ResponseWriter: w}
	rt.up.proxy.ServeHTTP(recorder, out)
	status := rt.status
	if recorder.status != 0 {
		status = recorder.status
	}
	p.logRequest(r, rt, status, started)
}

// pick routes by Host, then by the first path segment, then to the single upstream.
// rest is the path to forward when routing by path.
func (p *accessProxy) pick(r *http.Request) (rt *route, rest string) {
	if up, ok := p.upstreams[hostOnly(r.Host)]; ok {
		return &route{up: up}, ""
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if up, ok := p.upstreams[strings.ToLower(first)]; ok {
		return &route{up: up, byPath: true}, "/" + rest
	}
	if p.only != nil {
		return &route{up: p.only}, ""
	}
	return nil, ""
}

func cloneURL(u *url.URL) *url.URL {
	clone := *u
	return &clone
}

// reverseProxy forwards to up: streaming, websockets passed through, credentials added
// by p.RoundTrip.
func (p *accessProxy) reverseProxy(up *upstream) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up.target)
			stripClientAccess(pr.Out, p.passCookie)
		},
		Transport:      p,
		FlushInterval:  proxyFlushInterval,
		BufferPool:     p.buffers,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		ErrorLog:       quietServerLog(),
	}
}

// RoundTrip sends one request upstream with the current credentials, which go only to
// the --to hosts, and times the wait for the response headers.
func (p *accessProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := routeOf(req)
	credentialed := &transport.CredentialTransport{Base: p.base, Credentials: p.creds.current(),
		Hosts: p.hosts, AllowHTTP: p.allowHTTP}
	started := time.Now()
	resp, err := credentialed.RoundTrip(req)
	if rt != nil {
		rt.upstream = time.Since(started)
	}
	return resp, err
}

// closeIdleConnections closes the upstream connections no request uses.
func (p *accessProxy) closeIdleConnections() {
	if c, ok := p.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// stripClientAccess removes what a client could use to pass its own Access credentials
// or session: CF-Access-* headers and, unless cookies are passed, the CF_Authorization
// cookie.
func stripClientAccess(req *http.Request, passCookie bool) {
	for name := range req.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), accessHeaderPrefix) {
			delete(req.Header, name)
		}
	}
	if passCookie || req.Header.Get("Cookie") == "" {
		return
	}
	var kept []string
	for _, cookie := range req.Cookies() {
		if !strings.EqualFold(cookie.Name, accessCookie) {
			kept = append(kept, cookie.String())
		}
	}
	req.Header.Del("Cookie")
	if len(kept) > 0 {
		req.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

// modifyResponse drops the Access cookie unless asked to pass it, and keeps redirects
// within the upstream under the proxy's /HOST prefix when routing by path.
func (p *accessProxy) modifyResponse(resp *http.Response) error {
	if !p.passCookie {
		dropAccessCookie(resp.Header)
	}
	rt := routeOf(resp.Request)
	if rt == nil {
		return nil
	}
	rt.status = resp.StatusCode // a websocket's 101 is never written through statusRecorder
	if rt.byPath {
		rewriteLocation(resp, rt.up)
	}
	return nil
}

func dropAccessCookie(header http.Header) {
	var kept []string
	for _, line := range header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(line, "=")
		if !strings.EqualFold(strings.TrimSpace(name), accessCookie) {
			kept = append(kept, line)
		}
	}
	header.Del("Set-Cookie")
	for _, line := range kept {
		header.Add("Set-Cookie", line)
	}
}

// rewriteLocation turns a redirect to a path of the upstream itself into one under the
// proxy's /HOST prefix. Redirects elsewhere (such as the Access login) are left alone.
func rewriteLocation(resp *http.Response, up *upstream) {
	raw := resp.Header.Get("Location")
	if raw == "" {
		return
	}
	location, err := url.Parse(raw)
	if err != nil {
		return
	}
	sameUpstream := location.Host == "" ||
		strings.EqualFold(location.Host, up.target.Host) && location.Scheme == up.target.Scheme
	if !sameUpstream || !strings.HasPrefix(location.Path, "/") {
		return
	}
	path := strings.TrimPrefix(location.Path, up.target.Path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	rewritten := url.URL{Path: "/" + up.name + path, RawQuery: location.RawQuery,
		Fragment: location.Fragment}
	resp.Header.Set("Location", rewritten.String())
}

// upstreamError answers 502 when the upstream gave no answer, with the reason.
func (p *accessProxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	detail, _ := probe.DescribeError(err, p.app.Timeout)
	rt := routeOf(r)
	if rt != nil {
		rt.status = http.StatusBadGateway
	}
	http.Error(w, "cfst proxy: upstream gave no answer: "+p.app.secrets.Scrub(detail),
		http.StatusBadGateway)
}

// logRequest writes the access log line: time, method, path, status, upstream and its
// latency. The query string is left out: it may hold tokens.
func (p *accessProxy) logRequest(r *http.Request, rt *route, status int, started time.Time) {
	upstreamText := "-"
	latency := time.Since(started)
	if rt != nil {
		upstreamText = rt.up.name
		latency = rt.upstream
	}
	p.app.writeErr(p.app.secrets.Scrub(fmt.Sprintf("%s %s %s %s %s %s\n",
		started.UTC().Format(time.RFC3339), r.Method, oneLine(r.URL.EscapedPath()),
		statusText(status),
		upstreamText, latencyText(latency))))
}

// announce tells stderr where the proxy listens and how each upstream is reached.
func (p *accessProxy) announce(addr net.Addr) {
	base := "http://" + addr.String()
	p.app.notef("cfst proxy: listening on %s; credentials from %s", base, p.creds.source)
	for _, name := range p.hosts {
		p.app.notef("  %s/%s/ -> %s", base, name, p.upstreams[name].target)
	}
}

// statusRecorder remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach the flusher and hijacker underneath.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// bufferPool lends httputil.ReverseProxy the buffers it copies response bodies
// through. Without it every response allocates one, which under load is most of the
// proxy's garbage and a good part of its CPU time.
type bufferPool struct{ pool sync.Pool }

func newBufferPool(size int) *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any {
		buf := make([]byte, size)
		return &buf
	}}}
}

func (b *bufferPool) Get() []byte { return *b.pool.Get().(*[]byte) }

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

// quietServerLog drops the standard library's server and proxy log lines; cfst logs each
// request itself.
func quietServerLog() *log.Logger { return log.New(discard{}, "", 0) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
