// Package filewatch notices when files change, by polling their state.
//
// Polling works on every platform and sees the ways files really change: edited in
// place, or replaced by a rename, as editors and cfst do. A Watch compares each file's
// existence, size, modification time and identity (its inode on Unix), so a same-size
// rewrite by rename is seen even within one tick of the file system's clock.
package filewatch

import (
	"os"
	"slices"
)

// Watch notices when any of a set of files changes: created, removed, written, or
// replaced by a rename. It is not safe for concurrent use.
type Watch struct {
	paths  []string
	states []fileState
}

// fileState is what a Watch compares of one file.
type fileState struct {
	exists  bool
	size    int64
	modTime int64 // nanoseconds since the Unix epoch
	id      fileID
}

// New watches paths as they are now.
func New(paths ...string) *Watch {
	w := &Watch{}
	w.Reset(paths...)
	return w
}

// Reset watches paths, as they are now, instead of the files watched before.
func (w *Watch) Reset(paths ...string) {
	w.paths = slices.Clone(paths)
	w.states = statAll(w.paths)
}

// Changed reports whether any file changed since New, Reset or the last call that
// reported a change. A file rewritten in place with the same size within one tick of
// the clock goes unseen; cfst and most editors replace files by rename instead.
func (w *Watch) Changed() bool {
	now := statAll(w.paths)
	if slices.Equal(now, w.states) {
		return false
	}
	w.states = now
	return true
}

func statAll(paths []string) []fileState {
	states := make([]fileState, len(paths))
	for i, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			continue // missing or unreadable: the zero state
		}
		states[i] = fileState{exists: true, size: info.Size(),
			modTime: info.ModTime().UnixNano(), id: identity(info)}
	}
	return states
}
