package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Class sorts a probe's answer. The values are what every cfst output prints.
type Class string

// The classes, from best to worst news for the token.
const (
	// ClassOK: the expected answer (any 2xx unless the target expects another status),
	// through Cloudflare. When the answer sets no CF_Authorization cookie the Hint says
	// that no sign of Access was seen (see classifyExpected).
	ClassOK Class = "ok"
	// ClassBackendDown: Access passed the request but the origin failed (502, 503, 504,
	// 520-527 with a cf-ray header and no login redirect).
	ClassBackendDown Class = "backend_down"
	// ClassTunnelDown: no tunnel connector for the hostname (530, or error 1033).
	ClassTunnelDown Class = "tunnel_down"
	// ClassLoginRedirect: a redirect to /cdn-cgi/access/login: Access wants an identity.
	ClassLoginRedirect Class = "login_redirect"
	// ClassUnauthenticated: 401 not preceded by an admission: in strict mode the token
	// cannot authenticate; without it, an application with service_auth_401_redirect
	// refuses a token that no Service Auth policy admits, valid or not.
	ClassUnauthenticated Class = "unauthenticated"
	// ClassForbidden: 403 from Access (CF-Access-Aud header or the Access page).
	ClassForbidden Class = "forbidden"
	// ClassBlockedByWAF: 403 from a Cloudflare security rule (error 1010 and the like)
	// before Access ran.
	ClassBlockedByWAF Class = "blocked_by_waf"
	// ClassUnexpectedStatus: any other status, including redirects that are not to the
	// login page and a 401 or 403 the origin sent after Access admitted the token; the
	// Detail says which.
	ClassUnexpectedStatus Class = "unexpected_status"
	// ClassNotProtected: no sign of Cloudflare Access (no cf-ray header), or, with
	// CompareAnonymous, the request without credentials succeeded too.
	ClassNotProtected Class = "not_protected"
	// ClassNetworkError: no HTTP answer: DNS, connection, TLS or timeout; the Detail
	// starts with "dns:", "connect:", "tls:", "timeout:" or "network:".
	ClassNetworkError Class = "network_error"
)

// Classes lists every class in the order above, for reports and tests.
var Classes = []Class{
	ClassOK, ClassBackendDown, ClassTunnelDown, ClassLoginRedirect, ClassUnauthenticated,
	ClassForbidden, ClassBlockedByWAF, ClassUnexpectedStatus, ClassNotProtected,
	ClassNetworkError,
}

// Result is what probing one target found. No field ever holds a credential: Location
// and Detail are built from the answer with query values dropped, and the Prober scrubs
// every text field against the secret it sent.
type Result struct {
	// Index is the target's position in the slice given to Run.
	Index  int
	Target Target
	Class  Class
	// Status is the HTTP status, 0 for a network error.
	Status int
	// Latency is the time to the response headers (or to the failure).
	Latency time.Duration
	// Ray is the cf-ray header, to look the request up in Cloudflare's logs.
	Ray string
	// Hint is one line naming the likely cause and the fix. It is empty for ok, unless
	// the answer showed no sign of Access (no CF_Authorization cookie), which the Hint
	// then says. Callers may append to it (see Prober.Annotate).
	Hint string
	// Detail is one line saying what was seen, such as "HTTP 302 to the Access login".
	Detail string
	// Location is the redirect target of a 3xx: scheme, host and path, with every query
	// value dropped except kid (the application's AUD), since values such as meta or
	// redirect_url can carry tokens. Userinfo and fragment are dropped too.
	Location string
	// Anonymous is the answer to the same request without credentials, when the Prober
	// has CompareAnonymous. Its Hint is empty.
	Anonymous *Result
}

