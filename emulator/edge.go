package emulator

// The Access edge: what Cloudflare does with a request to a hostname an Access application
// covers. The outcomes follow the fact sheet (§3); access.Evaluate makes every policy
// decision, so the edge and cfst's own predictions cannot disagree. The choices the
// emulator makes where Cloudflare documents nothing are listed in the package doc.

import (
	"context"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// Emulator-only request headers that set what the edge believes about the client.
const (
	headerEmulatorClientIP = "X-Emulator-Client-Ip"
	headerEmulatorCountry  = "X-Emulator-Country"
	defaultCountry         = "US"
)

// edgeColo is the data-centre code at the end of every cf-ray header.
const edgeColo = "SJC"

// defaultSessionDuration is how long an application token lives when the application
// sets no session duration.
const defaultSessionDuration = 24 * time.Hour

// edgeRuntime is what the edge and the team domain keep for the life of a server.
type edgeRuntime struct {
	signer *signer
	// closing is cancelled when the server closes, to end slow origins and proxied
	// streams that would otherwise hold Close up.
	closing context.Context
	stop    context.CancelFunc

	upstream *http.Transport
	proxies  sync.Map // upstream URL -> *httputil.ReverseProxy
}

func newEdgeRuntime(teamDomain string) (*edgeRuntime, error) {
	sg, err := newSigner(teamDomain)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	closing, stop := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // an origin is reached directly, as cloudflared reaches it
	return &edgeRuntime{signer: sg, closing: closing, stop: stop, upstream: transport}, nil
}

// close ends slow origins and proxied connections.
func (e *edgeRuntime) close() {
	e.stop()
	e.upstream.CloseIdleConnections()
}

func (e *edgeRuntime) proxyFor(upstream string) (*httputil.ReverseProxy, error) {
	if proxy, ok := e.proxies.Load(upstream); ok {
		return proxy.(*httputil.ReverseProxy), nil
	}
	target, err := url.Parse(upstream)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("origin %q is not a URL", upstream)
	}
	proxy, _ := e.proxies.LoadOrStore(upstream, newUpstreamProxy(target, e.upstream))
	return proxy.(*httputil.ReverseProxy), nil
}

// isEdgeHost reports whether some application covers host.
func (s *Server) isEdgeHost(host string) bool {
	return access.CoversHost(s.state.applications(), host)
}

// loginAttempt is what the edge learnt about a request before evaluating policies.
type loginAttempt struct {
	credentials presented
	tokenID     string // set when the client id is known, whether or not it authenticated
	why         string // why the credentials did not authenticate
	request     access.Request
}

// serveEdge answers a request to a hostname an application covers.
func (s *Server) serveEdge(w http.ResponseWriter, r *http.Request) {
	ray := stampEdgeHeaders(w)
	if s.injectEdgeFault(w, r) {
		return
	}
	host := hostOnly(r.Host)
	apps := s.state.applications()
	app, _, ok := access.Match(apps, host, r.URL.Path)
	if !ok {
		s.forwardUnprotected(w, r, apps, host, ray)
		return
	}
	strict := s.state.strict()
	attempt := s.checkCredentials(r, app, strict)
	verdict := access.Evaluate(app, s.state.groups(), attempt.request, strict)
	s.recordLogin(attempt, verdict, app, host, ray)

	switch verdict.Outcome {
	case access.Admitted:
		s.serveAdmitted(w, r, app, attempt, strict, ray)
	case access.Bypassed:
		prepareForOrigin(r, app, attempt.request, ray)
		s.serveOrigin(w, r, app)
	case access.LoginRedirect:
		noCredentials := attempt.credentials.shape == shapeNone
		if noCredentials && !strict && s.resumeSession(w, r, app, attempt, ray) {
			return
		}
		s.redirectToLogin(w, r, app, host)
	default:
		refuse(w, app, verdict.Status)
	}
}

// stampEdgeHeaders sets the headers every edge answer carries, an injected fault's
// included, and returns the ray id.
func stampEdgeHeaders(w http.ResponseWriter) uint64 {
	ray := stampRay(w)
	w.Header().Set("Server", "cloudflare")
	return ray
}

// stampRay sets a new cf-ray header and returns its ray id.
func stampRay(w http.ResponseWriter) uint64 {
	ray := rand.Uint64()
	w.Header().Set("Cf-Ray", formatRay(ray)+"-"+edgeColo)
	return ray
}

func (s *Server) checkCredentials(r *http.Request, app *access.Application,
	strict bool) loginAttempt {
	attempt := loginAttempt{
		credentials: readCredentials(r.Header, app, strict),
		request:     access.Request{IP: clientIP(r), Country: clientCountry(r)},
	}
	switch attempt.credentials.shape {
	case shapeComplete:
		tokenID, state, why := s.state.authenticate(attempt.credentials.clientID,
			attempt.credentials.secret.Reveal(), s.clock.Now())
		attempt.tokenID, attempt.why = tokenID, why
		attempt.request.Credentials = state
		if state == access.ValidToken {
			attempt.request.TokenID = tokenID
		}
	case shapeFaulty:
		attempt.request.Credentials = access.InvalidToken
		attempt.why = attempt.credentials.problem
	}
	return attempt
}

