package cli

// An in-process harness: Run with an App whose streams, environment and clock the test
// owns, against an emulator in the same process. Other commands' tests may use it.

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
)

// inProcess is one emulator and one working directory, shared by the runs of a test.
type inProcess struct {
	t   *testing.T
	srv *emulator.Server
	dir string
	env map[string]string
}

// startInProcess starts an emulator with world and returns a harness whose environment
// points cfst at it, with HOME and XDG_CONFIG_HOME inside a temporary directory.
func startInProcess(t *testing.T, world *emulator.World) *inProcess {
	t.Helper()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	srv, err := emulator.Start(emulator.Config{World: world, CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &inProcess{t: t, srv: srv, dir: dir, env: map[string]string{
		"CLOUDFLARE_BASE_URL":   srv.URL,
		"CLOUDFLARE_API_TOKEN":  srv.APIToken(),
		"CLOUDFLARE_ACCOUNT_ID": srv.AccountID(),
		"SSL_CERT_FILE":         caFile,
		"CFST_CONNECT_TO":       "::" + srv.Addr(),
		"HOME":                  filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME":       filepath.Join(dir, "home", ".config"),
	}}
}

// testWorld reads testdata/worlds/NAME.yaml.
func testWorld(t *testing.T, name string) *emulator.World {
	t.Helper()
	world, err := emulator.LoadWorld(filepath.Join("testdata", "worlds", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return world
}

// envFile is the path of the harness's .env file.
func (h *inProcess) envFile() string { return filepath.Join(h.dir, ".env") }

// runResult is what one run printed and returned.
type runResult struct {
	args           []string
	code           int
	stdout, stderr string
}

// run runs cfst with args and the harness's .env file on non-terminal streams.
func (h *inProcess) run(args ...string) runResult {
	return h.runWith(&Streams{In: strings.NewReader("")}, args...)
}

// runWith runs cfst on streams, whose Out and Err it replaces with buffers.
func (h *inProcess) runWith(streams *Streams, args ...string) runResult {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	streams.Out, streams.Err = &stdout, &stderr
	app := &App{Streams: streams, Getenv: func(key string) string { return h.env[key] },
		Now: time.Now}
	fullArgs := append([]string{"--env-file", h.envFile()}, args...)
	code := Run(context.Background(), app, fullArgs)
	return runResult{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs cfst and fails the test unless it exits with want.
func (h *inProcess) mustRun(want int, args ...string) runResult {
	h.t.Helper()
	result := h.run(args...)
	if result.code != want {
		h.t.Fatalf("cfst %q exited %d, want %d\nstdout: %s\nstderr: %s", args, result.code,
			want, result.stdout, result.stderr)
	}
	return result
}
