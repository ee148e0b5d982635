package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
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
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
	secretLike := regexp.MustCompile(`cfast_\w{8}|[0-9a-f]{64}`)
	if found := secretLike.FindString(out + stderr.String()); found != "" {
		t.Errorf("a secret appears in the demo: %q", found)
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out)
	}
}
