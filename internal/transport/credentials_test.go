package transport_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

// rawSecretKey is a header key set without canonical case, as a careless caller might.
const rawSecretKey = "cf-access-client-secret"

const testSecret = "cfast_TESTsecretTESTsecretTESTsecretTESTsecret12345678"

// recorder is a RoundTripper that keeps the headers of the last request and answers 204.
type recorder struct {
	mu     sync.Mutex
	header http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.header = req.Header.Clone()
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
}

func TestCredentialTransport(t *testing.T) {
	creds := transport.Credentials{ClientID: "abc.access", Secret: secret.New(testSecret)}
	custom := creds
	custom.Header = "Authorization"
	tests := []struct {
		name      string
		url       string
		creds     transport.Credentials
		allowHTTP bool
		want      map[string]string // header → value; "" means absent
	}{
		{"allowed host", "https://app.test/x", creds, false,
			map[string]string{"Cf-Access-Client-Id": "abc.access",
				"Cf-Access-Client-Secret": testSecret}},
		{"host any case, other port", "https://APP.test:8443/", creds, false,
			map[string]string{"Cf-Access-Client-Secret": testSecret}},
		{"other host", "https://evil.test/", creds, false,
			map[string]string{"Cf-Access-Client-Id": "", "Cf-Access-Client-Secret": ""}},
		{"suffix is not the host", "https://app.test.evil.test/", creds, false,
			map[string]string{"Cf-Access-Client-Secret": ""}},
		{"plain http", "http://app.test/", creds, false,
			map[string]string{"Cf-Access-Client-Secret": ""}},
		{"plain http allowed", "http://app.test/", creds, true,
			map[string]string{"Cf-Access-Client-Secret": testSecret}},
		{"zero credentials", "https://app.test/", transport.Credentials{}, false,
			map[string]string{"Cf-Access-Client-Id": "", "Cf-Access-Client-Secret": ""}},
		{"custom header", "https://app.test/", custom, false,
			map[string]string{"Cf-Access-Client-Id": "", "Cf-Access-Client-Secret": "",
				"Authorization": `{"cf-access-client-id":"abc.access",` +
					`"cf-access-client-secret":"` + testSecret + `"}`}},
		{"custom header, other host", "https://evil.test/", custom, false,
			map[string]string{"Authorization": "Bearer caller"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			rt := &transport.CredentialTransport{Base: rec, Credentials: tt.creds,
				Hosts: []string{"app.test"}, AllowHTTP: tt.allowHTTP}
			req, _ := http.NewRequest("GET", tt.url, nil)
			// The caller's own credential headers, in odd case, must never pass.
			req.Header[rawSecretKey] = []string{"caller-secret"}
			req.Header.Set("CF-Access-Client-Id", "caller-id")
			req.Header.Set("Authorization", "Bearer caller")
			if _, err := rt.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := rec.header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name, values := range rec.header {
				if strings.Contains(strings.Join(values, " "), "caller-") {
					t.Errorf("caller credential header %s passed through", name)
				}
			}
			//lint:ignore SA1008 the key is non-canonical on purpose, as a careless caller's
			callerSecret := req.Header[rawSecretKey]
			if req.Header.Get("Authorization") != "Bearer caller" || len(callerSecret) != 1 {
				t.Error("RoundTrip modified the caller's request")
			}
		})
	}
}

func TestCredentialJSONIsValid(t *testing.T) {
	rec := &recorder{}
	creds := transport.Credentials{ClientID: `id"with\quotes`, Secret: secret.New(`s"</`),
		Header: "X-Token"}
	rt := &transport.CredentialTransport{Base: rec, Credentials: creds, Hosts: []string{"a.test"}}
	req, _ := http.NewRequest("GET", "https://a.test/", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(rec.header.Get("X-Token")), &got); err != nil {
		t.Fatal(err)
	}
	if got["cf-access-client-id"] != creds.ClientID || got["cf-access-client-secret"] != `s"</` {
		t.Errorf("decoded %q", got)
	}
}

// TestCredentialsStayOnTheirHost follows a redirect with a client that does follow them
// (cfst's own never do) and checks in the other host's log that no credential arrived.
func TestCredentialsStayOnTheirHost(t *testing.T) {
	ca := transporttest.NewCA(t)
	var mu sync.Mutex
	var otherLog []http.Header
	other := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherLog = append(otherLog, r.Header.Clone())
		mu.Unlock()
	}))
	app := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.test/landing", http.StatusTemporaryRedirect)
	}))
	rules := append(transporttest.RouteTo(app, "app.test"),
		transporttest.RouteTo(other, "other.test")...)
	base, err := transport.NewTransport(transport.Options{RootCAs: ca.Pool(), ConnectTo: rules})
	if err != nil {
		t.Fatal(err)
	}
	following := &http.Client{Transport: &transport.CredentialTransport{Base: base,
		Credentials: transport.Credentials{ClientID: "abc.access", Secret: secret.New(testSecret)},
		Hosts:       []string{"app.test"}}}
	resp, err := following.Get("https://app.test/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(otherLog) != 1 {
		t.Fatalf("other host got %d requests, want the 1 redirected one", len(otherLog))
	}
	for name := range otherLog[0] {
		if strings.HasPrefix(strings.ToLower(name), "cf-access-client") {
			t.Errorf("credential header %s reached the other host", name)
		}
	}
}
