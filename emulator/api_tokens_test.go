package emulator_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/user"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"
	"github.com/tidwall/gjson"

	"github.com/cfst/cfst/emulator"
)

const (
	testAccount = "11111111111111111111111111111111"
	testZone    = "22222222222222222222222222222222"
	adminToken  = "admin-token"
	readerToken = "reader-token"
	logsToken   = "logs-token"
)

// testWorld has an admin, a read-only and a logs-only API token, and no Access objects.
const testWorld = `
account_id: 11111111111111111111111111111111
zone_id: 22222222222222222222222222222222
token_limit: 100
api_tokens:
  - {name: admin, value: admin-token, permissions: [all]}
  - {name: reader, value: reader-token,
     permissions: [service_tokens:read, apps:read, policies:read]}
  - {name: logs, value: logs-token, permissions: [logs:read]}
`

var (
	clientIDPattern = regexp.MustCompile(`^[0-9a-f]{32}\.access$`)
	secretPattern   = regexp.MustCompile(`^cfast_[0-9A-Za-z]{40}[0-9a-f]{8}$`)
)

func TestServiceTokenLifecycleAccount(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	tokens := cf.ZeroTrust.Access.ServiceTokens
	ctx := context.Background()

	made, err := tokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("ci"),
		Duration: cloudflare.F("720h")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	raw := made.JSON.RawJSON()
	if !clientIDPattern.MatchString(made.ClientID) ||
		!secretPattern.MatchString(made.ClientSecret) {
		t.Errorf("client id %q or secret shape is wrong: %s", made.ClientID, raw)
	}
	expires, createdAt := gjson.Get(raw, "expires_at").Time(), gjson.Get(raw, "created_at").Time()
	if got := expires.Sub(createdAt); got != 720*time.Hour {
		t.Errorf("expires_at - created_at = %s, want 720h", got)
	}
	for _, field := range []string{"enabled", "client_secret_version", "updated_at"} {
		if !gjson.Get(raw, field).Exists() {
			t.Errorf("create answer lacks %s: %s", field, raw)
		}
	}

	got, err := tokens.Get(ctx, made.ID, zero_trust.AccessServiceTokenGetParams{
		AccountID: cloudflare.F(testAccount)})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ClientID != made.ClientID || strings.Contains(got.JSON.RawJSON(), "client_secret\"") {
		t.Errorf("get = %s, want the same client id and no secret", got.JSON.RawJSON())
	}

	updated, err := tokens.Update(ctx, made.ID, zero_trust.AccessServiceTokenUpdateParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("ci-renamed"),
		Duration: cloudflare.F("48h")})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Name != "ci-renamed" || updated.Duration != "48h" ||
		strings.Contains(updated.JSON.RawJSON(), "client_secret\"") {
		t.Errorf("update = %s", updated.JSON.RawJSON())
	}

	if err := srv.AdvanceClock(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	refreshed, err := tokens.Refresh(ctx, made.ID, zero_trust.AccessServiceTokenRefreshParams{
		AccountID: cloudflare.F(testAccount)})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if moved := refreshed.ExpiresAt.Sub(updated.ExpiresAt); moved < 24*time.Hour {
		t.Errorf("refresh moved expires_at by %s, want at least 24h", moved)
	}

	rotated, err := tokens.Rotate(ctx, made.ID, zero_trust.AccessServiceTokenRotateParams{
		AccountID:                     cloudflare.F(testAccount),
		PreviousClientSecretExpiresAt: cloudflare.F(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if rotated.ClientSecret == made.ClientSecret || rotated.ClientID != made.ClientID ||
		!secretPattern.MatchString(rotated.ClientSecret) {
		t.Errorf("rotate kept the secret or changed the client id: %s", rotated.JSON.RawJSON())
	}
	if v := gjson.Get(rotated.JSON.RawJSON(), "client_secret_version").Int(); v != 2 {
		t.Errorf("client_secret_version after rotate = %d, want 2", v)
	}

	deleted, err := tokens.Delete(ctx, made.ID, zero_trust.AccessServiceTokenDeleteParams{
		AccountID: cloudflare.F(testAccount)})
	if err != nil || deleted.ID != made.ID {
		t.Fatalf("delete = %v, %v; want the deleted token", deleted, err)
	}
	_, err = tokens.Get(ctx, made.ID, zero_trust.AccessServiceTokenGetParams{
		AccountID: cloudflare.F(testAccount)})
	wantStatus(t, err, 404, 12135)
}

func TestServiceTokenZoneScope(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	tokens := cf.ZeroTrust.Access.ServiceTokens
	ctx := context.Background()

	made, err := tokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		ZoneID: cloudflare.F(testZone), Name: cloudflare.F("zone-token"),
		Duration: cloudflare.F("forever")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if gjson.Get(made.JSON.RawJSON(), "expires_at").Exists() {
		t.Errorf("a forever token has expires_at: %s", made.JSON.RawJSON())
	}
	inZone := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		ZoneID: cloudflare.F(testZone)})
	inAccount := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount)})
	if len(inZone) != 1 || len(inAccount) != 0 {
		t.Errorf("zone lists %d, account %d; want 1 and 0", len(inZone), len(inAccount))
	}
	_, err = tokens.Get(ctx, made.ID, zero_trust.AccessServiceTokenGetParams{
		AccountID: cloudflare.F(testAccount)})
	wantStatus(t, err, 404, 12135)
	if _, err := tokens.Update(ctx, made.ID, zero_trust.AccessServiceTokenUpdateParams{
		ZoneID: cloudflare.F(testZone), Name: cloudflare.F("renamed")}); err != nil {
		t.Errorf("update at zone scope: %v", err)
	}
	if _, err := tokens.Delete(ctx, made.ID, zero_trust.AccessServiceTokenDeleteParams{
		ZoneID: cloudflare.F(testZone)}); err != nil {
		t.Errorf("delete at zone scope: %v", err)
	}
}

