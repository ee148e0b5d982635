package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
)

// runningEmulate is `cfst emulate` running in-process until stop.
type runningEmulate struct {
	t              *testing.T
	cancel         context.CancelFunc
	done           chan int
	stdout, stderr bytes.Buffer
}

// startEmulate runs `cfst emulate ARGS...` in-process in the current directory and stops
// it when the test ends.
func startEmulate(t *testing.T, args ...string) *runningEmulate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	run := &runningEmulate{t: t, cancel: cancel, done: make(chan int, 1)}
	app := &App{Streams: &Streams{In: strings.NewReader(""), Out: &run.stdout,
		Err: &run.stderr}, Getenv: func(string) string { return "" }, Now: time.Now}
	go func() { run.done <- Run(ctx, app, append([]string{"emulate"}, args...)) }()
	t.Cleanup(func() { run.stop() })
	return run
}

// stop interrupts the command and returns its exit code. The streams may be read after.
func (r *runningEmulate) stop() int {
	r.cancel()
	select {
	case code, ok := <-r.done:
		if ok {
			close(r.done)
			return code
		}
		return -1 // stopped before
	case <-time.After(30 * time.Second):
		r.t.Fatal("cfst emulate did not stop within 30s of its interruption")
		return -1
	}
}

// waitForFile waits until path exists and is not empty, and returns its content.
func waitForFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return data
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within 30s", path)
	return nil
}

// envLines parses `export KEY=VALUE` lines whose values need no quoting.
func envLines(t *testing.T, stdout string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for line := range strings.Lines(stdout) {
		key, value, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "),
			"=")
		if !ok || strings.Contains(value, "'") {
			t.Fatalf("stdout line %q is not export KEY=VALUE", line)
		}
		env[key] = value
	}
	return env
}

func TestEmulateInfoFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	run := startEmulate(t, "--info-file", "emu.json", "--ca-file", "ca.pem")
	data := waitForFile(t, "emu.json")
	if fi, err := os.Stat("emu.json"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("info file mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}

	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatalf("info file is not a JSON object: %v\n%s", err, data)
	}
	wantKeys := []string{"account_id", "api_token", "api_url", "ca_file", "edge_addr",
		"hostnames", "team_domain"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for key := range keys {
			if !yield(key) {
				return
			}
		}
	}); !slices.Equal(got, wantKeys) {
		t.Errorf("info file keys = %v, want exactly %v", got, wantKeys)
	}
	var info emulatorInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	wantCA := filepath.Join(dir, "ca.pem")
	if !strings.HasSuffix(info.APIURL, "/client/v4") || info.CAFile != wantCA ||
		!slices.Contains(info.Hostnames, "jaeger.example.com") || len(info.Hostnames) != 7 ||
		info.TeamDomain != "demo.cloudflareaccess.com" || info.APIToken == "" ||
		!strings.HasPrefix(info.EdgeAddr, "127.0.0.1:") {
		t.Errorf("info file = %s", data)
	}
	checkAPIAnswers(t, info)

	if code := run.stop(); code != ExitOK {
		t.Errorf("exit %d after the interruption, want 0; stderr: %s", code, run.stderr.String())
	}
	wantEnv := map[string]string{
		"CLOUDFLARE_BASE_URL":   info.APIURL,
		"CLOUDFLARE_API_TOKEN":  info.APIToken,
		"CLOUDFLARE_ACCOUNT_ID": info.AccountID,
		"SSL_CERT_FILE":         wantCA,
		"CFST_CONNECT_TO":       "::" + info.EdgeAddr,
	}
	if env := envLines(t, run.stdout.String()); !maps.Equal(env, wantEnv) {
		t.Errorf("environment lines:\n%s\nwant %v", run.stdout.String(), wantEnv)
	}
	if strings.Contains(run.stderr.String(), "warning") {
		t.Errorf("unexpected warning: %s", run.stderr.String())
	}
	if _, err := os.Stat("emu.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the info file outlived the emulator: %v", err)
	}
}

// checkAPIAnswers verifies the info's API token at its API URL, trusting only its CA.
func checkAPIAnswers(t *testing.T, info emulatorInfo) {
	t.Helper()
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", info.CAFile)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, info.APIURL+"/user/tokens/verify", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+info.APIToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("the API at %s: %v", info.APIURL, err)
	}
	defer resp.Body.Close()
	var body struct{ Success bool }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 ||
		!body.Success {
		t.Errorf("verify the API token: %d, success %v, %v", resp.StatusCode, body.Success, err)
	}
}

