package dotenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// newRepo runs git init in a fresh directory, isolated from the user's and the system's
// git configuration (a global excludes file could ignore .env).
func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required for this test: %v", err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	runGit(t, dir, "init", "-q")
	return dir
}

func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestCheckGitIgnored(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, repo string) // creates what the case needs
		file  string                          // relative to the repo
		want  GitState
	}{
		{"not ignored", func(*testing.T, string) {}, ".env", NotIgnored},
		{"ignored", func(t *testing.T, repo string) {
			writeFileMode(t, filepath.Join(repo, ".gitignore"), ".env\n", 0o644)
		}, ".env", Ignored},
		{"tracked", func(t *testing.T, repo string) {
			writeFileMode(t, filepath.Join(repo, ".env"), "A=1\n", 0o600)
			runGit(t, repo, "add", ".env")
		}, ".env", Tracked},
		{"tracked beats ignored", func(t *testing.T, repo string) {
			writeFileMode(t, filepath.Join(repo, ".env"), "A=1\n", 0o600)
			runGit(t, repo, "add", ".env")
			writeFileMode(t, filepath.Join(repo, ".gitignore"), ".env\n", 0o644)
		}, ".env", Tracked},
		{"anchored rule misses a subdirectory", func(t *testing.T, repo string) {
			writeFileMode(t, filepath.Join(repo, ".gitignore"), "/.env\n", 0o644)
			if err := os.Mkdir(filepath.Join(repo, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "sub/.env", NotIgnored},
		{"name that looks like a pathspec", func(*testing.T, string) {}, ":(glob)*", NotIgnored},
		{"glob name matches only itself", func(t *testing.T, repo string) {
			writeFileMode(t, filepath.Join(repo, "x.env"), "A=1\n", 0o600)
			runGit(t, repo, "add", "x.env")
		}, "*.env", NotIgnored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t)
			tc.setup(t, repo)
			got, err := CheckGitIgnored(filepath.Join(repo, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if want := (GitStatus{State: tc.want}); got != want {
				t.Errorf("CheckGitIgnored = %v, want %v", got.State, tc.want)
			}
		})
	}
}

func TestCheckGitIgnoredOutsideRepo(t *testing.T) {
	newRepo(t) // for the isolated environment only
	dir := t.TempDir()
	got, err := CheckGitIgnored(filepath.Join(dir, ".env"))
	if err != nil || got != (GitStatus{State: NotInRepo}) {
		t.Errorf("CheckGitIgnored = %+v, %v; want NotInRepo", got, err)
	}
	if _, err := CheckGitIgnored(filepath.Join(dir, "missing", ".env")); err == nil {
		t.Error("a file in a missing directory gave no error")
	}
}

func TestCheckGitIgnoredWithoutGit(t *testing.T) {
	repo := newRepo(t)
	t.Setenv("PATH", t.TempDir())
	got, err := CheckGitIgnored(filepath.Join(repo, ".env"))
	if err != nil || got != (GitStatus{State: NotInRepo, GitMissing: true}) {
		t.Errorf("CheckGitIgnored = %+v, %v; want NotInRepo with GitMissing", got, err)
	}
}

func TestAddToGitignore(t *testing.T) {
	tests := []struct {
		name, existing string // "" for no .gitignore
		file, sibling  string // file gets ignored, sibling must not
		want           string
	}{
		{"new .gitignore", "", ".env", "x.env", "/.env\n"},
		{"keeps the rest", "# build\n/bin\n", ".env", "sub.env", "# build\n/bin\n/.env\n"},
		{"missing final newline", "/bin", "prod.env", ".env", "/bin\n/prod.env\n"},
		{"glob characters and spaces", "", "my env[1]*?.env ", "my env1x.env ",
			"/my\\ env\\[1]\\*\\?.env\\ \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t)
			gitignore := filepath.Join(repo, ".gitignore")
			mode := os.FileMode(0o644)
			if tc.existing != "" {
				mode = 0o640
				writeFileMode(t, gitignore, tc.existing, mode)
			}
			if err := AddToGitignore(repo, tc.file); err != nil {
				t.Fatal(err)
			}
			checkFile(t, gitignore, tc.want, mode)
			for file, want := range map[string]GitState{tc.file: Ignored, tc.sibling: NotIgnored} {
				got, err := CheckGitIgnored(filepath.Join(repo, file))
				if err != nil || got.State != want {
					t.Errorf("%q: %v, %v; want %v", file, got.State, err, want)
				}
			}
		})
	}
}

func TestAddToGitignoreRefusesPaths(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", "a\nb"} {
		if err := AddToGitignore(t.TempDir(), name); err == nil {
			t.Errorf("AddToGitignore(%q) gave no error", name)
		}
	}
}
