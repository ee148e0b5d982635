package cloudflare

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
)

// TestSecretsNeverReachErrors creates and rotates tokens, so the client has seen secrets,
// then makes operations fail in every way it can and checks that no error text, hint or
// formatting holds a secret or the API token, even when the API echoes them back.
func TestSecretsNeverReachErrors(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	var tamper func(body []byte) (int, string)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = tamperingClient(srv.Client(), &tamper)
		cfg.MaxRetries = -1
	})
	ctx := t.Context()
	created, err := c.CreateToken(ctx, "canary", "")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := c.RotateToken(ctx, created.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{srv.APIToken(), created.ClientSecret.Reveal(),
		rotated.ClientSecret.Reveal()}
	for _, value := range []any{created, rotated, &created, rotated.Token} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			checkNoSecret(t, fmt.Sprintf(verb, value), secrets)
		}
		js, _ := json.Marshal(value)
		checkNoSecret(t, string(js), secrets)
	}

	echo := strings.Join(secrets, " ")
	var leaked []string // secrets of rotations whose answers were tampered with
	cases := []struct {
		name   string
		tamper func(body []byte) (int, string)
		want   Kind
	}{
		{"API error echoing secrets", func(body []byte) (int, string) {
			leaked = append(leaked, secretPattern.FindString(string(body)))
			return 400, apiErrorBody(12130, "access.api.error.invalid_request: "+echo+" "+
				secretPattern.FindString(string(body)))
		}, KindInvalid},
		{"server error echoing secrets", func(body []byte) (int, string) {
			return 500, apiErrorBody(10001, "boom "+string(body))
		}, KindServer},
		{"rotate answer cut short", func(body []byte) (int, string) {
			leaked = append(leaked, secretPattern.FindString(string(body)))
			return 200, string(body[:len(body)/2])
		}, KindServer},
		{"rotate answer without a secret", func(body []byte) (int, string) {
			return 200, secretPattern.ReplaceAllString(string(body), "")
		}, KindServer},
		{"permission error", func(body []byte) (int, string) {
			return 403, apiErrorBody(10000, "Authentication error "+echo)
		}, KindPermission},
	}
	for _, tc := range cases {
		tamper = tc.tamper
		_, err := c.RotateToken(ctx, created.ID, time.Time{})
		tamper = nil
		e := requireKind(t, err, tc.want)
		all := append(append([]string{}, secrets...), leaked...)
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			checkNoSecret(t, fmt.Sprintf(verb, err), all)
		}
		checkNoSecret(t, e.Hint, all)
	}

	injectFault(t, srv, emulator.Fault{Status: 503})
	_, err = c.GetToken(ctx, created.ID)
	requireKind(t, err, KindServer, secrets...)
}

var secretPattern = regexp.MustCompile(`cfast_[A-Za-z0-9]+`)

func checkNoSecret(t *testing.T, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("secret leaked into %q", text)
		}
	}
	if secretPattern.MatchString(text) {
		t.Errorf("something shaped like a client secret leaked into %q", text)
	}
}

func apiErrorBody(code int, message string) string {
	body, _ := json.Marshal(map[string]any{"success": false, "result": nil,
		"messages": []any{}, "errors": []any{map[string]any{"code": code, "message": message}}})
	return string(body)
}

// tamperingClient wraps client so that *tamper, when set, replaces every answer: it gets
// the real answer's body and returns the status and body to use instead.
func tamperingClient(client *http.Client,
	tamper *func([]byte) (int, string)) *http.Client {
	wrapped := *client
	base := client.Transport
	wrapped.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		res, err := base.RoundTrip(req)
		if err != nil || *tamper == nil {
			return res, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		status, replaced := (*tamper)(body)
		res.StatusCode = status
		res.Body = io.NopCloser(strings.NewReader(replaced))
		res.ContentLength = int64(len(replaced))
		res.Header.Del("Content-Length")
		return res, nil
	})
	return &wrapped
}
