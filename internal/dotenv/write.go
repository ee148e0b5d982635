package dotenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteReport says what WriteAtomic did, for the CLI to tell the user.
type WriteReport struct {
	// Path is the file written: the target of a symlink rather than the link itself.
	Path string
	// Created is true when no file existed before.
	Created bool
	// TightenedFrom holds the permission bits of the previous file when they were looser
	// than 0600 (such as 0644), and is 0 otherwise.
	TightenedFrom fs.FileMode
}

// Names of the temporary files WriteAtomic creates next to a target: ".env.cfst-123.tmp"
// for ".env", ".app.env.cfst-123.tmp" for "app.env".
const (
	tempInfix  = ".cfst-"
	tempSuffix = ".tmp"
	// staleTempAge is how old a temporary file left by a killed writer must be before a
	// later write removes it. A live write lasts milliseconds.
	staleTempAge = time.Minute
)

// failStep, when a test sets it to a step name, makes that step of a write fail.
var failStep string

var errInjected = errors.New("injected failure")

// WriteAtomic replaces the file at path with data, or leaves it untouched on error.
//
// It writes a temporary file in the same directory (created 0600 with O_EXCL), fsyncs it,
// renames it over the target and fsyncs the directory, so a crash at any moment leaves
// either the complete old or the complete new file. The result has mode 0600; a looser
// previous mode is reported in TightenedFrom. The owner is kept: when root rewrites a
// user's file it stays the user's, and a writer who cannot give the file back to its
// owner fails at the "keep owner" step rather than leave them a file they cannot read.
// If path is a symlink, the file it points to is replaced and the link is
// left as it is. Temporary files of killed writers older than a minute are removed by the
// next write to the same file. Errors name the failed step and the path, never the data.
// If only the final directory fsync fails, the new content is in place but may not survive
// a power loss.
func WriteAtomic(path string, data []byte) (WriteReport, error) {
	onlyOwner := func(fs.FileInfo) fs.FileMode { return 0o600 }
	target, previous, err := replaceFile(path, data, onlyOwner)
	if err != nil {
		return WriteReport{}, err
	}
	report := WriteReport{Path: target, Created: previous == nil}
	if previous != nil && previous.Mode().Perm()&^0o600 != 0 {
		report.TightenedFrom = previous.Mode().Perm()
	}
	return report, nil
}

// replaceFile atomically writes data to path, or to the file a symlink at path points to,
// with the permission bits perm picks given the previous file's info (nil if none). It
// returns the path written and the previous file's info.
func replaceFile(path string, data []byte, perm func(previous fs.FileInfo) fs.FileMode) (
	string, fs.FileInfo, error) {
	target, err := resolveSymlinks(path)
	if err != nil {
		return "", nil, stepError(path, "resolve symlink", err)
	}
	previous, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		previous = nil
	case err != nil:
		return "", nil, stepError(target, "inspect existing file", err)
	case !previous.Mode().IsRegular():
		return "", nil, stepError(target, "inspect existing file", errors.New("not a regular file"))
	}
	if err := writeViaTemp(target, data, perm(previous), previous); err != nil {
		return "", nil, err
	}
	return target, previous, nil
}

// writeViaTemp does the temporary-file dance; on failure it removes the temporary file.
func writeViaTemp(target string, data []byte, perm fs.FileMode, previous fs.FileInfo) (
	err error) {
	dir, base := filepath.Dir(target), filepath.Base(target)
	removeStaleTemps(dir, base)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*"+tempSuffix)
	if err != nil {
		return stepError(target, "create temporary file", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	steps := []struct {
		name string
		run  func() error
	}{
		{"set mode", func() error { return tmp.Chmod(perm) }},
		{"keep owner", func() error { return keepOwner(tmp, previous) }},
		{"write temporary file", func() error { _, err := tmp.Write(data); return err }},
		{"sync temporary file", tmp.Sync},
		{"close temporary file", tmp.Close},
		{"rename over target", func() error { return os.Rename(tmp.Name(), target) }},
		{"sync directory", func() error { return syncDir(dir) }},
	}
	for _, step := range steps {
		if failStep == step.name {
			return stepError(target, step.name, errInjected)
		}
		if err := step.run(); err != nil {
			return stepError(target, step.name, err)
		}
	}
	return nil
}

// stepError names the path and the step. It drops the path os errors carry, which for
// most steps is the temporary file's.
func stepError(path, step string, err error) error {
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	switch {
	case errors.As(err, &pathErr):
		err = pathErr.Err
	case errors.As(err, &linkErr):
		err = linkErr.Err
	}
	return fmt.Errorf("write %q: %s: %w", path, step, err)
}

// resolveSymlinks follows symlinks at path, even to a target that does not exist yet.
func resolveSymlinks(path string) (string, error) {
	for range 40 {
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return "", err
		}
		path = filepath.Join(dir, filepath.Base(path))
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || err == nil && info.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		path = link
	}
	return "", errors.New("too many levels of symbolic links")
}

// removeStaleTemps removes temporary files that writers killed mid-write left next to
// base. It is best effort: a file it cannot remove only costs disk space.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, entry := range entries {
		if !isTempName(entry.Name(), base) {
			continue
		}
		info, err := entry.Info()
		if err == nil && time.Since(info.ModTime()) > staleTempAge {
			os.Remove(filepath.Join(dir, entry.Name()))
		}
	}
}

// tempPrefix starts the temporary file names for base, hidden like ".env" itself.
func tempPrefix(base string) string {
	if !strings.HasPrefix(base, ".") {
		base = "." + base
	}
	return base + tempInfix
}

// isTempName reports whether name is one of WriteAtomic's temporary files for base.
func isTempName(name, base string) bool {
	random, ok := strings.CutPrefix(name, tempPrefix(base))
	random, ok2 := strings.CutSuffix(random, tempSuffix)
	if !ok || !ok2 || random == "" {
		return false
	}
	return strings.Trim(random, "0123456789") == ""
}
