// Package dotenv reads and edits .env files that hold service-token credentials without
// losing a byte of anything else in them.
//
// A File keeps every line as written: comments, blank lines, "export " prefixes, quoting
// style and order. Set rewrites only the value of the lines that assign its key, and
// Bytes gives back the rest unchanged. Values are written so that
//
//	set -a; source .env
//
// in bash yields exactly the stored value. Get returns a value after quote removal, as
// bash would, but performs no $VAR, `command` or ~ expansion: such text is returned as
// written. Text bash would run as a command (an unquoted ";", "KEY=a b") is a SyntaxError.
//
// Save and WriteAtomic replace the file atomically with mode 0600; see WriteAtomic.
package dotenv

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrChangedOnDisk reports that Save found the file different from what Load read, so
// writing would discard someone else's edit.
var ErrChangedOnDisk = errors.New("file changed on disk since it was read")

// File is a parsed .env file. The zero value is an empty file with no path.
type File struct {
	path    string
	lines   []line
	existed bool
	mode    fs.FileMode

	// What Load saw on disk, so Save can refuse to overwrite a concurrent edit.
	loaded   bool
	diskHash [sha256.Size]byte
}

// Load reads and parses the .env file at path, following symlinks. A missing file gives an
// empty File that remembers path; Existed tells the two apart.
func Load(path string) (*File, error) {
	data, info, err := readRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{path: path, loaded: true}, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	f.existed, f.mode = true, info.Mode().Perm()
	f.loaded, f.diskHash = true, sha256.Sum256(data)
	return f, nil
}

// readRegular reads path, refusing anything but a regular file (a FIFO would block).
func readRegular(path string) ([]byte, fs.FileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %q: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("read %q: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %q: %w", path, err)
	}
	return data, info, nil
}

// Parse parses the content of a .env file. name appears in errors and is the path Save
// writes to. Errors are *SyntaxError values naming the line, never its content.
func Parse(name string, data []byte) (*File, error) {
	lines, err := parseLines(name, data)
	if err != nil {
		return nil, err
	}
	return &File{path: name, lines: lines}, nil
}

// Path returns the path the file was loaded from and is saved to.
func (f *File) Path() string { return f.path }

// Existed reports whether Load found the file on disk.
func (f *File) Existed() bool { return f.existed }

// Mode returns the permission bits the file had when Load read it, or 0.
func (f *File) Mode() fs.FileMode { return f.mode }

// Get returns the value of key. If the key is assigned more than once, the last assignment
// wins, as in bash.
func (f *File) Get(key string) (string, bool) {
	for i := len(f.lines) - 1; i >= 0; i-- {
		if f.lines[i].key == key {
			return f.lines[i].value, true
		}
	}
	return "", false
}

// Keys returns the assigned keys in the order they first appear.
func (f *File) Keys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, l := range f.lines {
		if l.key != "" && !seen[l.key] {
			seen[l.key] = true
			keys = append(keys, l.key)
		}
	}
	return keys
}

// Set gives key the value. Every line assigning key keeps its place, indentation, export
// prefix and trailing comment; only the value text changes, so no stale copy of an old
// secret survives. An absent key is appended as KEY=value on a new last line. Set refuses
// a key that is not a shell name and a value with a NUL byte, which no shell can hold.
func (f *File) Set(key, value string) error {
	if err := checkAssignment(key, value); err != nil {
		return err
	}
	f.set(key, value)
	return nil
}

// set is Set for a checked key and value.
func (f *File) set(key, value string) {
	quoted := quote(value)
	found := false
	for i := range f.lines {
		l := &f.lines[i]
		if l.key != key {
			continue
		}
		l.raw = l.raw[:l.valueStart] + quoted + l.raw[l.valueEnd:]
		l.value, l.valueEnd = value, l.valueStart+len(quoted)
		found = true
	}
	if !found {
		f.appendLine(key, quoted, value)
	}
}

func checkAssignment(key, value string) error {
	if !validName(key) {
		return fmt.Errorf("invalid key %q: use letters, digits and underscores", key)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("value for %s contains a NUL byte, which a shell cannot hold", key)
	}
	return nil
}

func (f *File) appendLine(key, quoted, value string) {
	if n := len(f.lines); n > 0 && !strings.HasSuffix(f.lines[n-1].raw, "\n") {
		f.lines[n-1].raw += "\n"
	}
	prefix := key + "="
	f.lines = append(f.lines, line{
		raw:        prefix + quoted + "\n",
		key:        key,
		value:      value,
		valueStart: len(prefix),
		valueEnd:   len(prefix) + len(quoted),
	})
}

// Delete removes every line that assigns key, and nothing else. It reports whether there
// was one.
func (f *File) Delete(key string) bool {
	kept := f.lines[:0]
	for _, l := range f.lines {
		if l.key != key {
			kept = append(kept, l)
		}
	}
	deleted := len(kept) < len(f.lines)
	clear(f.lines[len(kept):])
	f.lines = kept
	return deleted
}

// Bytes returns the file's content.
func (f *File) Bytes() []byte {
	var buf bytes.Buffer
	for _, l := range f.lines {
		buf.WriteString(l.raw)
	}
	return buf.Bytes()
}

// Save writes the file back to its path with WriteAtomic. For a File from Load, it first
// checks that the file on disk is still what Load read and returns ErrChangedOnDisk if
// not; a change in the moment between that check and the rename is not detected.
func (f *File) Save() (WriteReport, error) {
	data := f.Bytes()
	if err := f.checkUnchanged(); err != nil {
		return WriteReport{}, err
	}
	report, err := WriteAtomic(f.path, data)
	if err != nil {
		return report, err
	}
	f.existed, f.mode = true, 0o600
	f.diskHash = sha256.Sum256(data)
	return report, nil
}

func (f *File) checkUnchanged() error {
	if !f.loaded {
		return nil
	}
	data, _, err := readRegular(f.path)
	exists := !errors.Is(err, fs.ErrNotExist)
	if err != nil && exists {
		return err
	}
	if exists != f.existed || exists && sha256.Sum256(data) != f.diskHash {
		return fmt.Errorf("save %q: %w", f.path, ErrChangedOnDisk)
	}
	return nil
}

// quote returns value as bash source text: bare when every byte is in [A-Za-z0-9_./:@+-],
// otherwise in single quotes. Inside those only ' is special: for each one, the quoting is
// closed, \' added and the quoting reopened.
func quote(value string) string {
	simple := true
	for i := 0; i < len(value) && simple; i++ {
		c := value[i]
		simple = isNameByte(c, false) || strings.IndexByte("./:@+-", c) >= 0
	}
	if simple {
		return value
	}
	return "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
}
