package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// edgeCase is one request to the edge and what must come back.
type edgeCase struct {
	name  string
	host  string
	path  string // with query; "/" when empty
	lines []string
	// status is the expected status. For 302 the Location must be the login URL of the
	// host's application; for 401 and 403 CF-Access-Aud must be its AUD.
	status int
	// app is the application whose AUD CF-Access-Aud and kid must carry, and whose name
	// the origin echo must show; it defaults to the first label of host.
	app string
	// jwt is whether the origin must have received Cf-Access-Jwt-Assertion (200 only).
	jwt bool
	// cookie is whether the answer must set CF_Authorization.
	cookie bool
	// body is text the answer must contain.
	body string
}

func TestEdgeDefaultMode(t *testing.T) {
	srv := startEmulator(t, edgeWorld(false, ""))
	good := credentialLines(goodClientID, goodSecret)
	wrong := credentialLines(goodClientID, otherSecret)
	unknown := credentialLines(unknownClientID, goodSecret)
	expired := credentialLines(expiredClientID, expiredSecret)
	disabled := credentialLines(disabledClientID, disabledSecret)
	other := credentialLines(otherClientID, otherSecret)
	onlyID := []string{"CF-Access-Client-Id: " + goodClientID}

	cases := []edgeCase{
		// §3.2 row 1: no credentials, the app has an Allow policy.
		{name: "no credentials, Allow policy", host: "login.example.com",
			path: "/some/path?q=1&r=two", status: 302},
		{name: "no credentials, Service Auth only", host: "svc.example.com", status: 403},
		{name: "no credentials, 401 flag", host: "svc401.example.com", status: 401},
		// Row 2: a valid token admitted by a Service Auth policy.
		{name: "valid token, Service Auth", host: "svc.example.com", path: "/api?x=1",
			lines: good, status: 200, jwt: true, cookie: true},
		{name: "valid token, Service Auth next to Allow", host: "mixed.example.com",
			lines: good, status: 200, jwt: true, cookie: true},
		{name: "valid token, Allow policy only", host: "login.example.com", lines: good,
			status: 302},
		// Row 3: invalid, expired, revoked or unknown tokens, or a wrong secret.
		{name: "wrong secret, identity path", host: "mixed.example.com", lines: wrong,
			status: 302},
		{name: "wrong secret, no identity path", host: "svc.example.com", lines: wrong,
			status: 403},
		{name: "unknown client id, identity path", host: "mixed.example.com", lines: unknown,
			status: 302},
		{name: "unknown client id, no identity path", host: "svc.example.com", lines: unknown,
			status: 403},
		{name: "expired token, identity path", host: "mixed.example.com", lines: expired,
			status: 302},
		{name: "expired token, no identity path", host: "svc.example.com", lines: expired,
			status: 403},
		{name: "disabled token", host: "svc.example.com", lines: disabled, status: 403},
		{name: "client id without secret", host: "svc.example.com", lines: onlyID, status: 403},
		// Row 4: service_auth_401_redirect.
		{name: "401 flag, wrong secret", host: "svc401.example.com", lines: wrong, status: 401},
		{name: "401 flag, expired token", host: "svc401.example.com", lines: expired,
			status: 401},
		// Row 5: a valid token no policy admits.
		{name: "valid token not admitted, identity path", host: "mixed.example.com",
			lines: other, status: 302},
		{name: "valid token not admitted, no identity path", host: "svc.example.com",
			lines: other, status: 403},
		{name: "valid token not admitted, 401 flag", host: "svc401.example.com", lines: other,
			status: 401},
		// Rotation: the previous secret works inside the grace period.
		{name: "previous secret inside grace", host: "svc.example.com",
			lines: credentialLines(rotatedClientID, previousSecret), status: 200, jwt: true,
			cookie: true},
		{name: "new secret after rotation", host: "svc.example.com",
			lines: credentialLines(rotatedClientID, rotatedSecret), status: 200, jwt: true,
			cookie: true},
		// A header sent twice: its first value counts outside strict mode.
		{name: "duplicate client id, first counts", host: "svc.example.com",
			lines: []string{"CF-Access-Client-Id: " + goodClientID,
				"CF-Access-Client-Id: " + otherClientID, "CF-Access-Client-Secret: " + goodSecret},
			status: 200, jwt: true, cookie: true},
		// Single-header applications.
		{name: "single header", host: "single.example.com",
			lines:  []string{singleHeaderLine("Authorization", goodClientID, goodSecret)},
			status: 200, jwt: true, cookie: true},
		{name: "single header app ignores standard headers", host: "single.example.com",
			lines: good, status: 403},
		{name: "single header, wrong secret", host: "single.example.com",
			lines:  []string{singleHeaderLine("Authorization", goodClientID, otherSecret)},
			status: 403},
		{name: "single header, uppercase keys", host: "single.example.com",
			lines: []string{`Authorization: {"CF-Access-Client-Id":"` + goodClientID +
				`","CF-Access-Client-Secret":"` + goodSecret + `"}`}, status: 403},
		// Bypass and paths no application covers reach the origin without a JWT.
		{name: "bypass", host: "public.example.com", status: 200},
		{name: "path outside the application", host: "paths.example.com", path: "/public",
			status: 200},
		{name: "path inside the application", host: "paths.example.com", path: "/admin/x",
			status: 403},
		// Origins.
		{name: "origin down", host: "down.example.com", lines: good, status: 502,
			cookie: true, body: "Error code 502"},
		{name: "tunnel down", host: "tunnel.example.com", lines: good, status: 530,
			cookie: true, body: "error code: 1033"},
		{name: "origin status", host: "teapot.example.com", lines: good, status: 418,
			cookie: true, body: "origin answered 418"},
	}
	runEdgeCases(t, srv, cases)
}

