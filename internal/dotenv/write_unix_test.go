//go:build unix

package dotenv

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper process that TestHelperProcess turns into.
const (
	helperEnv     = "DOTENV_TEST_HELPER" // what the helper does: "rewrite" or "unprivileged"
	helperPathEnv = "DOTENV_TEST_PATH"
	nobody        = 65534
)

// TestHelperProcess is not a test: the tests below run the test binary again with
// helperEnv set, and this function then does the helper's job and exits.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	switch os.Getenv(helperEnv) {
	case "":
		return
	case "rewrite":
		rewriteForever(path)
	case "unprivileged":
		writeUnprivileged(path)
	}
	os.Exit(3)
}

// rewriteForever alternates the file between the two crash-test contents until killed.
func rewriteForever(path string) {
	contents := crashContents()
	fmt.Println("ready")
	for i := 0; ; i++ {
		if _, err := WriteAtomic(path, contents[i%2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}

// writeUnprivileged drops root privileges (which ignore directory permissions), tries
// to write, and prints the error.
func writeUnprivileged(path string) {
	if os.Geteuid() == 0 {
		if err := syscall.Setgid(nobody); err != nil {
			fmt.Println("setgid:", err)
			os.Exit(2)
		}
		if err := syscall.Setuid(nobody); err != nil {
			fmt.Println("setuid:", err)
			os.Exit(2)
		}
	}
	_, err := WriteAtomic(path, []byte("NEW=SECRET\n"))
	fmt.Print(err)
	os.Exit(0)
}

// letNobodyIn opens dir, made by t.TempDir, and its parent to an unprivileged helper.
func letNobodyIn(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func helperCommand(mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path,
		"GORACE=atexit_sleep_ms=0") // under -race, a helper would otherwise linger a second
	return cmd
}

// crashContents are two large .env files of different sizes; a torn write of either shows.
func crashContents() [2][]byte {
	return [2][]byte{
		bytes.Repeat([]byte("# comment\nOLD_KEY='old value'\n"), 8000),
		bytes.Repeat([]byte("NEW_KEY=\"new value, longer than the old one\"\n"), 8000),
	}
}

// TestWriteAtomicSurvivesKill kills a process that rewrites a file in a loop, hundreds of
// times at random moments, and checks that the file is always one complete version. Each
// kill during a write leaves a temporary file; the next write removes those older than a
// minute, which the end of the test checks by ageing them.
func TestWriteAtomicSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	contents := crashContents()
	if _, err := WriteAtomic(path, contents[0]); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[int]int{}
	for range 300 {
		killDuringRewrite(t, path, time.Duration(rng.IntN(4000))*time.Microsecond)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(data, contents[0]):
			seen[0]++
		case bytes.Equal(data, contents[1]):
			seen[1]++
		default:
			t.Fatalf("after a kill the file holds %d bytes matching neither version", len(data))
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("after a kill: %v, %v; want mode 0600", info, err)
		}
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("the file never changed between kills (%v): the helper did not write", seen)
	}
	leftovers := tempFiles(t, dir)
	t.Logf("old content %d times, new %d times; %d temporary files left by kills",
		seen[0], seen[1], len(leftovers))

	aged := time.Now().Add(-2 * staleTempAge)
	for _, name := range leftovers {
		if err := os.Chtimes(filepath.Join(dir, name), aged, aged); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteAtomic(path, contents[0]); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("after cleanup the directory holds %q, want only .env", names)
	}
}

func killDuringRewrite(t *testing.T, path string, delay time.Duration) {
	t.Helper()
	cmd := helperCommand("rewrite", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not start: %q, %v\n%s", line, err, stderr.Bytes())
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() {
		t.Fatalf("helper ended on its own: %v\n%s", err, stderr.Bytes())
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, name := range dirNames(t, dir) {
		if name != ".env" {
			if !isTempName(name, ".env") {
				t.Errorf("unexpected file %q", name)
			}
			names = append(names, name)
		}
	}
	return names
}

// TestWriteAtomicReadOnlyDirectory runs the write as an unprivileged helper process, so
// that the test works as root too.
func TestWriteAtomicReadOnlyDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ro")
	path := filepath.Join(dir, ".env")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFileMode(t, path, "OLD=1\n", 0o644)
	letNobodyIn(t, parent)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })

	out, err := helperCommand("unprivileged", path).Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	msg := string(out)
	want := fmt.Sprintf("write %q: create temporary file: permission denied", path)
	if msg != want {
		t.Errorf("error = %q, want %q", msg, want)
	}
	checkFile(t, path, "OLD=1\n", 0o644)
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only .env", names)
	}
}

// TestWriteAtomicKeepsOwner checks that root rewriting a user's file leaves it the user's.
// Run as another user, it checks the file stays that user's.
func TestWriteAtomicKeepsOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	writeFileMode(t, path, "A=1\n", 0o600)
	wantUID := os.Geteuid()
	if wantUID == 0 {
		wantUID = nobody
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteAtomic(path, []byte("A=2\n")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if uid := int(info.Sys().(*syscall.Stat_t).Uid); uid != wantUID {
		t.Errorf("owner uid %d, want %d", uid, wantUID)
	}
}

// TestWriteAtomicRefusesToStealFile: a non-root writer cannot give the new file to the old
// owner, so it refuses rather than leave the owner a 0600 file they cannot read.
func TestWriteAtomicRefusesToStealFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a file owned by another user")
	}
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	letNobodyIn(t, filepath.Dir(dir))
	path := filepath.Join(dir, ".env")
	writeFileMode(t, path, "A=1\n", 0o644) // root's, in a directory nobody may write
	out, err := helperCommand("unprivileged", path).Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "keep owner: operation not permitted") {
		t.Errorf("error = %q, want keep owner refused", out)
	}
	checkFile(t, path, "A=1\n", 0o644)
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only .env", names)
	}
}
