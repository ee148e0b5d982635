package cli

import (
	"os"
	"strings"
	"testing"
)

// canaryPolicyEnv is canaryEnv plus WRONG_*, the client id of active-one with the secret
// of legacy-hex: a wrong secret, and itself a canary that nothing may print.
const canaryPolicyEnv = canaryEnv + `WRONG_CLIENT_ID=11111111111111111111111111111111.access
WRONG_CLIENT_SECRET=0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de
`

// TestCanaryNotInPolicyCommands runs the policy commands (apps, apps --probe, grant,
// ungrant, doctor) on success and failure paths, as text and JSON, with and without
// --verbose, and checks that no secret of the lifecycle world appears in stdout or
// stderr. The legacy and wrong secrets are plain hex, which no scrubber recognises by
// shape.
func TestCanaryNotInPolicyCommands(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		name := map[bool]string{false: "quiet", true: "verbose"}[verbose]
		t.Run(name, func(t *testing.T) { checkCanaryNotInPolicyCommands(t, verbose) })
	}
}

func checkCanaryNotInPolicyCommands(t *testing.T, verbose bool) {
	h := startInProcess(t, testWorld(t, "lifecycle"))
	if err := os.WriteFile(h.envFile(), []byte(canaryPolicyEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		code int
		args []string
	}{
		{ExitOK, []string{"apps"}},
		{ExitOK, []string{"apps", "-o", "json"}},
		{ExitOK, []string{"apps", "--token", "legacy-hex", "-o", "json"}},
		{ExitOK, []string{"apps", "--probe"}},
		{ExitOK, []string{"apps", "--probe", "-o", "json"}},
		{ExitOK, []string{"--prefix", "LEGACY", "apps", "--probe"}},
		{ExitCheckFailed, []string{"--prefix", "WRONG", "apps", "--probe"}},
		{ExitCheckFailed, []string{"--prefix", "WRONG", "apps", "--probe", "-o", "json"}},
		{ExitUsage, []string{"apps", "--probe", "--token", "legacy-hex"}},
		{ExitUsage, []string{"grant", "code"}},
		{ExitNotFound, []string{"grant", "nowhere.example.com", "--yes"}},
		{ExitOK, []string{"grant", "code", "--yes"}},
		{ExitOK, []string{"--prefix", "LEGACY", "grant", "code", "--yes"}},
		{ExitOK, []string{"grant", "code", "--token", "active-one", "--yes"}},
		{ExitOK, []string{"ungrant", "code", "--yes"}},
		{ExitOK, []string{"--prefix", "LEGACY", "ungrant", "code", "--token", "legacy-hex",
			"--yes"}},
		{ExitOK, []string{"doctor"}},
		{ExitOK, []string{"doctor", "-o", "json"}},
		{ExitOK, []string{"--prefix", "LEGACY", "doctor"}},
		{ExitCheckFailed, []string{"--prefix", "WRONG", "doctor"}},
		{ExitCheckFailed, []string{"--prefix", "WRONG", "doctor", "-o", "json"}},
	}
	var results []runResult
	for _, step := range steps {
		args := step.args
		if verbose {
			args = append([]string{"--verbose"}, args...)
		}
		results = append(results, h.mustRun(step.code, args...))
	}
	if verbose && !strings.Contains(results[3].stderr, "Cf-Access-Client-Secret: [redacted]") {
		t.Fatalf("--verbose apps --probe printed no exchange: %q", results[3].stderr)
	}
	for _, result := range results {
		assertNoWorldSecret(t, h, result)
	}
}

// assertNoWorldSecret fails when a secret of the lifecycle world, or the API token, is in
// what a run printed.
func assertNoWorldSecret(t *testing.T, h *inProcess, result runResult) {
	t.Helper()
	for stream, text := range map[string]string{"stdout": result.stdout,
		"stderr": result.stderr} {
		for _, value := range append(worldCanaries, h.env["CLOUDFLARE_API_TOKEN"]) {
			if strings.Contains(text, value) {
				t.Errorf("cfst %q: a secret appears in %s:\n%s", result.args, stream, text)
			}
		}
		assertNoCanary(t, strings.Join(result.args, " ")+" "+stream, text)
	}
}
