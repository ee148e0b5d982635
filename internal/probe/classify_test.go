package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/probe"
)

const loginURL = "https://team.cloudflareaccess.com/cdn-cgi/access/login/app.test" +
	"?kid=aud123&redirect_url=%2F&meta=eyJhbGciOi.payload.sig"

// classCase is one synthetic answer and what the prober must make of it.
type classCase struct {
	name     string
	handler  http.HandlerFunc
	expect   int // the target's ExpectStatus
	class    probe.Class
	status   int
	hint     string // substring of the hint
	detail   string // substring of the detail
	location string // the whole Location, when set
	// admitted: the answer sets CF_Authorization, so an ok result has no hint at all.
	admitted bool
}

// accessCookie is the Set-Cookie of an answer Access admitted outside strict mode.
const accessCookie = "CF_Authorization=eyJhbGciOi.payload.sig; Path=/; HttpOnly; Secure"

var classCases = []classCase{
	{name: "ok", handler: viaCloudflare(200, "hello", "Set-Cookie", accessCookie),
		class: probe.ClassOK, status: 200, detail: "HTTP 200, Access set CF_Authorization",
		admitted: true},
	{name: "ok-expected-204", handler: viaCloudflare(204, "", "Set-Cookie", accessCookie),
		expect: 204, class: probe.ClassOK, status: 204, admitted: true},
	{name: "ok-expected-redirect", expect: 302,
		handler: viaCloudflare(302, "", "Location", "https://elsewhere.test/"),
		class:   probe.ClassOK, status: 302, hint: "no sign of Access"},
	// cf-ray shows Cloudflare, not Access: without the cookie the answer may come from
	// strict mode (which sets none), a Bypass policy or a URL no application covers.
	{name: "ok-no-access-cookie", handler: viaCloudflare(200, "hello"),
		class: probe.ClassOK, status: 200, hint: "(no CF_Authorization cookie)"},
	{name: "ok-other-cookie", handler: viaCloudflare(200, "", "Set-Cookie", "session=abc"),
		class: probe.ClassOK, status: 200, hint: "no Access application covers this URL"},
	{name: "ok-access-cookie-deleted",
		handler: viaCloudflare(200, "", "Set-Cookie", "CF_Authorization=; Max-Age=0"),
		class:   probe.ClassOK, status: 200, hint: "--compare-anonymous"},
	{name: "backend-502", handler: viaCloudflare(502, "Bad gateway"),
		class: probe.ClassBackendDown, status: 502, hint: "origin behind the tunnel"},
	{name: "backend-503", handler: viaCloudflare(503, ""),
		class: probe.ClassBackendDown, status: 503, hint: "cloudflared's ingress"},
	{name: "backend-504", handler: viaCloudflare(504, ""), class: probe.ClassBackendDown,
		status: 504, hint: "Access admitted the token"},
	{name: "backend-520", handler: viaCloudflare(520, "error code: 520"),
		class: probe.ClassBackendDown, status: 520, hint: "origin"},
	{name: "backend-522", handler: viaCloudflare(522, ""), class: probe.ClassBackendDown,
		status: 522, hint: "origin"},
	{name: "backend-527", handler: viaCloudflare(527, ""), class: probe.ClassBackendDown,
		status: 527, hint: "origin"},
	{name: "tunnel-530", handler: viaCloudflare(530, "error code: 1033"),
		class: probe.ClassTunnelDown, status: 530, hint: "start the tunnel",
		detail: "Cloudflare error 1033"},
	{name: "tunnel-1033-page", handler: viaCloudflare(502,
		"<html><title>Argo Tunnel error | Error 1033</title></html>"),
		class: probe.ClassTunnelDown, status: 502, hint: "error 1033"},
	{name: "login-302", handler: answer(302, "", "Location", loginURL),
		class: probe.ClassLoginRedirect, status: 302, hint: "Service Auth",
		location: "https://team.cloudflareaccess.com/cdn-cgi/access/login/app.test" +
			"?kid=aud123&meta=&redirect_url="},
	{name: "login-303", handler: viaCloudflare(303, "", "Location", loginURL),
		class: probe.ClassLoginRedirect, status: 303, hint: "cfst apps"},
	{name: "login-307-relative", handler: viaCloudflare(307, "",
		"Location", "/cdn-cgi/access/login/app.test?kid=x"),
		class: probe.ClassLoginRedirect, status: 307, hint: "identity login",
		location: "https://login-307-relative.test/cdn-cgi/access/login/app.test?kid=x"},
	// A 401 from Access looks the same in strict mode and from an application with
	// service_auth_401_redirect, so the hint names both.
	{name: "unauthenticated", handler: viaCloudflare(401, "", "Cf-Access-Aud", "aud123"),
		class: probe.ClassUnauthenticated, status: 401, hint: "cfst rotate",
		detail: "aud123"},
	{name: "unauthenticated-401-redirect-app",
		handler: viaCloudflare(401, "", "Cf-Access-Aud", "aud123"),
		class:   probe.ClassUnauthenticated, status: 401,
		hint: "service_auth_401_redirect answers 401 instead of a login redirect"},
	{name: "unauthenticated-no-aud", handler: viaCloudflare(401, ""),
		class: probe.ClassUnauthenticated, status: 401, hint: "strict mode",
		detail: "may come from the origin"},
	// The cookie shows Access admitted the token: a refusal after it is the origin's.
	{name: "origin-401-after-access",
		handler: viaCloudflare(401, "", "Set-Cookie", accessCookie),
		class:   probe.ClassUnexpectedStatus, status: 401, hint: "origin itself refused",
		detail: "HTTP 401 from the origin, after Access admitted the token"},
	{name: "origin-403-after-access",
		handler: viaCloudflare(403, "Cloudflare Access says no", "Set-Cookie", accessCookie),
		class:   probe.ClassUnexpectedStatus, status: 403, hint: "set expect"},
	{name: "waf-1010-after-access",
		handler: viaCloudflare(403, "error code: 1010", "Set-Cookie", accessCookie),
		class:   probe.ClassBlockedByWAF, status: 403, hint: "WAF"},
	{name: "forbidden-aud", handler: viaCloudflare(403, "Forbidden", "Cf-Access-Aud", "aud1"),
		class: probe.ClassForbidden, status: 403, hint: "no policy admits it",
		detail: "from Access"},
	{name: "forbidden-page", handler: viaCloudflare(403,
		"<html><title>Forbidden</title>Cloudflare Access: you do not have access</html>"),
		class: probe.ClassForbidden, status: 403, hint: "invalid"},
	{name: "waf-1010", handler: viaCloudflare(403, "error code: 1010"),
		class: probe.ClassBlockedByWAF, status: 403, hint: "WAF",
		detail: "Cloudflare error 1010"},
	{name: "waf-1020-page", handler: viaCloudflare(403, "<h1>Error 1020</h1> Access denied"),
		class: probe.ClassBlockedByWAF, status: 403, detail: "1020", hint: "security rules"},
	{name: "unexpected-404", handler: viaCloudflare(404, "not found"),
		class: probe.ClassUnexpectedStatus, status: 404, hint: "expected status"},
	{name: "unexpected-not-the-expected", handler: viaCloudflare(200, ""), expect: 204,
		class: probe.ClassUnexpectedStatus, status: 200, detail: "expected 204"},
	{name: "unexpected-403-origin", handler: viaCloudflare(403, "go away"),
		class: probe.ClassUnexpectedStatus, status: 403},
	{name: "unexpected-500", handler: viaCloudflare(500, ""),
		class: probe.ClassUnexpectedStatus, status: 500},
	{name: "redirect-other-host", handler: viaCloudflare(301, "",
		"Location", "https://evil.test/collect?token=abc#frag"),
		class: probe.ClassUnexpectedStatus, status: 301, hint: "token stayed on this host",
		detail:   `another host "evil.test"`,
		location: "https://evil.test/collect?token="},
	{name: "redirect-to-http", handler: viaCloudflare(308, "",
		"Location", "http://redirect-to-http.test/"),
		class: probe.ClassUnexpectedStatus, status: 308, hint: "plain http",
		detail: "from https to http"},
	{name: "redirect-same-host", handler: viaCloudflare(302, "", "Location", "/home"),
		class: probe.ClassUnexpectedStatus, status: 302, detail: "redirect to /home",
		hint: "set expect"},
	{name: "redirect-without-location", handler: viaCloudflare(302, ""),
		class: probe.ClassUnexpectedStatus, status: 302, detail: "without a usable Location"},
	{name: "not-protected", handler: answer(200, "hello"),
		class: probe.ClassNotProtected, status: 200, hint: "did not come through Cloudflare",
		detail: "without a cf-ray"},
	{name: "not-protected-401", handler: answer(401, ""),
		class: probe.ClassNotProtected, status: 401},
	{name: "not-protected-mentions-1033", handler: answer(200, "see error code: 1033"),
		class: probe.ClassNotProtected, status: 200},
	{name: "cloudflare-server-header", handler: answer(200, "", "Server", "cloudflare"),
		class: probe.ClassOK, status: 200, hint: "no sign of Access"},
}

