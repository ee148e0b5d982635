package dotenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriteAtomicNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	report, err := WriteAtomic(path, []byte("A=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (WriteReport{Path: path, Created: true}); report != want {
		t.Errorf("report = %+v, want %+v", report, want)
	}
	checkFile(t, path, "A=1\n", 0o600)
}

func TestWriteAtomicTightensMode(t *testing.T) {
	tests := []struct {
		mode, tightenedFrom fs.FileMode
	}{
		{0o644, 0o644}, {0o640, 0o640}, {0o666, 0o666}, {0o600, 0}, {0o400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			writeFileMode(t, path, "old", tc.mode)
			report, err := WriteAtomic(path, []byte("new"))
			if err != nil {
				t.Fatal(err)
			}
			if report.TightenedFrom != tc.tightenedFrom || report.Created {
				t.Errorf("report = %+v, want TightenedFrom %v", report, tc.tightenedFrom)
			}
			checkFile(t, path, "new", 0o600)
		})
	}
}

func TestWriteAtomicThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "secrets", "app.env")
	writeFileMode(t, real, "old", 0o644)
	link := filepath.Join(dir, ".env")
	mustSymlink(t, filepath.Join("secrets", "app.env"), link)
	chain := filepath.Join(dir, "chain.env")
	mustSymlink(t, ".env", chain)

	report, err := WriteAtomic(chain, []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if report.Path != real || report.TightenedFrom != 0o644 {
		t.Errorf("report = %+v, want Path %q and TightenedFrom 0644", report, real)
	}
	checkFile(t, real, "new", 0o600)
	for _, l := range []string{link, chain} {
		if info, err := os.Lstat(l); err != nil || info.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink (%v)", l, err)
		}
	}
}

func TestWriteAtomicDanglingSymlinkCreatesTarget(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, ".env")
	mustSymlink(t, "real.env", link)
	report, err := WriteAtomic(link, []byte("A=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real.env")
	if report.Path != real || !report.Created {
		t.Errorf("report = %+v, want a created %q", report, real)
	}
	checkFile(t, link, "A=1\n", 0o600)
}

func TestWriteAtomicRefusesNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dir.env")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".env")
	mustSymlink(t, "dir.env", link)
	_, err := WriteAtomic(link, []byte("A=1\n"))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("error = %v, want not a regular file", err)
	}
	checkNoTempFiles(t, dir)
}

// TestWriteAtomicFailedStep fails each step in turn: the error names the step and the
// path, the original stays intact (up to the rename) and no temporary file is left.
func TestWriteAtomicFailedStep(t *testing.T) {
	steps := []string{"set mode", "keep owner", "write temporary file", "sync temporary file",
		"close temporary file", "rename over target", "sync directory"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			writeFileMode(t, path, "old", 0o600)
			failStep = step
			defer func() { failStep = "" }()

			_, err := WriteAtomic(path, []byte("SECRET"))
			if !errors.Is(err, errInjected) {
				t.Fatalf("error = %v, want the injected failure", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, step) || !strings.Contains(msg, path) ||
				strings.Contains(msg, "SECRET") {
				t.Errorf("error %q should name the step and path, not the data", msg)
			}
			want := "old"
			if step == "sync directory" {
				want = "SECRET" // the rename is done; only durability is in doubt
			}
			checkFile(t, path, want, 0o600)
			checkNoTempFiles(t, filepath.Dir(path))
		})
	}
}

func TestWriteAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * staleTempAge)
	files := map[string]time.Time{
		".env.cfst-123.tmp":  old,        // stale: removed
		".env.cfst-456.tmp":  time.Now(), // another writer may be using it
		".env.cfst-abc.tmp":  old,        // not our pattern
		".other.cfst-1.tmp":  old,        // another target's
		".env.cfst-.tmp":     old,        // no random part
		"notes.env.cfst-1.t": old,
	}
	for name, modTime := range files {
		path := filepath.Join(dir, name)
		writeFileMode(t, path, "x", 0o600)
		if err := os.Chtimes(path, modTime, modTime); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteAtomic(filepath.Join(dir, ".env"), []byte("A=1\n")); err != nil {
		t.Fatal(err)
	}
	got := dirNames(t, dir)
	want := []string{".env", ".env.cfst-.tmp", ".env.cfst-456.tmp", ".env.cfst-abc.tmp",
		".other.cfst-1.tmp", "notes.env.cfst-1.t"}
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestLoadAndSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Existed() || f.Path() != path || len(f.Bytes()) != 0 {
		t.Fatalf("Load of a missing file: existed %v, path %q", f.Existed(), f.Path())
	}
	if err := f.Set("A", "1"); err != nil {
		t.Fatal(err)
	}
	if report, err := f.Save(); err != nil || !report.Created {
		t.Fatalf("Save = %+v, %v", report, err)
	}

	writeFileMode(t, path, "# kept\nA=1\n", 0o644)
	f, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Existed() || f.Mode() != 0o644 {
		t.Errorf("Load: existed %v, mode %v", f.Existed(), f.Mode())
	}
	if err := f.Set("A", "2"); err != nil {
		t.Fatal(err)
	}
	report, err := f.Save()
	if err != nil || report.TightenedFrom != 0o644 {
		t.Fatalf("Save = %+v, %v; want TightenedFrom 0644", report, err)
	}
	if _, err := f.Save(); err != nil {
		t.Fatalf("a second Save: %v", err)
	}
	checkFile(t, path, "# kept\nA=2\n", 0o600)
}

func TestSaveRefusesConcurrentEdit(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	for _, existing := range []bool{true, false} {
		os.Remove(path)
		if existing {
			writeFileMode(t, path, "A=1\n", 0o600)
		}
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		writeFileMode(t, path, "A=1\nEDITED=1\n", 0o600) // someone else's edit
		if err := f.Set("B", "2"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Save(); !errors.Is(err, ErrChangedOnDisk) {
			t.Errorf("existing %v: Save error = %v, want ErrChangedOnDisk", existing, err)
		}
		checkFile(t, path, "A=1\nEDITED=1\n", 0o600)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.env")
	writeFileMode(t, bad, "A=1\nB='SECRET\n", 0o600)
	_, err := Load(bad)
	if err == nil || err.Error() != bad+" line 2: unterminated quote" {
		t.Errorf("Load error = %v, want %q", err, bad+" line 2: unterminated quote")
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load of a directory: %v", err)
	}
}

func TestSaveRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfst", "recovered")
	seen := map[string]bool{}
	for range 3 {
		path, err := SaveRecovery(dir, "ci/runner ../x", []byte("SECRET=1\n"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[path] {
			t.Errorf("SaveRecovery reused %q", path)
		}
		seen[path] = true
		checkFile(t, path, "SECRET=1\n", 0o600)
		name := filepath.Base(path)
		if filepath.Dir(path) != dir || !strings.HasPrefix(name, "ci_runner_.._x-") {
			t.Errorf("recovery file %q, want ci_runner_.._x-<time> in %q", path, dir)
		}
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("recovery directory: %v, %v; want mode 0700", info, err)
	}
}

func TestSaveRecoveryTightensDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, err := SaveRecovery(dir, "", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", info.Mode().Perm())
	}
	if !strings.HasPrefix(filepath.Base(path), "token-") {
		t.Errorf("unnamed token saved as %q", path)
	}
}

func checkFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != content {
		t.Errorf("%s holds %q, want %q", path, data, content)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), mode)
	}
}

func writeFileMode(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile keeps an existing mode
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, entry := range entries {
		names[i] = entry.Name()
	}
	return names
}

func checkNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range dirNames(t, dir) {
		if strings.Contains(name, tempInfix) {
			t.Errorf("temporary file %s left behind", name)
		}
	}
}
