package filewatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// An hour ago: far enough from now that no write lands on it by chance.
var testModTime = time.Now().Add(-time.Hour).Truncate(time.Second)

// testWrite writes text to path with the modification time testModTime, as if every
// write came within one tick of the clock.
func testWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, testModTime, testModTime); err != nil {
		t.Fatal(err)
	}
}

func TestWatchChanged(t *testing.T) {
	cases := []struct {
		name       string
		before     string // the file's text before the change; "" for no file
		change     func(t *testing.T, path string)
		want       bool
		needsInode bool // seen only where the inode is known
	}{
		{"unchanged", "secret=one\n", func(*testing.T, string) {}, false, false},
		{"missing, still missing", "", func(*testing.T, string) {}, false, false},
		{"created", "", func(t *testing.T, path string) {
			testWrite(t, path, "secret=one\n")
		}, true, false},
		{"removed", "secret=one\n", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"written in place, longer", "secret=one\n", func(t *testing.T, path string) {
			testWrite(t, path, "secret=three\n")
		}, true, false},
		{"touched", "secret=one\n", func(t *testing.T, path string) {
			later := testModTime.Add(time.Second)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"renamed over, same size and time", "secret=one\n",
			func(t *testing.T, path string) {
				testWrite(t, path+".tmp", "secret=two\n")
				if err := os.Rename(path+".tmp", path); err != nil {
					t.Fatal(err)
				}
			}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needsInode && !identityKnown {
				t.Skip("this platform's file info has no inode")
			}
			path := filepath.Join(t.TempDir(), ".env")
			if c.before != "" {
				testWrite(t, path, c.before)
			}
			watch := New(path)
			c.change(t, path)
			if got := watch.Changed(); got != c.want {
				t.Errorf("Changed() = %v, want %v", got, c.want)
			}
			if watch.Changed() {
				t.Error("Changed() reported the same change twice")
			}
		})
	}
}

func TestWatchReset(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	watch := New(first)
	watch.Reset(first, second)
	testWrite(t, second, "services: []\n")
	if !watch.Changed() {
		t.Error("a file added by Reset is not watched")
	}
	watch.Reset(first)
	testWrite(t, second, "services: [a]\n")
	if watch.Changed() {
		t.Error("a file dropped by Reset is still watched")
	}
}
