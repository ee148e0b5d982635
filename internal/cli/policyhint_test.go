package cli

// Tests of the policy hints of `cfst test`: with the API, a refusal names the matched
// application and its policy cause; without it, or with an API that fails, the hint stays
// generic and nothing else about the run changes.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/probe"
)

// codeAppHint is what the hint says of the default world's code.example.com, which has
// only an identity (Allow) policy, for the canary token "probe".
const codeAppHint = `application "code" (code.example.com) matched; it has no Service ` +
	`Auth policy that admits token "probe"`

// startPolicyHint starts the default world with the canary token added as "probe", and
// writes its credentials to the harness's .env. Faults, if any, apply to the API.
func startPolicyHint(t *testing.T, strict bool, faults ...emulator.Fault) *inProcess {
	t.Helper()
	world := emulator.DefaultWorld()
	world.Strict = strict
	world.Faults = faults
	world.ServiceTokens = append(world.ServiceTokens, emulator.WorldServiceToken{
		Name: "probe", ClientID: testClientID, ClientSecret: emulator.NewSecret(testCanary)})
	h := startInProcess(t, world)
	writeTestEnv(t, h.envFile())
	return h
}

func writeTestEnv(t *testing.T, path string) {
	t.Helper()
	f := &emuFixture{t: t, envFile: path}
	f.writeEnv("CF_SERVICE_TOKEN_CLIENT_ID=" + testClientID + "\n" +
		"CF_SERVICE_TOKEN_CLIENT_SECRET=" + testCanary + "\n")
}

// policyHintJSON runs cfst test -o json with args and returns the only result.
func policyHintJSON(t *testing.T, h *inProcess, want int, args ...string) testResultJSON {
	t.Helper()
	run := h.mustRun(want, append([]string{"test", "-o", "json"}, args...)...)
	assertNoCanary(t, "cfst test -o json", run.stdout, run.stderr)
	var results []testResultJSON
	if err := json.Unmarshal([]byte(run.stdout), &results); err != nil || len(results) != 1 {
		t.Fatalf("stdout is not one JSON result (%v):\n%s", err, run.stdout)
	}
	return results[0]
}

// TestPolicyHintNamesTheApplication: the login redirect of code.example.com is explained
// by its application and its missing Service Auth policy, the same in text and JSON.
func TestPolicyHintNamesTheApplication(t *testing.T) {
	t.Parallel()
	h := startPolicyHint(t, false)
	text := h.mustRun(ExitRejected, "test", "code.example.com")
	assertNoCanary(t, "cfst test", text.stdout, text.stderr)
	got := policyHintJSON(t, h, ExitRejected, "code.example.com")

	if got.Class != string(probe.ClassLoginRedirect) || got.Status != http.StatusFound {
		t.Errorf("got %s %d, want login_redirect 302", got.Class, got.Status)
	}
	if !strings.HasPrefix(got.Hint, codeAppHint) ||
		!strings.Contains(got.Hint, "cfst grant code --token probe") {
		t.Errorf("JSON hint %q, want one starting %q and naming cfst grant", got.Hint,
			codeAppHint)
	}
	if !strings.Contains(text.stdout, got.Hint) {
		t.Errorf("the text output lacks the JSON hint %q:\n%s", got.Hint, text.stdout)
	}
}

// TestPolicyHintStrictForbidden: in strict mode the same refusal is a 403, explained the
// same way.
func TestPolicyHintStrictForbidden(t *testing.T) {
	t.Parallel()
	h := startPolicyHint(t, true)
	got := policyHintJSON(t, h, ExitRejected, "code.example.com")
	if got.Class != string(probe.ClassForbidden) || got.Status != http.StatusForbidden {
		t.Errorf("got %s %d, want forbidden 403", got.Class, got.Status)
	}
	if !strings.HasPrefix(got.Hint, codeAppHint) {
		t.Errorf("hint %q, want one starting %q", got.Hint, codeAppHint)
	}
}

// TestPolicyHintWithoutAPI: without an API token the generic hint stays, the exit code
// is the same, and debug output says why.
func TestPolicyHintWithoutAPI(t *testing.T) {
	t.Parallel()
	h := startPolicyHint(t, false)
	delete(h.env, "CLOUDFLARE_API_TOKEN")
	h.env["CFST_DEBUG"] = "1"
	got := policyHintJSON(t, h, ExitRejected, "code.example.com")
	if got.Class != string(probe.ClassLoginRedirect) || strings.Contains(got.Hint, "matched") ||
		!strings.Contains(got.Hint, "no Service Auth policy") {
		t.Errorf("got %s with hint %q, want login_redirect with the generic hint", got.Class,
			got.Hint)
	}
	run := h.mustRun(ExitRejected, "test", "code.example.com")
	if !strings.Contains(run.stderr, "debug: no policy hints: no Cloudflare API token") {
		t.Errorf("debug output does not say why there are no policy hints:\n%s", run.stderr)
	}
	assertNoCanary(t, "cfst test", run.stdout, run.stderr)
}

// TestPolicyHintFailingAPI: an API that refuses or hangs leaves the generic hint and the
// exit code, and a run where every target passes never asks it.
func TestPolicyHintFailingAPI(t *testing.T) {
	t.Parallel()
	h := startPolicyHint(t, false, emulator.Fault{Status: http.StatusForbidden})
	h.mustRun(ExitOK, "test", "jaeger.example.com", "ha.example.com")
	if n := h.srv.APIRequestCount(); n != 0 {
		t.Errorf("a run where every target passed sent %d API requests", n)
	}
	got := policyHintJSON(t, h, ExitRejected, "code.example.com")
	if h.srv.APIRequestCount() == 0 || strings.Contains(got.Hint, "matched") {
		t.Errorf("API requests %d, hint %q: want the generic hint after a refused API read",
			h.srv.APIRequestCount(), got.Hint)
	}
}

// TestPolicyHintHangingAPI: an API that does not answer delays a failing run by no more
// than its deadline, and the hint stays generic.
func TestPolicyHintHangingAPI(t *testing.T) {
	t.Parallel()
	h := startPolicyHint(t, false, emulator.Fault{Latency: time.Minute})
	started := time.Now()
	got := policyHintJSON(t, h, ExitRejected, "--deadline", "1s", "code.example.com")
	// Under the hint's own 10s budget, so only the deadline can explain a pass; far above
	// the 1s deadline, so a loaded machine does not fail it.
	if elapsed := time.Since(started); elapsed > 8*time.Second {
		t.Errorf("a hanging API held cfst test --deadline 1s for %s", elapsed)
	}
	if got.Class != string(probe.ClassLoginRedirect) || strings.Contains(got.Hint, "matched") {
		t.Errorf("got %s with hint %q, want login_redirect with the generic hint", got.Class,
			got.Hint)
	}
}
