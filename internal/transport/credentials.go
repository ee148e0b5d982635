package transport

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cfst/cfst/internal/secret"
)

// The headers Cloudflare Access reads a service token from.
const (
	HeaderClientID     = "CF-Access-Client-Id"
	HeaderClientSecret = "CF-Access-Client-Secret"
)

// clientHeaderPrefix is the canonical prefix of both credential headers.
const clientHeaderPrefix = "Cf-Access-Client-"

// Credentials is a service token as a client presents it. The zero value sends nothing.
type Credentials struct {
	ClientID string
	Secret   secret.Secret
	// Header, when set, names one header that carries both values as JSON, for
	// applications with read_service_tokens_from_header:
	// {"cf-access-client-id":"…","cf-access-client-secret":"…"}.
	// When empty, the two CF-Access-Client-* headers are sent.
	Header string
}

// IsZero reports whether there is nothing to send.
func (c Credentials) IsZero() bool { return c.ClientID == "" && c.Secret.IsZero() }

// CredentialTransport attaches Credentials to requests for the hosts in Hosts over https
// (or plain http with AllowHTTP; callers should warn then), and to no other request. It
// first removes any CF-Access-Client-* header the caller set, so a request never carries
// two tokens and a token never goes where it was not configured to go. Redirects are a
// separate request each, so the host check applies to every hop of a client that follows
// them (cfst's clients do not).
type CredentialTransport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base        http.RoundTripper
	Credentials Credentials
	// Hosts are the hostnames (no port; any case) the credentials are for. A request to
	// any port of such a host carries them.
	Hosts     []string
	AllowHTTP bool
}

// RoundTrip sends a copy of req with caller-supplied credential headers removed and the
// configured credentials added when the request's host and scheme allow it.
func (t *CredentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	stripClientCredentials(out.Header)
	if t.admits(out) {
		t.Credentials.attach(out.Header)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base transport.
func (t *CredentialTransport) CloseIdleConnections() {
	if c, ok := t.Base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *CredentialTransport) admits(req *http.Request) bool {
	if t.Credentials.IsZero() {
		return false
	}
	if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && t.AllowHTTP) {
		return false
	}
	host := req.URL.Hostname()
	for _, allowed := range t.Hosts {
		if sameHost(allowed, host) {
			return true
		}
	}
	return false
}

func (c Credentials) attach(header http.Header) {
	if c.Header == "" {
		header.Set(HeaderClientID, c.ClientID)
		header.Set(HeaderClientSecret, c.Secret.Reveal())
		return
	}
	deleteHeader(header, c.Header)
	header.Set(c.Header, c.jsonValue())
}

// jsonValue is the single-header form of the credentials.
func (c Credentials) jsonValue() string {
	value, err := json.Marshal(struct {
		ClientID string `json:"cf-access-client-id"`
		Secret   string `json:"cf-access-client-secret"`
	}{c.ClientID, c.Secret.Reveal()})
	if err != nil {
		panic("transport: marshal two strings: " + err.Error()) // cannot happen
	}
	return string(value)
}

// stripClientCredentials deletes every CF-Access-Client-* header, whatever its case.
func stripClientCredentials(header http.Header) {
	for name := range header {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), clientHeaderPrefix) {
			delete(header, name)
		}
	}
}

// deleteHeader deletes name, including keys stored without canonical case.
func deleteHeader(header http.Header, name string) {
	canonical := http.CanonicalHeaderKey(name)
	for key := range header {
		if http.CanonicalHeaderKey(key) == canonical {
			delete(header, key)
		}
	}
}
