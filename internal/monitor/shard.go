package monitor

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/cfst/cfst/internal/probe"
)

// Shard is the part of the services one monitor probes when several split them: shard
// Index of Count (0-based). The zero value, like 0/1, owns everything.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n", such as "0/3".
func ParseShard(text string) (Shard, error) {
	index, count, found := strings.Cut(strings.TrimSpace(text), "/")
	i, errIndex := strconv.Atoi(index)
	n, errCount := strconv.Atoi(count)
	if !found || errIndex != nil || errCount != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("invalid shard %q: write i/n with 0 <= i < n, such as 0/3",
			text)
	}
	return Shard{Index: i, Count: n}, nil
}

// String is "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// First reports whether this is shard 0, which also watches the tokens.
func (s Shard) First() bool { return s.Index == 0 }

// Owns reports whether the shard probes target. The split is a stable hash of the
// target's method and URL, so it does not change when other targets come or go, and
// every monitor of a fleet agrees on it without talking to the others.
func (s Shard) Owns(target probe.Target) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(targetKey(target)))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

// targetKey identifies a service across reloads and shards.
func targetKey(target probe.Target) string {
	method := target.Method
	if method == "" {
		method = "GET"
	}
	return method + " " + target.URL
}
