package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"
	"github.com/tidwall/gjson"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/probe"
)

func listParams() zero_trust.AccessServiceTokenListParams {
	return zero_trust.AccessServiceTokenListParams{AccountID: cloudflare.F(testAccount)}
}

func TestSDKRetriesAfter429(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	err := srv.InjectFault(emulator.Fault{Method: "GET", Path: "/accounts/*/access/service_tokens",
		Status: 429, RetryAfter: 1, Times: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.APIRequestCount()
	_, err = sdk(t, srv, adminToken, 2).ZeroTrust.Access.ServiceTokens.List(
		context.Background(), listParams())
	if err != nil {
		t.Fatalf("list after one 429: %v", err)
	}
	if n := srv.APIRequestCount() - before; n != 2 {
		t.Errorf("the emulator saw %d requests, want 2 (a 429 and the retry)", n)
	}
}

func TestFaultErrorsReachTheSDK(t *testing.T) {
	world := parseWorld(t, testWorld+`
faults:
  - {method: POST, path: "/accounts/*/access/service_tokens", status: 503, times: 1}
  - {method: GET, path: "/accounts/*/access/apps", status: 429, retry_after: 7}
`)
	srv := startWorld(t, world)
	cf := sdk(t, srv, adminToken, 0)
	ctx := context.Background()
	_, err := cf.ZeroTrust.Access.ServiceTokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("x")})
	wantStatus(t, err, 503, 10001)
	if _, err := cf.ZeroTrust.Access.ServiceTokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: cloudflare.F(testAccount), Name: cloudflare.F("x")}); err != nil {
		t.Errorf("a times:1 fault fired twice: %v", err)
	}
	_, err = cf.ZeroTrust.Access.Applications.List(ctx, zero_trust.AccessApplicationListParams{
		AccountID: cloudflare.F(testAccount)})
	wantStatus(t, err, 429, 971)
	var cfErr *cloudflare.Error
	if errors.As(err, &cfErr) && cfErr.Response.Header.Get("Retry-After") != "7" {
		t.Errorf("Retry-After = %q, want 7", cfErr.Response.Header.Get("Retry-After"))
	}
}

func TestRateLimit(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld+"rate_limit: {requests: 3, window: 5m}\n"))
	tokens := sdk(t, srv, adminToken, 0).ZeroTrust.Access.ServiceTokens
	for i := range 3 {
		if _, err := tokens.List(context.Background(), listParams()); err != nil {
			t.Fatalf("request %d of 3: %v", i+1, err)
		}
	}
	_, err := tokens.List(context.Background(), listParams())
	wantStatus(t, err, 429, 971)
	other := sdk(t, srv, readerToken, 0).ZeroTrust.Access.ServiceTokens
	if _, err := other.List(context.Background(), listParams()); err != nil {
		t.Errorf("another API token was limited too: %v", err)
	}
	if err := srv.AdvanceClock(5 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.List(context.Background(), listParams()); err != nil {
		t.Errorf("the limit outlived its window: %v", err)
	}
}