// Hints, one per cause. Callers match on Class, not on these texts.
const (
	hintLoginRedirect = "Access wants an identity login: the application has no Service Auth " +
		"policy that admits this token (check the policy action is Service Auth and includes " +
		"the token, or run `cfst apps`)"
	hintUnauthenticated = "in strict mode the token cannot authenticate: it is expired, " +
		"disabled, or the secret is wrong (run `cfst show`, `cfst rotate`); without strict " +
		"mode an application with service_auth_401_redirect answers 401 instead of a login " +
		"redirect to any token no Service Auth policy admits, valid or not (run `cfst apps`)"
	hintOriginRefused = "Access admitted the token (it set CF_Authorization); the origin " +
		"itself refused the request: give it the credentials it wants, or set expect to " +
		"this status"
	hintNoSignOfAccess = "no sign of Access in the answer (no CF_Authorization cookie): " +
		"normal in strict mode, which sets none; otherwise no Access application covers " +
		"this URL or a Bypass policy lets everyone in (check with --compare-anonymous or " +
		"`cfst apps`)"
	hintForbidden = "the token authenticated but no policy admits it: add it to a Service " +
		"Auth policy of the application (without strict mode a 403 can also mean the " +
		"credentials are invalid and no login could pass: run `cfst show`)"
	hintBackendDown = "Access admitted the token; the origin behind the tunnel is not " +
		"answering (check the service and cloudflared's ingress)"
	hintTunnelDown = "no cloudflared connector is up for this hostname (error 1033): " +
		"start the tunnel"
	hintBlockedByWAF = "a Cloudflare WAF or bot rule refused the request before Access " +
		"(1010 is the browser-signature check): allow this client in the zone's security rules"
	hintUnexpected = "the origin answered, but not as this target expects: check the URL, " +
		"the method and the expected status"
	hintRedirectAway = "the target redirects to another host: probe the final URL instead " +
		"(cfst follows no redirect, so the token stayed on this host)"
	hintRedirectHTTP = "the target downgrades to plain http: fix the redirect at the origin " +
		"or in the zone's rules (cfst did not follow it; the token was not sent)"
	hintRedirectSame = "the target redirects: probe the final URL, or set expect to this " +
		"status (cfst follows no redirect)"
	hintNoCloudflare = "the answer did not come through Cloudflare (no cf-ray header): " +
		"check the hostname's DNS and any --connect-to rule"
	hintTokenNotNeeded = "the request without the token succeeded too: no Access " +
		"application covers this URL, or a Bypass policy lets everyone in (run `cfst apps`)"
)

// BodyLimit is how much of a response body classification reads.
const BodyLimit = 64 << 10

// loginPath is where Access sends a request that needs an identity login.
const loginPath = "/cdn-cgi/access/login"

// accessCookie is the cookie Access sets when it admits a request, outside strict mode.
const accessCookie = "CF_Authorization"

// edgeErrorCode finds a Cloudflare 1xxx error code in a body: "error code: 1010" in
// plain text, "Error 1033" in the HTML pages.
var edgeErrorCode = regexp.MustCompile(`(?i)\berror(?:\s+code)?:?\s+(1\d{3})\b`)

// accessPage recognises the Access Forbidden page in a body.
var accessPage = regexp.MustCompile(`(?i)cloudflare access|cloudflareaccess\.com|/cdn-cgi/access/`)

// verdict is a class with its detail and hint.
type verdict struct {
	class  Class
	detail string
	hint   string
}

// Classify sorts an HTTP answer to a request for target; body is the start of the
// response body (BodyLimit bytes are enough). It fills Class, Status, Ray, Location,
// Detail and Hint; Latency, Index and Anonymous are the caller's. The request URL is
// taken from resp.Request when set, else from target.
func Classify(target Target, resp *http.Response, body []byte) Result {
	requestURL := requestURLOf(target, resp)
	location := redirectLocation(requestURL, resp)
	v := classify(target, requestURL, location, resp, body)
	result := Result{
		Target: target, Class: v.class, Status: resp.StatusCode, Detail: v.detail,
		Hint: v.hint, Ray: resp.Header.Get("Cf-Ray"),
	}
	if location != nil {
		result.Location = safeLocation(location)
	}
	return result
}