func TestEdgeStrictMode(t *testing.T) {
	srv := startEmulator(t, edgeWorld(true, ""))
	good := credentialLines(goodClientID, goodSecret)
	session, err := srv.edge.signer.appToken(srv.issuer(), appNamed(t, srv, "mixed").AUD,
		goodClientID, srv.Clock().Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []edgeCase{
		{name: "no credentials, Allow policy", host: "mixed.example.com", status: 302},
		{name: "no credentials, Service Auth only", host: "svc.example.com", status: 403},
		{name: "valid token, no cookie", host: "svc.example.com", lines: good, status: 200,
			jwt: true},
		{name: "valid token next to Allow, no cookie", host: "mixed.example.com", lines: good,
			status: 200, jwt: true},
		// 401: the token cannot authenticate, even where an identity path exists.
		{name: "wrong secret", host: "mixed.example.com",
			lines: credentialLines(goodClientID, otherSecret), status: 401},
		{name: "unknown client id", host: "mixed.example.com",
			lines: credentialLines(unknownClientID, goodSecret), status: 401},
		{name: "expired token", host: "svc.example.com",
			lines: credentialLines(expiredClientID, expiredSecret), status: 401},
		{name: "disabled token", host: "svc.example.com",
			lines: credentialLines(disabledClientID, disabledSecret), status: 401},
		{name: "incomplete headers", host: "mixed.example.com",
			lines: []string{"CF-Access-Client-Id: " + goodClientID}, status: 401},
		{name: "duplicate client id", host: "svc.example.com",
			lines:  append([]string{"CF-Access-Client-Id: " + goodClientID}, good...),
			status: 401},
		{name: "duplicate secret", host: "svc.example.com",
			lines:  append([]string{"CF-Access-Client-Secret: " + goodSecret}, good...),
			status: 401},
		// 403: the token authenticates but no policy admits it.
		{name: "valid token not admitted, identity path", host: "mixed.example.com",
			lines: credentialLines(otherClientID, otherSecret), status: 403},
		{name: "valid token, Allow policy only", host: "login.example.com", lines: good,
			status: 403},
		{name: "previous secret inside grace", host: "svc.example.com",
			lines: credentialLines(rotatedClientID, previousSecret), status: 200, jwt: true},
		// Single-header applications.
		{name: "single header", host: "single.example.com",
			lines:  []string{singleHeaderLine("Authorization", goodClientID, goodSecret)},
			status: 200, jwt: true},
		{name: "single and standard headers", host: "single.example.com",
			lines:  append(good, singleHeaderLine("Authorization", goodClientID, goodSecret)),
			status: 401},
		{name: "standard headers on a single-header app", host: "single.example.com",
			lines: good, status: 401},
		// Cookies are ignored: a valid session still goes to the login page.
		{name: "cookie ignored", host: "mixed.example.com",
			lines: []string{"Cookie: CF_Authorization=" + session}, status: 302},
		{name: "bypass", host: "public.example.com", status: 200},
		{name: "origin down", host: "down.example.com", lines: good, status: 502,
			body: "Error code 502"},
		{name: "tunnel down", host: "tunnel.example.com", lines: good, status: 530,
			body: "error code: 1033"},
	}
	runEdgeCases(t, srv, cases)
}

func runEdgeCases(t *testing.T, srv *Server, cases []edgeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/"
			}
			resp := curl(t, srv, "https://"+tc.host+path, tc.lines...)
			checkEdgeAnswer(t, srv, tc, path, resp)
		})
	}
}

