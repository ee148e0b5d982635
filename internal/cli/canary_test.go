package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/dotenv"
)

// The secrets of the lifecycle world (testdata/worlds/lifecycle.yaml). The first is shaped
// like a Cloudflare secret, which the scrubber would catch by its shape alone; the others
// are not, so only never formatting them keeps them out of output.
var worldCanaries = []string{
	"cfast_CANARYcanaryCANARYcanaryCANARYcanary12abcdef",
	"0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de",
	"0ldsecret0ldsecret0ldsecret0ldsecret0ldsecret0ldsecret0ldsecret00",
}

const canaryEnv = `# the canaries of the lifecycle world
CF_SERVICE_TOKEN_CLIENT_ID=11111111111111111111111111111111.access
CF_SERVICE_TOKEN_CLIENT_SECRET=cfast_CANARYcanaryCANARYcanaryCANARYcanary12abcdef
LEGACY_CLIENT_ID=22222222222222222222222222222222.access
LEGACY_CLIENT_SECRET=0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de
`

// TestSecretsNeverPrinted runs every lifecycle command, on success and failure paths,
// with and without --verbose, and checks that no secret (the world's canaries, and every
// secret cfst created or rotated during the run) appears in stdout, stderr, JSON output
// or an error message. --show-secret is the one way to print a secret and is not used.
func TestSecretsNeverPrinted(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		name := map[bool]string{false: "quiet", true: "verbose"}[verbose]
		t.Run(name, func(t *testing.T) { checkSecretsNeverPrinted(t, verbose) })
	}
}

func checkSecretsNeverPrinted(t *testing.T, verbose bool) {
	h := startInProcess(t, testWorld(t, "lifecycle"))
	if err := os.WriteFile(h.envFile(), []byte(canaryEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]bool{}
	for _, canary := range worldCanaries {
		secrets[canary] = true
	}
	longEnv := filepath.Join(h.dir, strings.Repeat("e", 250))
	steps := []struct {
		code int
		args []string
	}{
		{ExitOK, []string{"list"}},
		{ExitOK, []string{"list", "-o", "json", "--expiring-within", "1y"}},
		{ExitOK, []string{"show", "active-one"}},
		{ExitOK, []string{"show", "22222222222222222222222222222222.access", "-o", "json"}},
		{ExitOK, []string{"refresh", "active-one"}},
		{ExitOK, []string{"disable", "rotating-one"}},
		{ExitOK, []string{"enable", "rotating-one", "-o", "json"}},
		{ExitOK, []string{"--prefix", "NEW", "create", "canary-new"}},
		{ExitOK, []string{"--prefix", "NEW2", "create", "canary-json", "-o", "json"}},
		{ExitRefused, []string{"--prefix", "NEW", "create", "duplicate"}},
		{ExitOK, []string{"--prefix", "LEGACY", "rotate", "legacy-hex", "--verify",
			"jaeger.example.com"}},
		{ExitVerifyFail, []string{"--prefix", "LEGACY", "rotate", "legacy-hex", "--verify",
			"code.example.com", "-o", "json"}},
		{ExitOK, []string{"rotate", "active-one", "--grace", "1h", "-o", "json"}},
		{ExitOK, []string{"rotate", "active-one", "--finish"}},
		{ExitRefused, []string{"--prefix", "LEGACY", "rotate", "active-one"}},
		{ExitSecretSaved, []string{"--env-file", longEnv, "create", "canary-recovered"}},
		{ExitNotFound, []string{"show", "nobody"}},
		{ExitUsage, []string{"rotate", "active-one", "--grace", "0", "--verify", "x.example.com"}},
		{ExitOK, []string{"delete", "canary-new", "--yes"}},
		{ExitOK, []string{"delete", "legacy-hex", "--yes"}},
	}
	var results []runResult
	for _, step := range steps {
		args := step.args
		if verbose {
			args = append([]string{"--verbose"}, args...)
		}
		result := h.mustRun(step.code, args...)
		results = append(results, result)
		for _, value := range envSecrets(t, h.envFile()) {
			secrets[value] = true
		}
	}
	for _, value := range recoveredSecrets(t, h) {
		secrets[value] = true
	}
	if len(secrets) < len(worldCanaries)+5 {
		t.Fatalf("only %d secrets collected; the test no longer sees what cfst creates",
			len(secrets))
	}
	if verbose && !strings.Contains(results[0].stderr, "Authorization: [redacted]") {
		t.Fatalf("--verbose printed no exchange: %q", results[0].stderr)
	}
	for _, result := range results {
		for value := range secrets {
			for stream, text := range map[string]string{"stdout": result.stdout,
				"stderr": result.stderr} {
				if strings.Contains(text, value) {
					t.Errorf("cfst %q: a secret appears in %s:\n%s", result.args, stream, text)
				}
			}
		}
		if strings.Contains(result.stdout+result.stderr, h.env["CLOUDFLARE_API_TOKEN"]) {
			t.Errorf("cfst %q: the API token appears in the output", result.args)
		}
	}
}

// envSecrets returns the values of every *_CLIENT_SECRET variable in the .env file.
func envSecrets(t *testing.T, path string) []string {
	t.Helper()
	file, err := dotenv.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, key := range file.Keys() {
		if value, _ := file.Get(key); strings.HasSuffix(key, "_CLIENT_SECRET") && value != "" {
			values = append(values, value)
		}
	}
	return values
}

// recoveredSecrets returns the secrets in the harness's recovery directory.
func recoveredSecrets(t *testing.T, h *inProcess) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(h.env["XDG_CONFIG_HOME"], "cfst", "recovered", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recovery file: %v", err)
	}
	var values []string
	for _, path := range paths {
		values = append(values, envSecrets(t, path)...)
	}
	return values
}