func TestEmulateWarnsWithoutFullAPIToken(t *testing.T) {
	cases := []struct {
		name, world, wantToken string
		wantWarning            []string
	}{
		{"partial token", "api_tokens:\n" +
			"  - {name: logs, value: logs-value, permissions: [logs:read]}\n" +
			"  - {name: reader, value: reader-value,\n" +
			"     permissions: [service_tokens:read, apps:read, policies:read]}\n",
			"reader-value", []string{`CLOUDFLARE_API_TOKEN is "reader"`, "service_tokens:write",
				"hint: give an API token permissions: [all]"}},
		{"no token", "team: lab\n", "",
			[]string{"no API token", "CLOUDFLARE_API_TOKEN is not set", "hint: add one"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if err := os.WriteFile("world.yaml", []byte(tc.world), 0o600); err != nil {
				t.Fatal(err)
			}
			run := startEmulate(t, "--world", "world.yaml", "--info-file", "emu.json")
			var info emulatorInfo
			if err := json.Unmarshal(waitForFile(t, "emu.json"), &info); err != nil {
				t.Fatal(err)
			}
			if code := run.stop(); code != ExitOK {
				t.Fatalf("exit %d, stderr: %s", code, run.stderr.String())
			}
			if info.Hostnames == nil {
				t.Errorf("hostnames is not an array for a world without applications")
			}
			env := envLines(t, run.stdout.String())
			token, exported := env["CLOUDFLARE_API_TOKEN"]
			if info.APIToken != tc.wantToken || token != tc.wantToken ||
				exported != (tc.wantToken != "") {
				t.Errorf("api_token %q, stdout:\n%s\nwant the token %q", info.APIToken,
					run.stdout.String(), tc.wantToken)
			}
			for _, want := range tc.wantWarning {
				if !strings.Contains(run.stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, run.stderr.String())
				}
			}
		})
	}
}

func TestEmulateRefusesMalformedWorld(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("bad.yaml", []byte("team: lab\nstrict: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := startEmulate(t, "--world", "bad.yaml", "--info-file", "emu.json")
	if code := run.stop(); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	lines := strings.Split(strings.TrimSpace(run.stderr.String()), "\n")
	want := `cfst: bad.yaml:2: strict: want true or false, got "maybe"`
	if len(lines) != 2 || lines[0] != want || !strings.HasPrefix(lines[1], "hint: ") ||
		!strings.Contains(lines[1], "cfst emulate --print-world") {
		t.Errorf("stderr:\n%s\nwant %q and a hint naming --print-world", run.stderr.String(),
			want)
	}
	if run.stdout.Len() != 0 {
		t.Errorf("stdout: %q, want nothing", run.stdout.String())
	}
	if _, err := os.Stat("emu.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused world left an info file: %v", err)
	}
}

// TestEmulatePrintWorld checks that the world the hint points to is the default one, and
// that its comments document the keys the help lists.
func TestEmulatePrintWorld(t *testing.T) {
	run := startEmulate(t, "--print-world")
	if code := run.stop(); code != ExitOK {
		t.Fatalf("exit %d: %s", code, run.stderr.String())
	}
	printed := run.stdout.String()
	if printed != string(emulator.DefaultWorldYAML()) {
		t.Errorf("--print-world printed something other than the default world")
	}
	if _, err := emulator.ParseWorld("printed.yaml", []byte(printed)); err != nil {
		t.Errorf("the printed world does not load: %v", err)
	}
	for _, key := range []string{"account_id", "zone_id", "team", "strict", "token_limit",
		"rate_limit", "login_events", "api_tokens", "service_tokens", "groups", "policies",
		"applications", "faults"} {
		if !strings.Contains(printed, key+":") {
			t.Errorf("the printed world does not show %s", key)
		}
	}
}

// TestEmulateHelpExample runs the first example of `cfst emulate --help` in sh, as a user
// would paste it, with the cfst that TestMain puts in PATH.
func TestEmulateHelpExample(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	example, _, _ := strings.Cut(newEmulateCmd(&App{}).Example, "\n\n")
	var script strings.Builder
	for line := range strings.Lines(example) {
		script.WriteString(strings.TrimPrefix(line, "  "))
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "NO_COLOR=1"}
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the help example failed: %v\nscript:\n%s\noutput:\n%s", err, script.String(),
			out)
	}
	if !strings.Contains(string(out), "jaeger.example.com") ||
		!strings.Contains(string(out), " ok ") {
		t.Errorf("the example's cfst test did not report ok:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "emu.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the info file outlived the emulator: %v", err)
	}
}