// TestClassification probes one TLS hostname per case, all in one run, and checks the
// class, status, hint, detail and ray of each.
func TestClassification(t *testing.T) {
	routes := map[string]http.HandlerFunc{}
	var targets []probe.Target
	for _, c := range classCases {
		host := c.name + ".test"
		routes[host] = c.handler
		target := targetFor(t, host)
		target.ExpectStatus = c.expect
		targets = append(targets, target)
	}
	e := newEdge(t, routes)
	results := e.prober(t).RunAll(context.Background(), targets, testCredentials())

	seenClasses := map[probe.Class]bool{}
	for i, c := range classCases {
		t.Run(c.name, func(t *testing.T) {
			r := results[i]
			seenClasses[r.Class] = true
			if r.Index != i || r.Target.Name != targets[i].Name {
				t.Errorf("result %d is for target %d %q", i, r.Index, r.Target.Name)
			}
			if r.Class != c.class || r.Status != c.status {
				t.Fatalf("got %s %d (%s), want %s %d", r.Class, r.Status, r.Detail,
					c.class, c.status)
			}
			checkText(t, "hint", r.Hint, c.hint)
			checkText(t, "detail", r.Detail, c.detail)
			if c.location != "" && r.Location != c.location {
				t.Errorf("location %q, want %q", r.Location, c.location)
			}
			if r.Ray != "" && r.Ray != testRay || c.name == "ok" && r.Ray != testRay {
				t.Errorf("ray %q", r.Ray)
			}
			if (r.Hint == "") != (r.Class == probe.ClassOK && c.admitted) {
				t.Errorf("hint %q for class %s (admitted %t)", r.Hint, r.Class, c.admitted)
			}
			if strings.Contains(r.Hint, "\n") || strings.Contains(r.Detail, "\n") {
				t.Errorf("hint or detail spans lines: %q %q", r.Hint, r.Detail)
			}
		})
	}
	for _, class := range probe.Classes {
		if class != probe.ClassNetworkError && !seenClasses[class] {
			t.Errorf("no case produces %s", class)
		}
	}
}