// classify applies the rules in order. The CF_Authorization cookie is the one sign in
// an answer that Access admitted the request (fact sheet §3.2); Access sets it on
// success only, and never in strict mode (§3.3). So:
//
//   - an expected answer is ok either way, since strict mode sets no cookie; without the
//     cookie it carries hintNoSignOfAccess, as cf-ray shows Cloudflare, not Access, and
//     a proxied hostname that no application covers (or an uncovered path of one that
//     is) answers just as a strict-mode admission does. Only CompareAnonymous proves it;
//   - a 401 or 403 that sets the cookie, without CF-Access-Aud or an edge error code,
//     is the origin's own refusal after Access admitted the token: unexpected_status;
//   - any other 401 is unauthenticated, and its hint names both causes, since the answer
//     looks the same in both: strict mode refusing credentials that cannot authenticate,
//     and, outside strict mode, an application with service_auth_401_redirect refusing a
//     token (valid or not) that no Service Auth policy admits.
func classify(target Target, requestURL, location *url.URL, resp *http.Response,
	body []byte) verdict {
	status := resp.StatusCode
	code := 0
	if status >= 400 {
		code = edgeCode(body) // a page that merely mentions an error code is not one
	}
	toLogin := isRedirect(status) && location != nil &&
		strings.HasPrefix(location.Path, loginPath)
	admitted := setsAccessCookie(resp)
	switch {
	case !throughCloudflare(resp, toLogin, code):
		return verdict{ClassNotProtected,
			fmt.Sprintf("HTTP %d without a cf-ray header", status), hintNoCloudflare}
	case target.ExpectStatus != 0 && status == target.ExpectStatus,
		target.ExpectStatus == 0 && status >= 200 && status < 300:
		return classifyExpected(status, admitted)
	case (status == http.StatusUnauthorized || status == http.StatusForbidden) &&
		admitted && resp.Header.Get("Cf-Access-Aud") == "" && code == 0:
		return verdict{ClassUnexpectedStatus, fmt.Sprintf("HTTP %d from the origin, after "+
			"Access admitted the token", status), hintOriginRefused}
	case status == 530 || code == 1033:
		return verdict{ClassTunnelDown, statusDetail(status, code), hintTunnelDown}
	case toLogin:
		return verdict{ClassLoginRedirect,
			fmt.Sprintf("HTTP %d to the Access login page", status), hintLoginRedirect}
	case isRedirect(status):
		return classifyRedirect(status, requestURL, location)
	case status == http.StatusUnauthorized:
		return verdict{ClassUnauthenticated, accessDetail(status, resp), hintUnauthenticated}
	case status == http.StatusForbidden && isAccessForbidden(resp, body):
		return verdict{ClassForbidden, accessDetail(status, resp), hintForbidden}
	case status == http.StatusForbidden && code != 0:
		return verdict{ClassBlockedByWAF, statusDetail(status, code), hintBlockedByWAF}
	case isOriginFailure(status):
		return verdict{ClassBackendDown, statusDetail(status, code), hintBackendDown}
	}
	detail := statusDetail(status, code)
	if target.ExpectStatus != 0 {
		detail += fmt.Sprintf(", expected %d", target.ExpectStatus)
	}
	return verdict{ClassUnexpectedStatus, detail, hintUnexpected}
}

// throughCloudflare reports whether anything in the answer shows Cloudflare produced or
// relayed it.
func throughCloudflare(resp *http.Response, toLogin bool, code int) bool {
	return resp.Header.Get("Cf-Ray") != "" || resp.Header.Get("Cf-Access-Aud") != "" ||
		strings.EqualFold(resp.Header.Get("Server"), "cloudflare") || toLogin || code != 0
}

