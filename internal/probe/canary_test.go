package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/probe"
)

// echoSecret answers with the secret the request carried everywhere a hostile or broken
// server could put it: a header, the cf-ray, the redirect path and query, and the body.
func echoSecret(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sent := r.Header.Get("Cf-Access-Client-Secret")
		w.Header().Set("X-Echo", sent)
		w.Header().Set("Cf-Ray", sent)
		w.Header().Set("Set-Cookie", "CF_Authorization="+sent+"; Path=/")
		w.Header().Set("Location", "/cdn-cgi/access/login/"+sent+"?token="+sent)
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "error code: 1010 %s", sent)
	}
}

// TestCanaryNeverLeaks probes servers that echo the secret back and checks that it
// appears in no result field, hint, detail, verbose dump or error.
func TestCanaryNeverLeaks(t *testing.T) {
	e := newEdge(t, map[string]http.HandlerFunc{
		"login.test":     echoSecret(302),
		"waf.test":       echoSecret(403),
		"backend.test":   echoSecret(502),
		"other.test":     echoSecret(418),
		"redirect.test":  echoSecret(301),
		"ok.test":        echoSecret(200),
		"custom.test":    echoSecret(200),
		"untouched.test": viaCloudflare(200, ""),
	})
	var dump strings.Builder
	prober := e.prober(t)
	prober.Dump = &dump
	prober.CompareAnonymous = true
	var targets []probe.Target
	for _, host := range []string{"login.test", "waf.test", "backend.test", "other.test",
		"redirect.test", "ok.test", "untouched.test"} {
		targets = append(targets, targetFor(t, host))
	}

	results := prober.RunAll(context.Background(), targets, testCredentials())
	creds := testCredentials()
	creds.Header = "X-Custom-Credentials"
	results = append(results, prober.RunAll(context.Background(),
		[]probe.Target{targetFor(t, "custom.test")}, creds)...)

	for _, r := range results {
		assertNoCanary(t, "result "+r.Target.Name, fmt.Sprintf("%+v", r),
			fmt.Sprintf("%#v", r), fmt.Sprintf("%+v", r.Anonymous))
	}
	if results[0].Class != probe.ClassLoginRedirect ||
		!strings.Contains(results[0].Location, "/login/[redacted]?token=") {
		t.Errorf("login echo: %s %q", results[0].Class, results[0].Location)
	}
	assertNoCanary(t, "verbose dump", dump.String())
	for _, want := range []string{"> Cf-Access-Client-Secret: [redacted]\n",
		"> X-Custom-Credentials: [redacted]\n", "< X-Echo: [redacted]\n"} {
		if !strings.Contains(dump.String(), want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if n := len(e.log.all()); n != 2*7+2 {
		t.Errorf("%d requests reached the edge, want %d", n, 2*7+2)
	}
}

func TestCanaryNotInParseErrors(t *testing.T) {
	inputs := []string{
		"https://ci:" + canary + "@app.test/",
		"ftp://" + canary + ":x@app.test/",
	}
	for _, input := range inputs {
		_, err := probe.ParseTarget(input)
		if err == nil {
			t.Fatalf("ParseTarget accepted %q", input)
		}
		assertNoCanary(t, "ParseTarget error", err.Error())
		_, err = probe.ParseServices("services.txt", []byte(input+"\n"))
		if err == nil {
			t.Fatalf("ParseServices accepted %q", input)
		}
		assertNoCanary(t, "ParseServices error", err.Error())
	}
}
