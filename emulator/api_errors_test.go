package emulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cfst/cfst/emulator"
)

// apiCall sends one request to the API with the given Authorization values and checks
// the answer against the schema. It returns the status and the body.
func apiCall(t *testing.T, srv *emulator.Server, method, path, body string,
	auth ...string) (int, gjson.Result) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range auth {
		req.Header.Add("Authorization", value)
	}
	client := &http.Client{Transport: &checkedTransport{t: t, base: srv.Client().Transport}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, gjson.ParseBytes(data)
}

// apiCase is one request of a table test and the status and error code it must get; code
// 0 means a success.
type apiCase struct {
	name, method, path, body string
	status, code             int
}

// runAPICases sends each case with the given Authorization values and checks the answer.
func runAPICases(t *testing.T, srv *emulator.Server, cases []apiCase, auth ...string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := apiCall(t, srv, tc.method, tc.path, tc.body, auth...)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %s", status, tc.status, body.Raw)
			}
			if tc.code == 0 {
				return
			}
			if got := body.Get("errors.0.code").Int(); got != int64(tc.code) {
				t.Errorf("error code = %d, want %d: %s", got, tc.code, body.Raw)
			}
			if body.Get("success").Bool() || body.Get("result").Type != gjson.Null {
				t.Errorf("a failure must have success false and result null: %s", body.Raw)
			}
		})
	}
}

func TestAPIAuthentication(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	tokens := "/accounts/" + testAccount + "/access/service_tokens"
	admin := "Bearer " + adminToken
	cases := []struct {
		name, method, path string
		auth               []string
		status, code       int
	}{
		{"no authorization", "GET", tokens, nil, 401, 10000},
		{"unknown API token", "GET", tokens, []string{"Bearer nope"}, 401, 10000},
		{"basic auth", "GET", tokens, []string{"Basic YWJjOmRlZg=="}, 400, 6003},
		{"bearer without token", "GET", tokens, []string{"Bearer"}, 400, 6003},
		{"token with a space", "GET", tokens, []string{"Bearer a b"}, 400, 6003},
		{"two authorization headers", "GET", tokens, []string{admin, admin}, 400, 6003},
		{"read-only token writes", "POST", tokens, []string{"Bearer " + readerToken}, 403, 10000},
		{"token without the permission", "GET", tokens, []string{"Bearer " + logsToken},
			403, 10000},
		{"unknown account", "GET", "/accounts/" + strings.Repeat("0", 32) +
			"/access/service_tokens", []string{admin}, 403, 9109},
		{"unknown zone", "GET", "/zones/nope/access/service_tokens", []string{admin}, 403, 9109},
		{"verify without a token", "GET", "/user/tokens/verify", nil, 401, 10000},
	}
	for _, tc := range cases {
		runAPICases(t, srv, []apiCase{{tc.name, tc.method, tc.path, `{"name":"x"}`, tc.status,
			tc.code}}, tc.auth...)
	}
	status, body := apiCall(t, srv, "GET", tokens, "", "Basic x")
	if chain := body.Get("errors.0.error_chain.0.code").Int(); status != 400 || chain != 6111 {
		t.Errorf("malformed header: %d %s, want error_chain code 6111", status, body.Raw)
	}
}