// classifyExpected is the verdict on an answer the target expects: ok, with a hint when
// nothing shows that Access admitted the request.
func classifyExpected(status int, admitted bool) verdict {
	if admitted {
		return verdict{ClassOK, fmt.Sprintf("HTTP %d, Access set %s", status, accessCookie),
			""}
	}
	return verdict{ClassOK, fmt.Sprintf("HTTP %d", status), hintNoSignOfAccess}
}

// setsAccessCookie reports whether the answer sets a CF_Authorization cookie, which
// Access does when it admits a request outside strict mode. A cookie being deleted
// (empty, or Max-Age 0) does not count.
func setsAccessCookie(resp *http.Response) bool {
	for _, cookie := range resp.Cookies() {
		if cookie.Name == accessCookie && cookie.Value != "" && cookie.MaxAge >= 0 {
			return true
		}
	}
	return false
}

func isAccessForbidden(resp *http.Response, body []byte) bool {
	return resp.Header.Get("Cf-Access-Aud") != "" || accessPage.Match(body)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func isOriginFailure(status int) bool {
	switch {
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable,
		status == http.StatusGatewayTimeout:
		return true
	}
	return status >= 520 && status <= 527
}

func edgeCode(body []byte) int {
	m := edgeErrorCode.FindSubmatch(body)
	if m == nil {
		return 0
	}
	code, _ := strconv.Atoi(string(m[1]))
	return code
}

func statusDetail(status, code int) string {
	if code != 0 {
		return fmt.Sprintf("HTTP %d, Cloudflare error %d", status, code)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// accessDetail says whether a 401 or 403 carries the application's AUD, which shows
// Access sent it.
func accessDetail(status int, resp *http.Response) string {
	if aud := resp.Header.Get("Cf-Access-Aud"); aud != "" {
		return fmt.Sprintf("HTTP %d from Access (application AUD %s)", status, aud)
	}
	if status == http.StatusUnauthorized {
		return "HTTP 401 without a CF-Access-Aud header: it may come from the origin"
	}
	return fmt.Sprintf("HTTP %d, the Access Forbidden page", status)
}

func classifyRedirect(status int, from, to *url.URL) verdict {
	switch {
	case to == nil:
		return verdict{ClassUnexpectedStatus,
			fmt.Sprintf("HTTP %d without a usable Location header", status), hintUnexpected}
	case from.Scheme == "https" && to.Scheme == "http":
		return verdict{ClassUnexpectedStatus, fmt.Sprintf("HTTP %d: redirect from https to "+
			"http, not followed; no credentials were sent there", status), hintRedirectHTTP}
	case !strings.EqualFold(from.Hostname(), to.Hostname()):
		return verdict{ClassUnexpectedStatus, fmt.Sprintf("HTTP %d: redirect to another host "+
			"%q, not followed; no credentials were sent there", status, to.Hostname()),
			hintRedirectAway}
	}
	return verdict{ClassUnexpectedStatus,
		fmt.Sprintf("HTTP %d: redirect to %s, not followed", status, to.EscapedPath()),
		hintRedirectSame}
}

func requestURLOf(target Target, resp *http.Response) *url.URL {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL
	}
	u, err := url.Parse(target.URL)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// redirectLocation resolves the Location header against the request URL; nil when
// there is none or it does not parse.
func redirectLocation(requestURL *url.URL, resp *http.Response) *url.URL {
	value := resp.Header.Get("Location")
	if value == "" {
		return nil
	}
	location, err := requestURL.Parse(value)
	if err != nil {
		return nil
	}
	return location
}

// safeLocation is location without userinfo, fragment, or query values other than kid.
func safeLocation(location *url.URL) string {
	safe := *location
	safe.User, safe.Fragment, safe.RawFragment = nil, "", ""
	query := location.Query()
	for key := range query {
		if key != "kid" {
			query[key] = []string{""}
		}
	}
	safe.RawQuery = query.Encode()
	return safe.String()
}
