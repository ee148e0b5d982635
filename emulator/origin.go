package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// originEcho is the body of the "ok" origin. It shows which Access headers reached the
// origin, and never the value of a secret.
type originEcho struct {
	App                   string         `json:"app"`
	AppID                 string         `json:"app_id"`
	Host                  string         `json:"host"`
	Path                  string         `json:"path"`
	Method                string         `json:"method"`
	AccessHeadersReceived map[string]any `json:"access_headers_received"`
}

// serveOrigin answers as the origin of app, after Access has let the request through. The
// application's origin spec (see WorldApp.Origin) says how.
func (s *Server) serveOrigin(w http.ResponseWriter, r *http.Request, app *access.Application) {
	spec := s.state.origin(app.ID)
	switch {
	case spec == "" || spec == originSpecOK:
		writeOriginEcho(w, r, app)
	case spec == originSpecDown:
		writeBadGateway(w, r)
	case spec == originSpecTunnelDown:
		writeTunnelDown(w, r)
	case strings.HasPrefix(spec, originSpecSlow):
		s.serveSlowOrigin(w, r, app, strings.TrimPrefix(spec, originSpecSlow))
	case strings.HasPrefix(spec, originSpecStatus):
		writeOriginStatus(w, strings.TrimPrefix(spec, originSpecStatus))
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		s.proxyToUpstream(w, r, spec)
	default:
		writeBadOriginSpec(w, spec)
	}
}

func writeOriginEcho(w http.ResponseWriter, r *http.Request, app *access.Application) {
	received := map[string]any{
		"cf-access-jwt-assertion": r.Header.Get(headerJWTAssertion) != "",
		"cf-access-client-id":     r.Header.Get(headerClientID),
		"cf-access-client-secret": len(r.Header.Values(headerClientSecret)) > 0,
		"cf_authorization_cookie": hasCookie(r, cookieName),
	}
	if custom := app.ReadServiceTokensFromHeader; custom != "" {
		received[strings.ToLower(custom)] = len(r.Header.Values(custom)) > 0
	}
	echo := originEcho{
		App: app.Name, AppID: app.ID, Host: hostOnly(r.Host), Path: r.URL.Path,
		Method: r.Method, AccessHeadersReceived: received,
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(echo)
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// serveSlowOrigin waits, then answers as the ok origin. It gives up when the client goes
// away or the server closes.
func (s *Server) serveSlowOrigin(w http.ResponseWriter, r *http.Request,
	app *access.Application, delay string) {
	wait, err := time.ParseDuration(delay)
	if err != nil || wait < 0 {
		writeBadOriginSpec(w, originSpecSlow+delay)
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		writeOriginEcho(w, r, app)
	case <-r.Context().Done():
	case <-s.edge.closing.Done():
		writeBadGateway(w, r)
	}
}

func writeOriginStatus(w http.ResponseWriter, code string) {
	status, err := strconv.Atoi(code)
	if err != nil || status < 200 || status > 599 {
		writeBadOriginSpec(w, originSpecStatus+code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "origin answered %d\n", status)
}

// writeBadOriginSpec reports a world whose origin spec the emulator does not understand.
// It is the emulator's own error, so it says so instead of imitating Cloudflare.
func writeBadOriginSpec(w http.ResponseWriter, spec string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "emulator: origin %q is not ok, down, tunnel-down, slow:<duration>, "+
		"status:<code> or an http(s) URL\n", spec)
}

// proxyToUpstream forwards the request to a real server. Responses stream as they come and
// WebSocket upgrades pass through. Closing the emulator cuts the connection.
func (s *Server) proxyToUpstream(w http.ResponseWriter, r *http.Request, upstream string) {
	proxy, err := s.edge.proxyFor(upstream)
	if err != nil {
		writeBadOriginSpec(w, upstream)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.edge.closing, cancel)
	defer stop()
	proxy.ServeHTTP(w, r.WithContext(ctx))
}

func newUpstreamProxy(target *url.URL, transport http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host // as cloudflared does without httpHostHeader
		},
		Transport:     transport,
		FlushInterval: -1,
		ModifyResponse: func(res *http.Response) error {
			// The edge's own cf-ray and server headers are already on the response.
			res.Header.Del("Cf-Ray")
			res.Header.Del("Server")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, _ error) {
			if r.Context().Err() == nil {
				writeBadGateway(w, r)
			}
		},
		ErrorLog: quietLogger(),
	}
}

var badGatewayPage = template.Must(template.New("502").Parse(`<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>{{.Host}} | 502: Bad gateway</title></head>
<body>
<div id="cf-error-details">
<h1><span>Bad gateway</span> <span class="code-label">Error code 502</span></h1>
<p>Visit <a href="https://www.cloudflare.com/">cloudflare.com</a> for more information.</p>
<p>The web server reported a bad gateway error.</p>
<p>Cloudflare Ray ID: <strong>{{.Ray}}</strong> &bull; {{.Time}}</p>
</div>
</body>
</html>
`))

var tunnelErrorPage = template.Must(template.New("1033").Parse(`<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>Argo Tunnel error | {{.Host}} | Cloudflare</title></head>
<body>
<div id="cf-error-details">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1033</span></h1>
<h2 class="cf-subheadline">Argo Tunnel error</h2>
<p>The host ({{.Host}}) is configured as a Cloudflare Tunnel, and Cloudflare is currently
unable to resolve it.</p>
<p>error code: 1033 &bull; Cloudflare Ray ID: <strong>{{.Ray}}</strong> &bull; {{.Time}}</p>
</div>
</body>
</html>
`))

// errorPageData fills the Cloudflare error pages.
type errorPageData struct {
	Host, Ray, Time string
}

func newErrorPageData(w http.ResponseWriter, r *http.Request) errorPageData {
	return errorPageData{
		Host: hostOnly(r.Host),
		Ray:  w.Header().Get("Cf-Ray"),
		Time: time.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
	}
}

// writeBadGateway answers as Cloudflare does when the tunnel is up but cloudflared cannot
// reach the service behind it.
func writeBadGateway(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusBadGateway)
	_ = badGatewayPage.Execute(w, newErrorPageData(w, r))
}

// writeTunnelDown answers as Cloudflare does when no cloudflared is connected for the
// hostname: 530 with error 1033, an HTML page for browsers and one line for others.
func writeTunnelDown(w http.ResponseWriter, r *http.Request) {
	const status = 530
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprint(w, "error code: 1033")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	_ = tunnelErrorPage.Execute(w, newErrorPageData(w, r))
}