func clientIP(r *http.Request) netip.Addr {
	if override, err := netip.ParseAddr(r.Header.Get(headerEmulatorClientIP)); err == nil {
		return override.Unmap()
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return peer.Addr().Unmap()
}

func clientCountry(r *http.Request) string {
	if country := r.Header.Get(headerEmulatorCountry); country != "" {
		return strings.ToUpper(country)
	}
	return defaultCountry
}

// recordLogin logs the attempt when the rules in the package doc say so.
func (s *Server) recordLogin(attempt loginAttempt, verdict access.Verdict,
	app *access.Application, host string, ray uint64) {
	if attempt.credentials.shape != shapeComplete || attempt.tokenID == "" ||
		verdict.Outcome == access.Bypassed {
		return
	}
	event := LoginEvent{
		Time: s.clock.Now(), RayID: formatRay(ray),
		TokenID: attempt.tokenID, ClientID: attempt.credentials.clientID,
		AppID: app.ID, AppDomain: app.Domain, Host: host,
		IP: attempt.request.IP, Country: attempt.request.Country,
		Allowed: verdict.Outcome == access.Admitted, Outcome: string(verdict.Outcome),
		Reason: string(verdict.Reason), Status: verdict.Status,
	}
	if attempt.request.Credentials != access.ValidToken {
		event.Reason = attempt.why
	}
	if event.Allowed && verdict.Policy != nil {
		event.ApprovingPolicyID = verdict.Policy.ID
	}
	s.events.record(event)
}

// serveAdmitted sends an admitted request to the origin with an application token, and
// hands the client the token as a cookie outside strict mode.
func (s *Server) serveAdmitted(w http.ResponseWriter, r *http.Request, app *access.Application,
	attempt loginAttempt, strict bool, ray uint64) {
	now := s.clock.Now()
	lifetime := sessionLifetime(app)
	token, err := s.edge.signer.appToken(s.issuer(), app.AUD, attempt.credentials.clientID,
		now, lifetime)
	if err != nil {
		http.Error(w, "emulator: sign the application token: "+err.Error(),
			http.StatusInternalServerError)
		return
	}
	if !strict {
		http.SetCookie(w, &http.Cookie{
			Name: cookieName, Value: token, Path: "/", Domain: hostOnly(r.Host),
			MaxAge: int(lifetime.Seconds()), HttpOnly: true, Secure: true,
			SameSite: http.SameSiteNoneMode,
		})
	}
	prepareForOrigin(r, app, attempt.request, ray)
	r.Header.Set(headerJWTAssertion, token)
	s.serveOrigin(w, r, app)
}

// resumeSession admits a request that carries a valid application token for app, and
// reports whether it did.
func (s *Server) resumeSession(w http.ResponseWriter, r *http.Request,
	app *access.Application, attempt loginAttempt, ray uint64) bool {
	token := r.Header.Get(headerAccessToken)
	if cookie, err := r.Cookie(cookieName); token == "" && err == nil {
		token = cookie.Value
	}
	if token == "" {
		return false
	}
	if _, err := s.edge.signer.verify(token, s.issuer(), app.AUD, s.clock.Now()); err != nil {
		return false
	}
	prepareForOrigin(r, app, attempt.request, ray)
	r.Header.Set(headerJWTAssertion, token)
	s.serveOrigin(w, r, app)
	return true
}

// sessionLifetime is the application's session duration, or 24 hours.
func sessionLifetime(app *access.Application) time.Duration {
	if lifetime, err := time.ParseDuration(app.SessionDuration); err == nil && lifetime > 0 {
		return lifetime
	}
	return defaultSessionDuration
}

// issuer is the iss claim of application tokens.
func (s *Server) issuer() string { return "https://" + s.world.TeamDomain() }

// prepareForOrigin turns the client's request into the one the origin receives (see the
// package doc).
func prepareForOrigin(r *http.Request, app *access.Application, req access.Request,
	ray uint64) {
	h := r.Header
	h.Del(headerClientSecret)
	h.Del(headerJWTAssertion)
	h.Del(headerEmulatorClientIP)
	h.Del(headerEmulatorCountry)
	if app.ReadServiceTokensFromHeader != "" {
		h.Del(app.ReadServiceTokensFromHeader)
	}
	h.Set("Cf-Ray", formatRay(ray)+"-"+edgeColo)
	h.Set("Cf-Ipcountry", req.Country)
	if req.IP.IsValid() {
		h.Set("Cf-Connecting-Ip", req.IP.String())
	}
}

// forwardUnprotected serves a path of a covered hostname that no application covers.
func (s *Server) forwardUnprotected(w http.ResponseWriter, r *http.Request,
	apps []access.Application, host string, ray uint64) {
	for i := range apps {
		if access.CoversHost(apps[i:i+1], host) {
			req := access.Request{IP: clientIP(r), Country: clientCountry(r)}
			prepareForOrigin(r, &apps[i], req, ray)
			s.serveOrigin(w, r, &apps[i])
			return
		}
	}
	// The application was deleted between routing and now.
	http.Error(w, "emulator: no application covers "+host, http.StatusNotFound)
}

// redirectToLogin sends the client to the team's login page, as Access does when an
// identity login could pass a policy.
func (s *Server) redirectToLogin(w http.ResponseWriter, r *http.Request,
	app *access.Application, host string) {
	location := "https://" + s.world.TeamDomain() + loginPath + host +
		"?kid=" + url.QueryEscape(app.AUD) +
		"&redirect_url=" + url.QueryEscape(r.URL.RequestURI())
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

var refusalPage = template.Must(template.New("refusal").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} | Cloudflare Access</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</body>
</html>
`))

// refuse answers with Access's Forbidden page (403) or its 401 page, with the application's
// AUD in CF-Access-Aud.
func refuse(w http.ResponseWriter, app *access.Application, status int) {
	page := struct{ Title, Message string }{"Forbidden",
		"You don't have permission to view this. Please contact your system administrator."}
	if status == http.StatusUnauthorized {
		page.Title = "Unauthorized"
		page.Message = "This request needs a valid service token."
	} else if status != http.StatusForbidden {
		status = http.StatusForbidden
	}
	w.Header().Set("Cf-Access-Aud", app.AUD)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = refusalPage.Execute(w, page)
}
