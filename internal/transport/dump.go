package transport

import (
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cfst/cfst/internal/secret"
)

// redactedHeaders are the canonical names of headers whose whole value is a credential.
// Cookie and Set-Cookie are handled apart so cookie names stay visible.
var redactedHeaders = map[string]bool{
	"Cf-Access-Client-Secret": true,
	"Authorization":           true,
	"Proxy-Authorization":     true,
	"Cf-Access-Jwt-Assertion": true,
	"Cf-Access-Token":         true,
}

// jsonSecretKey marks the single-header credential form, whatever the header is called.
const jsonSecretKey = "cf-access-client-secret"

// DumpExchange writes the method, URL and headers of req and, when resp is not nil, the
// status and headers of resp, for --verbose. Bodies are not written. Credential values
// are replaced by [redacted] before anything is formatted: CF-Access-Client-Secret,
// Authorization, Proxy-Authorization, Cf-Access-Jwt-Assertion, Cf-Access-Token, every
// cookie value in Cookie and Set-Cookie (CF_Authorization included), and any header
// holding the JSON credential form (the custom credentials header). scrub, which may be
// nil, then removes known secrets and cfast_ values from the whole text as a second layer.
// The dump goes to w in one Write, so callers that share w need only serialise calls.
func DumpExchange(w io.Writer, req *http.Request, resp *http.Response, scrub *secret.Scrubber) {
	var text strings.Builder
	if req != nil {
		text.WriteString("> " + req.Method + " " + req.URL.Redacted() + "\n")
		host := req.Host
		if host == "" {
			host = req.URL.Host
		}
		text.WriteString("> Host: " + host + "\n")
		writeHeaders(&text, "> ", req.Header)
	}
	if resp != nil {
		text.WriteString("< " + resp.Proto + " " + resp.Status + "\n")
		writeHeaders(&text, "< ", resp.Header)
	}
	_, _ = io.WriteString(w, scrub.Scrub(text.String()))
}

func writeHeaders(text *strings.Builder, prefix string, header http.Header) {
	names := make([]string, 0, len(header))
	for name := range header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, value := range header[name] {
			text.WriteString(prefix + name + ": " + redactHeader(name, value) + "\n")
		}
	}
}

// redactHeader returns value with every credential in it replaced by secret.Redacted.
func redactHeader(name, value string) string {
	canonical := http.CanonicalHeaderKey(name)
	switch {
	case redactedHeaders[canonical]:
		return secret.Redacted
	case strings.Contains(strings.ToLower(value), jsonSecretKey):
		return secret.Redacted
	case canonical == "Cookie":
		return redactCookies(value)
	case canonical == "Set-Cookie":
		cookie, attributes, found := strings.Cut(value, ";")
		if found {
			return redactCookies(cookie) + ";" + attributes
		}
		return redactCookies(cookie)
	}
	return value
}

// redactCookies turns "a=1; b=2" into "a=[redacted]; b=[redacted]".
func redactCookies(list string) string {
	pairs := strings.Split(list, ";")
	for i, pair := range pairs {
		name, _, _ := strings.Cut(pair, "=")
		pairs[i] = name + "=" + secret.Redacted
	}
	return strings.Join(pairs, ";")
}