func TestAPIBadInput(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	admin := "Bearer " + adminToken
	acct := "/accounts/" + testAccount
	tokens := acct + "/access/service_tokens"
	status, made := apiCall(t, srv, "POST", tokens, `{"name":"existing"}`, admin)
	if status != 201 {
		t.Fatalf("create: %d %s", status, made.Raw)
	}
	token := tokens + "/" + made.Get("result.id").String()
	zoneToken := "/zones/" + testZone + "/access/service_tokens/" + made.Get("result.id").String()
	long := strings.Repeat("n", 351)
	named := func(fields string) string { return `{"name":"a",` + fields + `}` }

	runAPICases(t, srv, []apiCase{
		{"malformed JSON", "POST", tokens, `{"name":`, 400, 12130},
		{"not JSON", "POST", tokens, `name=x`, 400, 12130},
		{"trailing data", "POST", tokens, `{"name":"a"} {}`, 400, 12130},
		{"array body", "POST", tokens, `[1]`, 400, 12130},
		{"empty body", "POST", tokens, ``, 400, 12130},
		{"name is a number", "POST", tokens, `{"name":5}`, 400, 12130},
		{"missing name", "POST", tokens, `{"duration":"1h"}`, 400, 12130},
		{"blank name", "POST", tokens, `{"name":"  "}`, 400, 12130},
		{"name of 351 characters", "POST", tokens, `{"name":"` + long + `"}`, 400, 12130},
		{"name of 350 characters", "POST", tokens, `{"name":"` + long[:350] + `"}`, 201, 0},
		{"duration 1y", "POST", tokens, named(`"duration":"1y"`), 400, 12130},
		{"duration -5h", "POST", tokens, named(`"duration":"-5h"`), 400, 12130},
		{"empty duration", "POST", tokens, named(`"duration":""`), 400, 12130},
		{"zero duration", "POST", tokens, named(`"duration":"0s"`), 400, 12130},
		{"duration is a number", "POST", tokens, named(`"duration":3600`), 400, 12130},
		{"fractional version", "PUT", token, `{"client_secret_version":1.5}`, 400, 12130},
		{"bad grace time", "PUT", token, `{"previous_client_secret_expires_at":"soon"}`,
			400, 12130},
		{"enabled is a string", "PUT", token, `{"enabled":"yes"}`, 400, 12130},
		{"update with a bad duration", "PUT", token, `{"duration":"1y"}`, 400, 12130},
		{"disable", "PUT", token, `{"enabled":false}`, 200, 0},
		{"unknown token get", "GET", tokens + "/nope", "", 404, 12135},
		{"unknown token update", "PUT", tokens + "/nope", `{"name":"a"}`, 404, 12135},
		{"unknown token delete", "DELETE", tokens + "/nope", "", 404, 12135},
		{"unknown token refresh", "POST", tokens + "/nope/refresh", "", 404, 12135},
		{"unknown token rotate", "POST", tokens + "/nope/rotate", "", 404, 12135},
		{"account token at zone scope", "GET", zoneToken, "", 404, 12135},
		{"refresh at zone scope", "POST", zoneToken + "/refresh", "", 404, 7003},
		{"rotate at zone scope", "POST", zoneToken + "/rotate", "", 404, 7003},
		{"rotate with a bad grace", "POST", token + "/rotate",
			`{"previous_client_secret_expires_at":5}`, 400, 12130},
		{"rotate without a body", "POST", token + "/rotate", "", 200, 0},
		{"GET on refresh", "GET", token + "/refresh", "", 405, 7001},
		{"DELETE on the list", "DELETE", tokens, "", 405, 7001},
		{"unknown route", "GET", acct + "/access/nothing", "", 404, 7003},
		{"unclean path", "GET", acct + "/access//service_tokens", "", 404, 7003},
		{"trailing slash", "GET", tokens + "/", "", 404, 7003},
		{"page 0", "GET", tokens + "?page=0", "", 400, 12130},
		{"per_page not a number", "GET", tokens + "?per_page=ten", "", 400, 12130},
		{"page past the end", "GET", tokens + "?page=99", "", 200, 0},
		{"huge page", "GET", tokens + "?page=9223372036854775807&per_page=1000", "", 200, 0},
	}, admin)
}

