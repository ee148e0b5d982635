package emulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
)

func TestOrganizationReportsStrictMode(t *testing.T) {
	for _, strict := range []bool{false, true} {
		world := parseWorld(t, "account_id: 0123456789abcdef0123456789abcdef\nteam: acme\n"+
			"api_tokens: [{value: org-test-token, permissions: [policies:read]}]\n")
		world.Strict = strict
		srv := startWorld(t, world)
		client := sdk(t, srv, "org-test-token", 0)
		var org struct {
			Result struct {
				Name       string `json:"name"`
				AuthDomain string `json:"auth_domain"`
				Strict     bool   `json:"strict_service_token_auth"`
			} `json:"result"`
		}
		path := "accounts/" + srv.AccountID() + "/access/organizations"
		var resp *http.Response
		err := client.Get(context.Background(), path, nil, &org, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("get organization: %v", err)
		}
		if org.Result.Strict != strict || org.Result.Name != "acme" ||
			org.Result.AuthDomain != "acme.cloudflareaccess.com" {
			t.Errorf("strict %v: organization = %+v", strict, org.Result)
		}
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || date.Sub(srv.Clock().Now()).Abs() > 2*time.Second {
			t.Errorf("Date = %q, want the emulator's clock %s", resp.Header.Get("Date"),
				srv.Clock().Now())
		}
	}
}

func TestOrganizationNeedsPermission(t *testing.T) {
	world := parseWorld(t, "api_tokens: [{value: reader-token, "+
		"permissions: [service_tokens:read]}]\n")
	srv := startWorld(t, world)
	client := sdk(t, srv, "reader-token", 0)
	err := client.Get(context.Background(),
		"accounts/"+srv.AccountID()+"/access/organizations", nil, nil)
	wantStatus(t, err, http.StatusForbidden, 10000)
}

func TestDateFollowsTheEmulatorClock(t *testing.T) {
	srv := startWorld(t, parseWorld(t, "api_tokens: [{value: t1, permissions: [all]}]\n"))
	if err := srv.AdvanceClock(48 * time.Hour); err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	err := sdk(t, srv, "t1", 0).Get(context.Background(), "user/tokens/verify", nil, nil,
		option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || date.Sub(srv.Clock().Now()).Abs() > 2*time.Second {
		t.Errorf("Date = %q, want about %s", resp.Header.Get("Date"), srv.Clock().Now())
	}
}
