package dotenv

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitState says whether git could commit a file.
type GitState int

// The states CheckGitIgnored reports.
const (
	NotInRepo  GitState = iota // outside any git work tree (or git is not installed)
	Ignored                    // in a work tree and ignored: safe
	Tracked                    // already tracked by git: its content is or will be committed
	NotIgnored                 // in a work tree, untracked, not ignored: "git add ." takes it
)

func (s GitState) String() string {
	switch s {
	case NotInRepo:
		return "not in a git repository"
	case Ignored:
		return "ignored by git"
	case Tracked:
		return "tracked by git"
	case NotIgnored:
		return "not ignored by git"
	}
	return fmt.Sprintf("GitState(%d)", int(s))
}

// GitStatus is what CheckGitIgnored found.
type GitStatus struct {
	State GitState
	// GitMissing is true when no git binary is on PATH. State is then NotInRepo, since
	// without git nothing can be committed from this machine; the CLI should still say so.
	GitMissing bool
}

// CheckGitIgnored asks git whether the file at path (which need not exist yet) is tracked
// or ignored, running git in the file's directory. A tracked file wins over an ignore rule,
// since ignoring does not untrack. A symlink is checked as the link, which is what git
// would commit.
func CheckGitIgnored(path string) (GitStatus, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return GitStatus{State: NotInRepo, GitMissing: true}, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return GitStatus{}, wrapGitError(path, err)
	}
	dir, name := filepath.Dir(abs), filepath.Base(abs)
	if _, err := os.Stat(dir); err != nil {
		return GitStatus{}, wrapGitError(path, err)
	}
	git := gitRunner{path: gitPath, dir: dir}
	inWorkTree, err := git.inWorkTree()
	if err != nil || !inWorkTree {
		return GitStatus{State: NotInRepo}, wrapGitError(path, err)
	}
	for _, check := range []struct {
		state GitState
		args  []string
	}{
		// ls-files takes pathspecs, matched literally; check-ignore takes paths and
		// rejects --literal-pathspecs, and "./" keeps a leading ':' from being magic.
		{Tracked, []string{"--literal-pathspecs", "ls-files", "--error-unmatch", "--", name}},
		{Ignored, []string{"check-ignore", "-q", "--", "./" + name}},
	} {
		_, ok, err := git.run(check.args...)
		if err != nil {
			return GitStatus{}, wrapGitError(path, err)
		}
		if ok {
			return GitStatus{State: check.state}, nil
		}
	}
	return GitStatus{State: NotIgnored}, nil
}

func wrapGitError(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("check git status of %q: %w", path, err)
}

type gitRunner struct{ path, dir string }

// inWorkTree reports whether r.dir is inside a git work tree (not inside .git itself).
func (r gitRunner) inWorkTree() (bool, error) {
	out, _, err := r.run("rev-parse", "--is-inside-work-tree")
	if err != nil && strings.Contains(err.Error(), "not a git repository") {
		return false, nil
	}
	if err != nil {
		// Such as "dubious ownership": git sees a repository but will not work in it.
		return false, err
	}
	return strings.TrimSpace(out) == "true", nil
}

// run runs git in r.dir. Exit status 0 gives ok, 1 gives !ok; anything else is an error
// carrying git's message.
func (r gitRunner) run(args ...string) (stdout string, ok bool, err error) {
	args = append([]string{"-C", r.dir}, args...)
	cmd := exec.Command(r.path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C") // untranslated messages, matched above
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return out.String(), true, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		return out.String(), false, nil
	}
	msg := strings.TrimSpace(errOut.String())
	return "", false, fmt.Errorf("git %s: %w: %s", strings.Join(args[2:], " "), err, msg)
}

// AddToGitignore appends an entry ignoring the file name in directory dir to
// dir/.gitignore, creating it (mode 0644) if needed and keeping the rest of it byte for
// byte. The entry is anchored ("/.env") so it matches only this file. It does not untrack
// a tracked file. The write is atomic, like WriteAtomic's, and keeps the file's mode.
func AddToGitignore(dir, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\n\r") {
		return fmt.Errorf("add %q to .gitignore: not a plain file name", name)
	}
	path := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %q: %w", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, gitignoreEntry(name)+"\n"...)
	keepMode := func(previous fs.FileInfo) fs.FileMode {
		if previous == nil {
			return 0o644
		}
		return previous.Mode().Perm()
	}
	_, _, err = replaceFile(path, data, keepMode)
	return err
}

// gitignoreEntry returns a pattern matching exactly the file name next to the .gitignore:
// a leading "/" anchors it, and a backslash quotes glob characters and spaces.
func gitignoreEntry(name string) string {
	var entry strings.Builder
	entry.WriteByte('/')
	for _, r := range name {
		if strings.ContainsRune(`*?[\ `, r) {
			entry.WriteByte('\\')
		}
		entry.WriteRune(r)
	}
	return entry.String()
}
