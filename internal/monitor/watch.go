package monitor

import (
	"context"
	"os"
	"strconv"
	"time"
)

// WatchFiles calls changed whenever one of paths is created, removed, or gets a new
// modification time or size, checking every interval until ctx ends. It polls rather than
// subscribing to the file system, so it works on every platform and with editors that
// replace a file instead of writing it.
func WatchFiles(ctx context.Context, paths []string, interval time.Duration, changed func()) {
	last := fileStamps(paths)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now := fileStamps(paths)
		if now != last {
			last = now
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
