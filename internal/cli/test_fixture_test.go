package cli

// A fixture for in-process runs of cfst test, curl, exec and proxy against the emulator:
// a world, a .env holding the canary secret, and an App whose environment points at the
// emulator and at nothing of the machine's.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
)

// The token of fixture worlds. No output of any command may ever hold testCanary.
const (
	testCanary   = "cfast_CANARYcanaryCANARYcanaryCANARYcanary12abcdef"
	testClientID = "0123456789abcdef0123456789abcdef.access"
)

// worldToken is the service_tokens entry of testCanary, for fixture worlds.
const worldToken = `
  - name: probe
    client_id: ` + testClientID + `
    client_secret: ` + testCanary + `
  - name: other
`

// emuFixture is one emulator and a directory with its CA and a .env.
type emuFixture struct {
	t       *testing.T
	srv     *emulator.Server
	dir     string
	caFile  string
	envFile string
	env     map[string]string
}

// newEmuFixture starts worldYAML and writes a .env with the canary token.
func newEmuFixture(t *testing.T, worldYAML string) *emuFixture {
	t.Helper()
	world, err := emulator.ParseWorld("world.yaml", []byte(worldYAML))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &emuFixture{t: t, dir: dir, caFile: filepath.Join(dir, "ca.pem"),
		envFile: filepath.Join(dir, ".env")}
	f.srv, err = emulator.Start(emulator.Config{World: world, CAFile: f.caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.srv.Close)
	f.writeEnv("CF_SERVICE_TOKEN_CLIENT_ID=" + testClientID + "\n" +
		"CF_SERVICE_TOKEN_CLIENT_SECRET=" + testCanary + "\n")
	f.env = map[string]string{
		"SSL_CERT_FILE":         f.caFile,
		"CFST_CONNECT_TO":       "::" + f.srv.Addr(),
		"CLOUDFLARE_BASE_URL":   f.srv.URL,
		"CLOUDFLARE_API_TOKEN":  f.srv.APIToken(),
		"CLOUDFLARE_ACCOUNT_ID": f.srv.AccountID(),
		"HOME":                  dir,
	}
	return f
}

func (f *emuFixture) writeEnv(content string) {
	f.t.Helper()
	if err := os.WriteFile(f.envFile, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliRun is what one in-process run printed and returned.
type cliRun struct {
	stdout, stderr string
	code           int
}

// newApp returns an App on buffers, with the fixture's environment.
func (f *emuFixture) newApp(stdin string) (*App, *syncBuffer, *syncBuffer) {
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	app := &App{
		Streams: &Streams{In: strings.NewReader(stdin), Out: stdout, Err: stderr},
		Getenv:  func(key string) string { return f.env[key] },
		Now:     time.Now,
	}
	return app, stdout, stderr
}

// run runs one cfst command line in-process with --env-file pointing at the fixture.
func (f *emuFixture) run(args ...string) cliRun {
	f.t.Helper()
	return f.runContext(context.Background(), args...)
}

func (f *emuFixture) runContext(ctx context.Context, args ...string) cliRun {
	app, stdout, stderr := f.newApp("")
	code := Run(ctx, app, append([]string{"--env-file", f.envFile}, args...))
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// assertNoCanary fails when the canary secret, or any part of it, is in some text.
func assertNoCanary(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if strings.Contains(text, testCanary) || strings.Contains(text, "CANARY") {
			t.Errorf("the secret leaked into %s:\n%s", where, text)
		}
	}
}

// originServer starts a plain http origin for an emulator application (origin: URL).
func originServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// matches reports whether text matches the regular expression pattern.
func matches(pattern, text string) bool { return regexp.MustCompile(pattern).MatchString(text) }