func checkText(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s %q lacks %q", what, got, want)
	}
}

// TestCredentialsGoToTheTargetHost checks that each target host received the token in
// the two standard headers, or in the configured custom header.
func TestCredentialsGoToTheTargetHost(t *testing.T) {
	e := newEdge(t, map[string]http.HandlerFunc{"app.test": viaCloudflare(200, "")})
	creds := testCredentials()
	for _, header := range []string{"", "X-Token"} {
		creds.Header = header
		e.log = requestLog{}
		results := e.prober(t).RunAll(context.Background(),
			[]probe.Target{targetFor(t, "app.test")}, creds)
		if results[0].Class != probe.ClassOK {
			t.Fatalf("header %q: %s %s", header, results[0].Class, results[0].Detail)
		}
		got := e.log.all()[0].header
		if header == "" {
			if got.Get("Cf-Access-Client-Id") != creds.ClientID ||
				got.Get("Cf-Access-Client-Secret") != canary {
				t.Errorf("standard headers not sent: %v", got)
			}
			continue
		}
		want := fmt.Sprintf(`{"cf-access-client-id":%q,"cf-access-client-secret":%q}`,
			creds.ClientID, canary)
		if got.Get(header) != want || got.Get("Cf-Access-Client-Secret") != "" {
			t.Errorf("custom header: %v", got)
		}
	}
}

