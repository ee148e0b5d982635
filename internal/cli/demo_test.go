package cli

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/dotenv"
)

// TestDemo runs the whole tour as `cfst demo` does: it ends with exit 0, shows every
// step, and no secret appears in its output, masked or not.
func TestDemo(t *testing.T) {
	var stdout, stderr syncBuffer
	app := &App{Streams: &Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr},
		Getenv: func(string) string { return "" }, Now: time.Now}
	code := Run(context.Background(), app, []string{"demo"})
	out := stdout.String()
	if code != ExitOK {
		t.Fatalf("cfst demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	for _, want := range []string{
		"== 1. The world", "$ cfst create demo-ci", "mode 0600", "$ cfst rotate demo-ci",
		"$ cfst test ", "backend_down", "tunnel_down", "login_redirect",
		"$ cfst apps", "$ cfst grant code.example.com", "$ cfst delete demo-ci --yes",
		"== 6. Hand the token to other tools", "== 7. Who uses the token",
		"== 8. Watch continuously", "== 9. Revoke",
		"$ cfst curl https://jaeger.example.com/api/services\n{\"app\":\"jaeger\"",
		"\nHTTP 200 OK\n{\"app\":\"jaeger\"", " GET /api/services 200 jaeger.example.com ",
		"cfst proxy: stopping",
		"$ cfst usage --token demo-ci", "refusal_burst",
		"cfst monitor: listening on http://127.0.0.1:",
		`cfst_probe_success{service="jaeger.example.com"} 1`,
		`cfst_probe_success{service="langfuse.example.com"} 0`,
		`cfst_token_expiry_seconds{token="demo-ci"`, "cfst monitor: stopping",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
	secretLike := regexp.MustCompile(`cfast_\w{8}|[0-9a-f]{64}`)
	if found := secretLike.FindString(out + stderr.String()); found != "" {
		t.Errorf("a secret appears in the demo: %q", found)
	}
	if _, err := exec.LookPath("sh"); err == nil &&
		!strings.Contains(out, "; secret: set (not shown)\n") {
		t.Errorf("the demo does not show cfst exec handing over the secret")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out)
	}
}

// TestDemoStepsKeepTheSecret runs the tour's steps one at a time and collects the client
// secret its .env holds after each (the rotated one, which curl, proxy, exec and monitor
// hand on): none may appear in the output, and the steps must not take long. TestDemo's
// pattern covers the secret that rotate replaces within its step.
func TestDemoStepsKeepTheSecret(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "emulator-ca.pem")
	srv, err := emulator.Start(emulator.Config{World: emulator.DefaultWorld(), CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out syncBuffer
	app := &App{Streams: &Streams{In: strings.NewReader(""), Out: &out, Err: &out},
		Getenv: func(string) string { return "" }, Now: time.Now, Timeout: 30 * time.Second}
	tour := newDemoTour(app, srv, dir, caFile)

	secrets := map[string]bool{}
	for i, step := range tour.steps() {
		if err := step(context.Background()); err != nil {
			t.Fatalf("step %d: %v\n%s", i+1, err, out.String())
		}
		if file, err := dotenv.Load(tour.app.EnvFile); err == nil {
			if value, ok := file.Get("CF_SERVICE_TOKEN_CLIENT_SECRET"); ok && value != "" {
				secrets[value] = true
			}
		}
	}
	if len(secrets) == 0 {
		t.Errorf("the tour's .env never held a secret")
	}
	for value := range secrets {
		if strings.Contains(out.String(), value) {
			t.Errorf("a secret of the tour's .env appears in its output:\n%s", out.String())
		}
	}
}
