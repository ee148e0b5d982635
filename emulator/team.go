package emulator

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

// Paths served on the team domain, <team>.cloudflareaccess.com.
const (
	certsPath    = "/cdn-cgi/access/certs"
	loginPath    = "/cdn-cgi/access/login/"
	identityPath = "/cdn-cgi/access/get-identity"
)

// serveTeam answers on the team domain: the signing keys, a login page that only says
// what an identity login would be, and the identity behind an application token.
func (s *Server) serveTeam(w http.ResponseWriter, r *http.Request) {
	stampEdgeHeaders(w)
	switch {
	case r.URL.Path == certsPath:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.edge.signer.certsDoc)
	case strings.HasPrefix(r.URL.Path, loginPath):
		serveLoginPage(w, r)
	case r.URL.Path == identityPath:
		s.serveIdentity(w, r)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in ・ Cloudflare Access</title></head>
<body>
<h1>Sign in to {{.Host}}</h1>
<p>This is the cfst emulator's Access login page. It has no identity provider: a person
would sign in here, but a service token never should. Send CF-Access-Client-Id and
CF-Access-Client-Secret to {{.Host}} with a Service Auth policy instead.</p>
<p>Application audience (kid): <code>{{.AUD}}</code><br>
After login: <code>{{.RedirectURL}}</code></p>
</body>
</html>
`))

// serveLoginPage answers 200 with a small page, so that clients following the login
// redirect (curl -L) end on a page that says where they are.
func serveLoginPage(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(r.URL.Path, loginPath)
	query := r.URL.Query()
	w.Header().Set("Cf-Access-Domain", host)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, struct{ Host, AUD, RedirectURL string }{
		host, query.Get("kid"), query.Get("redirect_url")})
}

// identity is the body of get-identity for a service-token session.
type identity struct {
	Type               string   `json:"type"`
	AUD                []string `json:"aud"`
	CommonName         string   `json:"common_name"`
	ServiceTokenID     string   `json:"service_token_id"`
	ServiceTokenStatus bool     `json:"service_token_status"`
	IssuedAt           int64    `json:"iat"`
	ExpiresAt          int64    `json:"exp"`
}

// serveIdentity describes the session behind a CF_Authorization cookie or a
// cf-access-token header. For a service token, service_token_id is its client id.
func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get(headerAccessToken)
	if cookie, err := r.Cookie(cookieName); token == "" && err == nil {
		token = cookie.Value
	}
	claims, err := s.edge.signer.verify(token, s.issuer(), "", s.clock.Now())
	w.Header().Set("Content-Type", "application/json")
	if token == "" || err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"err":"no valid CF_Authorization cookie"}` + "\n"))
		return
	}
	_ = json.NewEncoder(w).Encode(identity{
		Type:               claims.Type,
		AUD:                claims.Audience,
		CommonName:         claims.CommonName,
		ServiceTokenID:     claims.CommonName,
		ServiceTokenStatus: true,
		IssuedAt:           claims.IssuedAt.Unix(),
		ExpiresAt:          claims.ExpiresAt.Unix(),
	})
}
