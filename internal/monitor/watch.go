package monitor

import (
	"context"
	"os"
	"strconv"
	"time"
)

// FileWatch notices when files change: created, removed, or given a new modification
// time or size. It polls rather than subscribing to the file system, so it works on every
// platform and with editors (and cfst) that replace a file instead of writing it. It is
// not safe for concurrent use.
type FileWatch struct {
	paths []string
	stamp string
}

// NewFileWatch watches paths from now on.
func NewFileWatch(paths ...string) *FileWatch {
	w := &FileWatch{}
	w.Reset(paths...)
	return w
}

// Reset watches paths, as they are now, instead of the files watched before.
func (w *FileWatch) Reset(paths ...string) {
	w.paths = append([]string(nil), paths...)
	w.stamp = fileStamps(w.paths)
}

// Changed reports whether any file changed since NewFileWatch, Reset or the last call
// that reported a change.
func (w *FileWatch) Changed() bool {
	now := fileStamps(w.paths)
	if now == w.stamp {
		return false
	}
	w.stamp = now
	return true
}

// WatchFiles calls changed whenever one of paths changes (see FileWatch), checking every
// interval until ctx ends.
func WatchFiles(ctx context.Context, paths []string, interval time.Duration, changed func()) {
	watch := NewFileWatch(paths...)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if watch.Changed() {
			changed()
		}
	}
}

// fileStamps is one string that changes when any of the files does.
func fileStamps(paths []string) string {
	var stamps []byte
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			stamps = append(stamps, "missing;"...)
			continue
		}
		stamps = info.ModTime().AppendFormat(stamps, time.RFC3339Nano)
		stamps = append(stamps, ' ')
		stamps = strconv.AppendInt(stamps, info.Size(), 10)
		stamps = append(stamps, ';')
	}
	return string(stamps)
}
