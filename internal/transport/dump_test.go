package transport_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// plainSecret is not cfast_-shaped, so only the header denylist can hide it.
const plainSecret = "0123456789abcdef0123456789abcdef-plain-secret"

func exchangeWithSecrets() (*http.Request, *http.Response) {
	u, _ := url.Parse("https://user:" + plainSecret + "@app.test/health?q=1")
	req := &http.Request{Method: "GET", URL: u, Header: http.Header{
		"Cf-Access-Client-Id":     {"abc.access"},
		"Cf-Access-Client-Secret": {plainSecret},
		"Authorization":           {"Bearer " + plainSecret},
		"Proxy-Authorization":     {"Basic " + plainSecret},
		"Cookie":                  {"theme=dark; CF_Authorization=" + plainSecret},
		"Cf-Access-Jwt-Assertion": {plainSecret},
		"Cf-Access-Token":         {plainSecret},
		"X-Custom-Token": {`{"cf-access-client-id":"abc",` +
			`"cf-access-client-secret":"` + plainSecret + `"}`},
		"Accept": {"*/*"},
	}}
	resp := &http.Response{Proto: "HTTP/2.0", Status: "200 OK", StatusCode: 200}
	resp.Header = http.Header{
		"Set-Cookie": {"CF_Authorization=" + plainSecret + "; Path=/; HttpOnly; Secure"},
		"Cf-Ray":     {"8c1d2e3f4a5b6c7d-LHR"},
		"X-Echo":     {testSecret},
	}
	return req, resp
}

func TestDumpExchangeRedactsByConstruction(t *testing.T) {
	req, resp := exchangeWithSecrets()
	var out strings.Builder
	transport.DumpExchange(&out, req, resp, nil) // no scrubber: the denylist alone
	dump := out.String()

	if strings.Contains(dump, plainSecret) {
		t.Fatalf("secret in dump:\n%s", dump)
	}
	for _, want := range []string{
		"> GET https://user:xxxxx@app.test/health?q=1\n",
		"> Host: app.test\n",
		"> Cf-Access-Client-Id: abc.access\n",
		"> Cf-Access-Client-Secret: [redacted]\n",
		"> Authorization: [redacted]\n",
		"> Proxy-Authorization: [redacted]\n",
		"> Cookie: theme=[redacted]; CF_Authorization=[redacted]\n",
		"> Cf-Access-Jwt-Assertion: [redacted]\n",
		"> Cf-Access-Token: [redacted]\n",
		"> X-Custom-Token: [redacted]\n",
		"> Accept: */*\n",
		"< HTTP/2.0 200 OK\n",
		"< Cf-Ray: 8c1d2e3f4a5b6c7d-LHR\n",
		"< Set-Cookie: CF_Authorization=[redacted]; Path=/; HttpOnly; Secure\n",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
}

func TestDumpExchangeScrubsAsSecondLayer(t *testing.T) {
	req, resp := exchangeWithSecrets()
	req.URL.RawQuery = "token=" + plainSecret
	var scrub secret.Scrubber
	scrub.Add(secret.New(plainSecret))
	var out strings.Builder
	transport.DumpExchange(&out, req, resp, &scrub)
	dump := out.String()
	if strings.Contains(dump, plainSecret) || strings.Contains(dump, testSecret) {
		t.Fatalf("secret in dump:\n%s", dump)
	}
	if !strings.Contains(dump, "< X-Echo: [redacted]\n") {
		t.Errorf("echoed cfast_ secret not scrubbed:\n%s", dump)
	}
}

func TestDumpExchangeWithoutResponse(t *testing.T) {
	req, _ := http.NewRequest("HEAD", "https://app.test/", nil)
	var out strings.Builder
	transport.DumpExchange(&out, req, nil, nil)
	if got, want := out.String(), "> HEAD https://app.test/\n> Host: app.test\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