func TestAPIBadAccessObjects(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	admin := "Bearer " + adminToken
	apps := "/accounts/" + testAccount + "/access/apps"
	policies := "/accounts/" + testAccount + "/access/policies"
	groups := "/zones/" + testZone + "/access/groups"
	status, app := apiCall(t, srv, "POST", apps,
		`{"type":"self_hosted","domain":"app.example.com"}`, admin)
	if status != 201 {
		t.Fatalf("create app: %d %s", status, app.Raw)
	}
	appPath := apps + "/" + app.Get("result.id").String()
	appPolicies := appPath + "/policies"
	rule := `"include":[{"everyone":{}}]`
	selfHosted := func(fields string) string {
		return `{"type":"self_hosted","domain":"a.example.com",` + fields + `}`
	}
	policy := func(fields string) string { return `{"name":"p",` + fields + `}` }
	allow := func(include string) string {
		return policy(`"decision":"allow","include":[` + include + `]`)
	}

	runAPICases(t, srv, []apiCase{
		{"app without type", "POST", apps, `{"domain":"a.example.com"}`, 400, 12130},
		{"saas app", "POST", apps, `{"type":"saas","domain":"a.example.com"}`, 400, 12130},
		{"app without domain", "POST", apps, `{"type":"self_hosted"}`, 400, 12130},
		{"domain with scheme", "POST", apps,
			`{"type":"self_hosted","domain":"https://a.example.com"}`, 400, 12130},
		{"domain with port", "POST", apps,
			`{"type":"self_hosted","domain":"a.example.com:8443"}`, 400, 12130},
		{"private destination", "POST", apps,
			selfHosted(`"destinations":[{"type":"private","uri":"10.0.0.1"}]`), 400, 12130},
		{"policy is a number", "POST", apps, selfHosted(`"policies":[5]`), 400, 12130},
		{"unknown policy id", "POST", apps, selfHosted(`"policies":["nope"]`), 400, 12130},
		{"inline policy without include", "POST", apps,
			selfHosted(`"policies":[{"name":"p","decision":"allow"}]`), 400, 12130},
		{"duplicate precedence", "POST", apps, selfHosted(`"policies":[` +
			`{"name":"p","decision":"allow",` + rule + `,"precedence":1},` +
			`{"name":"q","decision":"allow",` + rule + `,"precedence":1}]`), 400, 12130},
		{"inline policies", "POST", apps,
			selfHosted(`"policies":[` + policy(`"decision":"non_identity",`+rule) + `]`), 201, 0},
		{"app name is an object", "PUT", appPath, selfHosted(`"name":{}`), 400, 12130},
		{"unknown app", "GET", apps + "/nope", "", 404, 12135},
		{"unknown app policies", "GET", apps + "/nope/policies", "", 404, 12135},
		{"policy without decision", "POST", policies, policy(rule), 400, 12130},
		{"unknown decision", "POST", policies, policy(`"decision":"maybe",` + rule), 400, 12130},
		{"policy without include", "POST", policies, policy(`"decision":"allow"`), 400, 12130},
		{"unsupported selector", "POST", policies, allow(`{"email_list":{"id":"x"}}`), 400, 12130},
		{"two selectors", "POST", policies, allow(`{"everyone":{},"certificate":{}}`), 400, 12130},
		{"unknown group", "POST", policies, allow(`{"group":{"id":"nope"}}`), 400, 12130},
		{"unknown token", "POST", policies, allow(`{"service_token":{"token_id":"x"}}`),
			400, 12130},
		{"bad ip rule", "POST", policies, allow(`{"ip":{"ip":"300.1.1.1"}}`), 400, 12130},
		{"bad session duration", "POST", policies,
			policy(`"decision":"allow","session_duration":"1d",` + rule), 400, 12130},
		{"unknown reusable policy", "GET", policies + "/nope", "", 404, 12135},
		{"reusable policies at zone scope", "GET", "/zones/" + testZone + "/access/policies", "",
			404, 7003},
		{"app policy without name", "POST", appPolicies, `{"decision":"allow",` + rule + `}`,
			400, 12130},
		{"app policy with precedence 0", "POST", appPolicies,
			policy(`"decision":"allow","precedence":0,` + rule), 400, 12130},
		{"unknown app policy", "PUT", appPolicies + "/nope", allow(`{"everyone":{}}`), 404, 12135},
		{"group without include", "POST", groups, `{"name":"g"}`, 400, 12130},
		{"group name is a list", "POST", groups, `{"name":["g"],` + rule + `}`, 400, 12130},
		{"unknown group delete", "DELETE", groups + "/nope", "", 404, 12135},
		{"group in the other scope", "GET", "/accounts/" + testAccount + "/access/groups/x", "",
			404, 12135},
	}, admin)
}

func TestAPIOversizedBody(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	body := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	status, answer := apiCall(t, srv, "POST", "/accounts/"+testAccount+"/access/service_tokens",
		body, "Bearer "+adminToken)
	if status != 400 || !strings.Contains(answer.Get("errors.0.message").String(), "larger than") {
		t.Errorf("oversized body: %d %s", status, answer.Raw)
	}
}

func TestAPIOutsideClientV4(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	client := srv.Client()
	resp, err := client.Get(strings.TrimSuffix(srv.URL, "/client/v4") + "/somewhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("status outside /client/v4 = %d, want 404", resp.StatusCode)
	}
}
