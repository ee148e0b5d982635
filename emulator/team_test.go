package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTeamDomain(t *testing.T) {
	srv := startEmulator(t, &World{Team: "acme"})
	team := "https://acme.cloudflareaccess.com"
	token, err := srv.edge.signer.appToken(srv.issuer(), "aud-9", "c9.access",
		srv.Clock().Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	withCookie := http.Header{"Cookie": {cookieName + "=" + token}}
	withHeader := http.Header{"Cf-Access-Token": {token}}
	badCookie := http.Header{"Cookie": {cookieName + "=" + token + "x"}}

	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
		want   string
	}{
		{"certs", certsPath, nil, 200, `"public_certs"`},
		{"login page", loginPath + "app.example.com?kid=aud-9&redirect_url=%2Fx", nil, 200,
			"Sign in to app.example.com"},
		{"identity from cookie", identityPath, withCookie, 200, `"service_token_id":"c9.access"`},
		{"identity from header", identityPath, withHeader, 200, `"service_token_status":true`},
		{"identity, forged cookie", identityPath, badCookie, 401, `"err"`},
		{"identity, no cookie", identityPath, nil, 401, `"err"`},
		{"unknown path", "/nothing", nil, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, srv, team+tt.path, tt.header)
			if resp.status != tt.status || !strings.Contains(resp.body, tt.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.status, resp.body,
					tt.status, tt.want)
			}
			if !hasRay(resp.header) {
				t.Fatalf("no cf-ray on a team-domain answer: %q", resp.header.Get("Cf-Ray"))
			}
		})
	}
}

func TestLoginPageNamesTheApplication(t *testing.T) {
	srv := startEmulator(t, &World{Team: "acme"})
	resp := get(t, srv, "https://acme.cloudflareaccess.com"+loginPath+
		"app.example.com?kid=aud-9&redirect_url=%2Fa%3Fb%3D%3Cc%3E", nil)
	if got := resp.header.Get("Cf-Access-Domain"); got != "app.example.com" {
		t.Errorf("CF-Access-Domain = %q, want app.example.com", got)
	}
	for _, want := range []string{"aud-9", "/a?b=&lt;c&gt;"} {
		if !strings.Contains(resp.body, want) {
			t.Errorf("login page lacks %q:\n%s", want, resp.body)
		}
	}
}

func TestGetIdentityBody(t *testing.T) {
	srv := startEmulator(t, &World{Team: "acme"})
	token, _ := srv.edge.signer.appToken(srv.issuer(), "aud-9", "c9.access",
		srv.Clock().Now(), time.Hour)
	resp := get(t, srv, "https://acme.cloudflareaccess.com"+identityPath,
		http.Header{"Cookie": {cookieName + "=" + token}})
	var got identity
	if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("decode identity: %v", err)
	}
	if got.ServiceTokenID != "c9.access" || !got.ServiceTokenStatus || got.Type != "app" ||
		len(got.AUD) != 1 || got.AUD[0] != "aud-9" || got.ExpiresAt-got.IssuedAt != 3600 {
		t.Fatalf("identity = %+v", got)
	}
}