func TestCompareAnonymous(t *testing.T) {
	protected := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cf-Access-Client-Secret") == "" {
			viaCloudflare(302, "", "Location", loginURL)(w, r)
			return
		}
		viaCloudflare(200, "")(w, r)
	}
	e := newEdge(t, map[string]http.HandlerFunc{
		"open.test":      viaCloudflare(200, ""),
		"protected.test": protected,
	})
	prober := e.prober(t)
	prober.CompareAnonymous = true
	results := prober.RunAll(context.Background(),
		[]probe.Target{targetFor(t, "open.test"), targetFor(t, "protected.test")},
		testCredentials())

	open, guarded := results[0], results[1]
	if open.Class != probe.ClassNotProtected || !strings.Contains(open.Hint, "Bypass") ||
		open.Anonymous == nil || open.Anonymous.Class != probe.ClassOK {
		t.Errorf("open: %+v", open)
	}
	// The refusal without credentials shows Access is there, so the answer's missing
	// cookie (as in strict mode) earns no "no sign of Access" hint.
	if guarded.Class != probe.ClassOK || guarded.Hint != "" || guarded.Anonymous == nil ||
		guarded.Anonymous.Class != probe.ClassLoginRedirect || guarded.Anonymous.Hint != "" {
		t.Errorf("protected: %+v", guarded)
	}
	if n := len(e.log.all()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestAnnotate(t *testing.T) {
	e := newEdge(t, map[string]http.HandlerFunc{
		"app.test": answer(302, "", "Location", loginURL)})
	prober := e.prober(t)
	prober.Annotate = func(r *probe.Result) {
		r.Hint += " (application app, policy ci)"
	}
	result := prober.RunAll(context.Background(), []probe.Target{targetFor(t, "app.test")},
		testCredentials())[0]
	if !strings.HasSuffix(result.Hint, "`cfst apps`) (application app, policy ci)") {
		t.Errorf("hint %q", result.Hint)
	}
}

// TestCompareAnonymousSendsNoCookie gives the prober a client with a cookie jar and an
// edge that sets CF_Authorization and admits whoever returns it: the anonymous request
// must not carry the cookie, or it would pass and the token look unneeded.
func TestCompareAnonymousSendsNoCookie(t *testing.T) {
	session := func(w http.ResponseWriter, r *http.Request) {
		_, cookieErr := r.Cookie("CF_Authorization")
		if r.Header.Get("Cf-Access-Client-Secret") == "" && cookieErr != nil {
			viaCloudflare(403, "", "Cf-Access-Aud", "aud1")(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "CF_Authorization", Value: "jwt", Path: "/"})
		viaCloudflare(200, "")(w, r)
	}
	e := newEdge(t, map[string]http.HandlerFunc{"app.test": session})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := e.client(t)
	client.Jar = jar
	prober := &probe.Prober{Client: client, CompareAnonymous: true}
	result := prober.RunAll(context.Background(), []probe.Target{targetFor(t, "app.test")},
		testCredentials())[0]
	if result.Class != probe.ClassOK || result.Anonymous.Class != probe.ClassForbidden {
		t.Errorf("got %s, anonymous %s", result.Class, result.Anonymous.Class)
	}
}

func TestBadTargetURL(t *testing.T) {
	prober := &probe.Prober{}
	result := prober.RunAll(context.Background(),
		[]probe.Target{{URL: "https://ci:" + canary + "@bad host/"}}, testCredentials())[0]
	if result.Class != probe.ClassNetworkError ||
		result.Detail != "config: the target URL does not parse" {
		t.Errorf("got %s %q", result.Class, result.Detail)
	}
	assertNoCanary(t, "bad URL result", fmt.Sprintf("%+v", result.Detail), result.Hint)
}
