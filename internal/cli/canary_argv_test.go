package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitChildArgvHoldsNoSecret runs the commands that write .env inside a git work tree,
// where cfst starts git to learn whether the file is tracked or ignored, with a git on
// PATH that records its arguments, and checks that no secret reached them. (cfst exec's
// child is checked through /proc in exec_cmd_test.go.)
func TestGitChildArgvHoldsNoSecret(t *testing.T) {
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed for this test: %v", err)
	}
	h := startInProcess(t, testWorld(t, "lifecycle"))
	if out, err := exec.Command(realGit, "init", "-q", h.dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	ignore := filepath.Join(h.dir, ".gitignore")
	if err := os.WriteFile(ignore, []byte(".env\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.envFile(), []byte(canaryEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	argvLog := filepath.Join(t.TempDir(), "argv.log")
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argvLog + "'\nexec '" + realGit +
		"' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(wrapper), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	h.mustRun(ExitOK, "--prefix", "NEW", "create", "argv-new")
	h.mustRun(ExitOK, "rotate", "active-one", "--grace", "1h")
	h.mustRun(ExitOK, "delete", "argv-new", "--yes")

	logged, err := os.ReadFile(argvLog)
	if err != nil || !strings.Contains(string(logged), "check-ignore") {
		t.Fatalf("the git wrapper recorded no git check (%v): %q", err, logged)
	}
	secrets := append(append([]string{}, worldCanaries...), envSecrets(t, h.envFile())...)
	for _, value := range append(secrets, h.env["CLOUDFLARE_API_TOKEN"]) {
		if strings.Contains(string(logged), value) {
			t.Errorf("a secret reached git's arguments:\n%s", logged)
		}
	}
}