func checkEdgeAnswer(t *testing.T, srv *Server, tc edgeCase, path string, resp curlResponse) {
	t.Helper()
	if resp.status != tc.status {
		t.Fatalf("status %d, want %d; body:\n%s", resp.status, tc.status, resp.body)
	}
	if !hasRay(resp.header) {
		t.Errorf("cf-ray is %q, want <16 hex>-<colo>", resp.header.Get("Cf-Ray"))
	}
	appName := tc.app
	if appName == "" {
		appName, _, _ = strings.Cut(tc.host, ".")
	}
	app := appNamed(t, srv, appName)
	switch tc.status {
	case http.StatusFound:
		want := "https://edge.cloudflareaccess.com/cdn-cgi/access/login/" + tc.host +
			"?kid=" + app.AUD + "&redirect_url=" + url.QueryEscape(path)
		if got := resp.header.Get("Location"); got != want {
			t.Errorf("Location\n got %s\nwant %s", got, want)
		}
	case http.StatusUnauthorized, http.StatusForbidden:
		if got := resp.header.Get("Cf-Access-Aud"); got != app.AUD {
			t.Errorf("CF-Access-Aud = %q, want %q", got, app.AUD)
		}
	case http.StatusOK:
		checkOriginEcho(t, resp.body, appName, tc.jwt)
	}
	if got := hasAuthorizationCookie(resp.header, tc.host); got != tc.cookie {
		t.Errorf("CF_Authorization cookie set: %v, want %v (%q)", got, tc.cookie,
			resp.header.Values("Set-Cookie"))
	}
	if !strings.Contains(resp.body, tc.body) {
		t.Errorf("body lacks %q:\n%s", tc.body, resp.body)
	}
}

// checkOriginEcho checks the ok origin's report of what reached it.
func checkOriginEcho(t *testing.T, body, appName string, wantJWT bool) {
	t.Helper()
	var echo originEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatalf("origin body is not the echo: %v\n%s", err, body)
	}
	received := echo.AccessHeadersReceived
	if echo.App != appName || received["cf-access-jwt-assertion"] != wantJWT {
		t.Errorf("origin echo %+v, want app %q and JWT %v", echo, appName, wantJWT)
	}
	if received["cf-access-client-secret"] != false || received["authorization"] == true {
		t.Errorf("a secret reached the origin: %v", received)
	}
	if strings.Contains(body, "cfast_") {
		t.Errorf("the origin echo shows a secret: %s", body)
	}
}

// hasAuthorizationCookie reports whether the answer sets a well-formed CF_Authorization.
func hasAuthorizationCookie(header http.Header, host string) bool {
	for _, line := range header.Values("Set-Cookie") {
		cookie, err := http.ParseSetCookie(line)
		if err != nil || cookie.Name != cookieName {
			continue
		}
		return cookie.HttpOnly && cookie.Secure && cookie.Path == "/" &&
			cookie.Domain == host && cookie.Value != ""
	}
	return false
}

func TestEdgeGracePeriodEnds(t *testing.T) {
	srv := startEmulator(t, edgeWorld(false, ""))
	previous := credentialLines(rotatedClientID, previousSecret)
	if resp := curl(t, srv, "https://svc.example.com/", previous...); resp.status != 200 {
		t.Fatalf("inside grace: status %d, want 200", resp.status)
	}
	srv.Clock().(*ManualClock).Advance(2 * time.Hour)
	resp := curl(t, srv, "https://svc.example.com/", previous...)
	checkEdgeAnswer(t, srv, edgeCase{host: "svc.example.com", status: 403}, "/", resp)
	resp = curl(t, srv, "https://svc.example.com/",
		credentialLines(rotatedClientID, rotatedSecret)...)
	if resp.status != 200 {
		t.Fatalf("new secret after grace: status %d, want 200", resp.status)
	}
}
