package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cfst/cfst/emulator"
)

// TestListPagesThroughThousands lists an account of 2,345 tokens: the client reads every
// page (100 a page), and each token is one line when piped.
func TestListPagesThroughThousands(t *testing.T) {
	const count = 2345
	world := testWorld(t, "lifecycle")
	world.ServiceTokens = nil
	world.TokenLimit = count
	for i := range count {
		world.ServiceTokens = append(world.ServiceTokens,
			emulator.WorldServiceToken{Name: fmt.Sprintf("token-%04d", i)})
	}
	h := startInProcess(t, world)

	text := h.mustRun(ExitOK, "list")
	lines := strings.Split(strings.TrimSuffix(text.stdout, "\n"), "\n")
	if len(lines) != count {
		t.Fatalf("list printed %d lines, want %d", len(lines), count)
	}
	if !strings.HasPrefix(lines[count-1], "\ttoken-2344\t") {
		t.Errorf("last line %q", lines[count-1])
	}

	var tokens []tokenJSON
	if err := json.Unmarshal([]byte(h.mustRun(ExitOK, "list", "-o", "json").stdout), &tokens); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		seen[tok.ID] = true
	}
	if len(tokens) != count || len(seen) != count {
		t.Errorf("JSON has %d tokens, %d distinct; want %d", len(tokens), len(seen), count)
	}
}

// TestTerminalOutput checks what changes on a terminal: a header, relative times.
func TestTerminalOutput(t *testing.T) {
	h := startInProcess(t, testWorld(t, "lifecycle"))
	result := h.runWith(&Streams{OutTTY: true}, "list")
	if result.code != ExitOK {
		t.Fatalf("exit %d: %s", result.code, result.stderr)
	}
	lines := strings.Split(result.stdout, "\n")
	if header := strings.Fields(lines[0]); header[0] != "NAME" || header[len(header)-1] != "SEEN" {
		t.Errorf("no header: %q", lines[0])
	}
	for _, want := range []string{"in 5 months", "3h ago", "never expires", "expires in 10 days",
		"rotating, ends in 12h", "10 days ago"} {
		if !strings.Contains(result.stdout, want) {
			t.Errorf("terminal list lacks %q:\n%s", want, result.stdout)
		}
	}
	if strings.Contains(result.stdout, "T00:") || strings.Contains(result.stdout, "Z\t") {
		t.Errorf("terminal list shows RFC 3339 times:\n%s", result.stdout)
	}

	json := h.runWith(&Streams{OutTTY: true}, "list", "-o", "json")
	piped := h.run("list", "-o", "json")
	if json.stdout != piped.stdout {
		t.Error("JSON output depends on the terminal")
	}
}

// TestDeleteConfirmsOnTerminal: on a terminal, the user types the token's name.
func TestDeleteConfirmsOnTerminal(t *testing.T) {
	h := startInProcess(t, testWorld(t, "lifecycle"))
	terminal := func(input string) *Streams {
		return &Streams{In: strings.NewReader(input), InTTY: true, ErrTTY: true}
	}
	wrong := h.runWith(terminal("expired\n"), "delete", "expired-one")
	if wrong.code != ExitUsage || !strings.Contains(wrong.stderr, "Type the token's name") ||
		!strings.Contains(wrong.stderr, "the name did not match; nothing deleted") {
		t.Fatalf("wrong name: exit %d, stderr %q", wrong.code, wrong.stderr)
	}
	h.mustRun(ExitOK, "show", "expired-one")

	empty := h.runWith(terminal(""), "delete", "expired-one")
	if empty.code != ExitCancelled {
		t.Errorf("no answer: exit %d, stderr %q", empty.code, empty.stderr)
	}

	right := h.runWith(terminal("expired-one\n"), "delete", "expired-one")
	if right.code != ExitOK || !strings.HasPrefix(right.stdout, "deleted expired-one (") {
		t.Fatalf("right name: exit %d, stdout %q, stderr %q", right.code, right.stdout,
			right.stderr)
	}
	h.mustRun(ExitNotFound, "show", "expired-one")
}

// TestSecretShownOnTerminalWhenNothingElseWorks: neither .env nor the config directory
// can be written, but stderr is a terminal: the secret is shown there, once, and cfst
// exits 10. This is the one path that prints a secret without --show-secret.
func TestSecretShownOnTerminalWhenNothingElseWorks(t *testing.T) {
	h := startInProcess(t, testWorld(t, "lifecycle"))
	blocker := filepath.Join(h.dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h.env["XDG_CONFIG_HOME"] = filepath.Join(blocker, "config")
	longEnv := filepath.Join(h.dir, strings.Repeat("e", 250))

	result := h.runWith(&Streams{ErrTTY: true}, "--env-file", longEnv, "create", "shown")
	if result.code != ExitSecretSaved {
		t.Fatalf("exit %d, want %d; stderr %q", result.code, ExitSecretSaved, result.stderr)
	}
	if !strings.Contains(result.stderr, "\nCF_SERVICE_TOKEN_CLIENT_SECRET=cfast_") {
		t.Errorf("the secret is not on the terminal:\n%s", result.stderr)
	}
	if !strings.Contains(result.stderr, "hint: the secret is shown above and nowhere else") {
		t.Errorf("no instruction:\n%s", result.stderr)
	}
	if strings.Contains(result.stdout, "cfast_") {
		t.Errorf("the secret is on stdout:\n%s", result.stdout)
	}
}