func TestLatencyFault(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	if err := srv.InjectFault(emulator.Fault{Latency: time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk(t, srv, adminToken, 0).ZeroTrust.Access.ServiceTokens.List(
		context.Background(), listParams()); err != nil {
		t.Errorf("a latency-only fault failed the request: %v", err)
	}
}

func TestInjectFaultRejectsBadFaults(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	for _, f := range []emulator.Fault{
		{Status: 200}, {}, {Status: 503, Times: -1}, {Status: 503, Path: "accounts"},
		{Status: 503, Path: "/[x"}, {Latency: -time.Second},
	} {
		if err := srv.InjectFault(f); err == nil {
			t.Errorf("InjectFault(%+v) = nil, want an error", f)
		}
	}
}

func TestFaultPathPatterns(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/accounts/*/access/service_tokens", "/accounts/abc/access/service_tokens", true},
		{"/accounts/*/access/service_tokens", "/accounts/abc/access/service_tokens/x", false},
		{"/accounts/*/**", "/accounts/abc/access/service_tokens/x", true},
		{"/zones/**", "/accounts/abc", false},
		{"/**", "/user/tokens/verify", true},
	}
	for _, tc := range cases {
		srv := startWorld(t, parseWorld(t, testWorld))
		if err := srv.InjectFault(emulator.Fault{Path: tc.pattern, Status: 518}); err != nil {
			t.Fatal(err)
		}
		status, _ := apiCall(t, srv, "GET", tc.path, "", "Bearer "+adminToken)
		if got := status == 518; got != tc.want {
			t.Errorf("pattern %q on %q: fired %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// adminCall sends a request to the admin API and decodes its JSON answer.
func adminCall(t *testing.T, srv *emulator.Server, method, path, body string) (int, gjson.Result) {
	t.Helper()
	base := strings.TrimSuffix(srv.URL, "/client/v4")
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	data, _ := json.Marshal(v)
	return resp.StatusCode, gjson.ParseBytes(data)
}

func TestAdminAPI(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())

	status, clock := adminCall(t, srv, "GET", "/__emulator/clock", "")
	start := clock.Get("now").Time()
	if status != 200 || start.IsZero() {
		t.Fatalf("GET clock: %d %s", status, clock.Raw)
	}
	status, clock = adminCall(t, srv, "POST", "/__emulator/clock", `{"advance":"48h"}`)
	if moved := clock.Get("now").Time().Sub(start); status != 200 || moved < 48*time.Hour {
		t.Errorf("POST clock: %d %s, moved %s", status, clock.Raw, moved)
	}
	for _, bad := range []string{`{"advance":"-1h"}`, `{"advance":"2d"}`, `{"forward":"1"}`, `[`} {
		if status, _ := adminCall(t, srv, "POST", "/__emulator/clock", bad); status != 400 {
			t.Errorf("POST clock %s: %d, want 400", bad, status)
		}
	}

	status, state := adminCall(t, srv, "GET", "/__emulator/state", "")
	if status != 200 || state.Get("applications.#").Int() != 7 ||
		state.Get(`service_tokens.#(name=="legacy-monitor").status`).String() != "expired" {
		t.Errorf("GET state: %d %s", status, state.Raw)
	}
	if strings.Contains(state.Raw, "cfast_") || strings.Contains(state.Raw, "client_secret\"") {
		t.Errorf("the state shows a secret: %s", state.Raw)
	}

	status, faults := adminCall(t, srv, "POST", "/__emulator/faults",
		`{"method":"GET","path":"/user/tokens/verify","status":503,"latency":"1ms","times":1}`)
	if status != 201 || faults.Get("faults.0.latency").String() != "1ms" {
		t.Errorf("POST faults: %d %s", status, faults.Raw)
	}
	apiStatus, _ := apiCall(t, srv, "GET", "/user/tokens/verify", "", "Bearer "+srv.APIToken())
	_, faults = adminCall(t, srv, "GET", "/__emulator/faults", "")
	if apiStatus != 503 || faults.Get("faults.0.fired").Int() != 1 {
		t.Errorf("injected fault: API answered %d, faults %s", apiStatus, faults.Raw)
	}
	status, _ = adminCall(t, srv, "POST", "/__emulator/faults", `{"status":200}`)
	if status != 400 {
		t.Errorf("POST a bad fault: %d, want 400", status)
	}
	if status, faults := adminCall(t, srv, "DELETE", "/__emulator/faults", ""); status != 200 ||
		faults.Get("faults.#").Int() != 0 {
		t.Errorf("DELETE faults: %d %s", status, faults.Raw)
	}

	status, _ = adminCall(t, srv, "POST", "/__emulator/origins",
		`{"app":"jaeger","origin":"down"}`)
	_, state = adminCall(t, srv, "GET", "/__emulator/state", "")
	if status != 200 || state.Get(`applications.#(name=="jaeger").origin`).String() != "down" {
		t.Errorf("POST origins: %d, state %s", status, state.Get("applications").Raw)
	}
	for body, want := range map[string]int{`{"app":"nope","origin":"down"}`: 404,
		`{"app":"jaeger","origin":"donw"}`: 400} {
		if status, _ := adminCall(t, srv, "POST", "/__emulator/origins", body); status != want {
			t.Errorf("POST origins %s: %d, want %d", body, status, want)
		}
	}
	if status, _ := adminCall(t, srv, "GET", "/__emulator/nothing", ""); status != 404 {
		t.Errorf("unknown admin endpoint: %d, want 404", status)
	}
	if status, _ := adminCall(t, srv, "PUT", "/__emulator/clock", ""); status != 405 {
		t.Errorf("PUT clock: %d, want 405", status)
	}
}

func TestAdvanceClockNeedsManualClock(t *testing.T) {
	srv, err := emulator.Start(emulator.Config{World: parseWorld(t, testWorld),
		Clock: fixedClock{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AdvanceClock(time.Hour); err == nil {
		t.Error("AdvanceClock on a fixed clock = nil, want an error")
	}
}

type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

func TestEdgeFault(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())
	if err := srv.InjectFault(emulator.Fault{Host: "*.example.com", Path: "/slow/**",
		Status: 503, RetryAfter: 2, Times: 1}); err != nil {
		t.Fatal(err)
	}
	target := "https://jaeger.example.com/slow/x"
	resp, body := edgeGet(t, srv, target)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("edge fault: %d, Retry-After %q; want 503 and 2", resp.StatusCode,
			resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Cf-Ray") == "" || resp.Header.Get("Server") != "cloudflare" {
		t.Errorf("edge fault: cf-ray %q, server %q; want the edge's headers",
			resp.Header.Get("Cf-Ray"), resp.Header.Get("Server"))
	}
	result := probe.Classify(probe.Target{URL: target}, resp, body)
	if result.Class != probe.ClassBackendDown {
		t.Errorf("cfst classifies the edge fault as %s, want backend_down", result.Class)
	}
	if resp, _ := edgeGet(t, srv, target); resp.StatusCode == 503 {
		t.Errorf("a times:1 edge fault fired twice")
	}
	status, _ := apiCall(t, srv, "GET", "/user/tokens/verify", "", "Bearer "+srv.APIToken())
	if status != 200 {
		t.Errorf("an edge fault reached the API: %d", status)
	}
}

// TestEdgeLatencyFaultFiresOnce checks that a latency-only edge fault delays a request
// once, not twice, and counts once against its times.
func TestEdgeLatencyFaultFiresOnce(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())
	const latency = time.Second // far above a loaded machine's request time
	if err := srv.InjectFault(emulator.Fault{Host: "jaeger.example.com", Latency: latency,
		Times: 2}); err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 3; want++ {
		start := time.Now()
		edgeGet(t, srv, "https://jaeger.example.com/")
		elapsed := time.Since(start)
		_, faults := adminCall(t, srv, "GET", "/__emulator/faults", "")
		fired := faults.Get("faults.0.fired").Int()
		switch {
		case want <= 2 && fired != want:
			t.Errorf("after request %d the fault fired %d times, want %d", want, fired, want)
		case want <= 2 && elapsed < latency:
			t.Errorf("request %d took %s, want at least %s", want, elapsed, latency)
		case want == 3 && fired != 2:
			t.Errorf("a times:2 fault fired %d times", fired)
		case want == 3 && elapsed >= latency:
			t.Errorf("request 3, after the fault was used up, took %s", elapsed)
		}
	}
}

func TestAPIAnswersCarryRay(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	if err := srv.InjectFault(emulator.Fault{Path: "/accounts/**", Status: 503,
		Times: 1}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/accounts/" + testAccount + "/access/service_tokens",
		"/user/tokens/verify", "/nowhere"} {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ray, colo, _ := strings.Cut(resp.Header.Get("Cf-Ray"), "-")
		if len(ray) != 16 || colo == "" {
			t.Errorf("GET %s (%d): cf-ray %q, want <16 hex>-<colo>", path, resp.StatusCode,
				resp.Header.Get("Cf-Ray"))
		}
	}
}

// edgeGet sends a GET through srv.Client and returns the answer with its body read.
func edgeGet(t *testing.T, srv *emulator.Server, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