func listAll(t *testing.T, tokens *zero_trust.AccessServiceTokenService,
	params zero_trust.AccessServiceTokenListParams) []zero_trust.ServiceToken {
	t.Helper()
	var out []zero_trust.ServiceToken
	pager := tokens.ListAutoPaging(context.Background(), params)
	for pager.Next() {
		out = append(out, pager.Current())
	}
	if err := pager.Err(); err != nil {
		t.Fatalf("list: %v", err)
	}
	return out
}

func TestServiceTokenPaging(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	tokens := cf.ZeroTrust.Access.ServiceTokens
	for i := range 45 {
		_, err := tokens.New(context.Background(), zero_trust.AccessServiceTokenNewParams{
			AccountID: cloudflare.F(testAccount), Name: cloudflare.F("bulk-" + strconv.Itoa(i))})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	before := srv.APIRequestCount()
	all := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount), PerPage: cloudflare.F(int64(10))})
	if requests := srv.APIRequestCount() - before; requests != 6 {
		t.Errorf("paging took %d requests, want 6 (5 pages and an empty one)", requests)
	}
	seen := map[string]bool{}
	for _, tok := range all {
		seen[tok.ID] = true
	}
	if len(all) != 45 || len(seen) != 45 {
		t.Errorf("paged through %d tokens (%d distinct), want 45", len(all), len(seen))
	}

	page, err := tokens.List(context.Background(), zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount), PerPage: cloudflare.F(int64(10)),
		Page: cloudflare.F(int64(5))})
	if err != nil {
		t.Fatal(err)
	}
	info := gjson.Parse(page.JSON.RawJSON()).Get("result_info")
	if info.Get("count").Int() != 5 || info.Get("total_count").Int() != 45 ||
		info.Get("total_pages").Int() != 5 || info.Get("page").Int() != 5 {
		t.Errorf("result_info of the last page = %s", info.Raw)
	}

	byName := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("bulk-7")})
	bySearch := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount), Search: cloudflare.F("ULK-4")})
	if len(byName) != 1 || len(bySearch) != 6 { // bulk-4 and bulk-40..44
		t.Errorf("name filter found %d, search %d; want 1 and 6", len(byName), len(bySearch))
	}
}

func TestServiceTokenSecretVersionBump(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	tokens := cf.ZeroTrust.Access.ServiceTokens
	ctx := context.Background()
	made, err := tokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("versioned")})
	if err != nil {
		t.Fatal(err)
	}
	grace := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	bumped, err := tokens.Update(ctx, made.ID, zero_trust.AccessServiceTokenUpdateParams{
		AccountID: cloudflare.F(testAccount), ClientSecretVersion: cloudflare.F(2.0),
		PreviousClientSecretExpiresAt: cloudflare.F(grace)})
	if err != nil {
		t.Fatal(err)
	}
	raw := bumped.JSON.RawJSON()
	secret := gjson.Get(raw, "client_secret").String()
	if !secretPattern.MatchString(secret) || secret == made.ClientSecret {
		t.Errorf("a version bump must answer with a new secret: %s", raw)
	}
	if got := gjson.Get(raw, "previous_client_secret_expires_at").Time(); !got.Equal(grace) {
		t.Errorf("previous_client_secret_expires_at = %s, want %s", got, grace)
	}
	_, err = tokens.Update(ctx, made.ID, zero_trust.AccessServiceTokenUpdateParams{
		AccountID: cloudflare.F(testAccount), ClientSecretVersion: cloudflare.F(1.0)})
	wantStatus(t, err, 400, 12130)
}

func TestServiceTokenLimit(t *testing.T) {
	world := parseWorld(t, strings.Replace(testWorld, "token_limit: 100", "token_limit: 3", 1)+
		"service_tokens: [{name: from-the-world}]\n")
	srv := startWorld(t, world)
	tokens := sdk(t, srv, adminToken, 0).ZeroTrust.Access.ServiceTokens
	ctx := context.Background()
	for i := range 2 {
		_, err := tokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
			AccountID: cloudflare.F(testAccount), Name: cloudflare.F("t" + strconv.Itoa(i))})
		if err != nil {
			t.Fatalf("create %d of 2: %v", i, err)
		}
	}
	_, err := tokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("one-too-many")})
	wantStatus(t, err, 400, 12130)
	if err == nil || !strings.Contains(err.Error(), "limit of 3 service tokens") {
		t.Errorf("error %v does not name the limit", err)
	}
	if got := listAll(t, tokens, zero_trust.AccessServiceTokenListParams{
		AccountID: cloudflare.F(testAccount)}); len(got) != 3 {
		t.Errorf("tokens listed: %d, want 3", len(got))
	}
}

func TestServiceTokenAuthErrorsSDK(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	ctx := context.Background()
	_, err := sdk(t, srv, readerToken, 0).ZeroTrust.Access.ServiceTokens.New(ctx,
		zero_trust.AccessServiceTokenNewParams{AccountID: cloudflare.F(testAccount),
			Name: cloudflare.F("not allowed")})
	wantStatus(t, err, 403, 10000)
	_, err = sdk(t, srv, adminToken, 0).ZeroTrust.Access.ServiceTokens.List(ctx,
		zero_trust.AccessServiceTokenListParams{AccountID: cloudflare.F(strings.Repeat("f", 32))})
	wantStatus(t, err, 403, 9109)
	_, err = sdk(t, srv, "wrong-token", 0).ZeroTrust.Access.ServiceTokens.List(ctx,
		zero_trust.AccessServiceTokenListParams{AccountID: cloudflare.F(testAccount)})
	wantStatus(t, err, 401, 10000)
	_, err = sdk(t, srv, adminToken, 0).ZeroTrust.Access.ServiceTokens.New(ctx,
		zero_trust.AccessServiceTokenNewParams{AccountID: cloudflare.F(testAccount),
			Name: cloudflare.F("a"), Duration: cloudflare.F("1y")})
	wantStatus(t, err, 400, 12130)
}

func TestVerifyAPIToken(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	res, err := sdk(t, srv, readerToken, 0).User.Tokens.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != user.TokenVerifyResponseStatusActive || res.ID == "" {
		t.Errorf("verify = %s", res.JSON.RawJSON())
	}
	_, err = sdk(t, srv, "no-such-token", 0).User.Tokens.Verify(context.Background())
	wantStatus(t, err, 401, 10000)
}

func TestServerAccessors(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())
	if srv.APIToken() != "cfst-emulator-demo-api-token-not-a-secret" {
		t.Errorf("APIToken() = %q", srv.APIToken())
	}
	if srv.AccountID() != "0123456789abcdef0123456789abcdef" ||
		srv.ZoneID() != "fedcba9876543210fedcba9876543210" {
		t.Errorf("AccountID, ZoneID = %q, %q", srv.AccountID(), srv.ZoneID())
	}
}

// TestServiceTokenFieldsPerAnswer checks which answers carry client_secret and
// last_seen_at, as the fact sheet's table (§1.2) gives them, for a token that has been
// seen at the edge.
func TestServiceTokenFieldsPerAnswer(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())
	auth := "Bearer " + srv.APIToken()
	tokens := "/accounts/" + srv.AccountID() + "/access/service_tokens"
	status, made := apiCall(t, srv, "POST", tokens, `{"name":"seen"}`, auth)
	if status != 201 {
		t.Fatalf("create: %d %s", status, made.Raw)
	}
	checkTokenFields(t, "create", made.Get("result"), true, false)

	req, err := http.NewRequest("GET", "https://jaeger.example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("CF-Access-Client-Id", made.Get("result.client_id").String())
	req.Header.Set("CF-Access-Client-Secret", made.Get("result.client_secret").String())
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the edge answered %d, want 200", resp.StatusCode)
	}

	token := tokens + "/" + made.Get("result.id").String()
	for _, step := range []struct {
		name, method, path, body string
		secret, lastSeen         bool
	}{
		{"get", "GET", token, "", false, true},
		{"update", "PUT", token, `{"name":"seen-again"}`, false, true},
		{"refresh", "POST", token + "/refresh", "", false, true},
		{"rotate", "POST", token + "/rotate", "", true, false},
		{"delete", "DELETE", token, "", false, true},
	} {
		status, body := apiCall(t, srv, step.method, step.path, step.body, auth)
		if status != 200 {
			t.Fatalf("%s: %d %s", step.name, status, body.Raw)
		}
		checkTokenFields(t, step.name, body.Get("result"), step.secret, step.lastSeen)
	}
}

func checkTokenFields(t *testing.T, answer string, token gjson.Result, secret, lastSeen bool) {
	t.Helper()
	if got := token.Get("client_secret").Exists(); got != secret {
		t.Errorf("%s: client_secret present = %v, want %v: %s", answer, got, secret, token.Raw)
	}
	if got := token.Get("last_seen_at").Exists(); got != lastSeen {
		t.Errorf("%s: last_seen_at present = %v, want %v: %s", answer, got, lastSeen, token.Raw)
	}
}
