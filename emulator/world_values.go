package emulator

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// durationForever is the duration of a service token that never expires.
const durationForever = "forever"

// The origin specs a world accepts; the edge interprets them.
const (
	originSpecOK         = "ok"
	originSpecDown       = "down"
	originSpecTunnelDown = "tunnel-down"
	originSpecSlow       = "slow:"
	originSpecStatus     = "status:"
)

// startOfTime stands in for the start of the emulator when a time is only checked.
var startOfTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// parseTokenDuration parses a service token duration: a positive Go duration, or forever
// (returned as 0).
func parseTokenDuration(s string) (time.Duration, error) {
	if s == durationForever {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q (want a positive Go duration such as 8760h "+
			"or 90m, or forever)", s)
	}
	return d, nil
}

// parsePositiveDuration parses a Go duration greater than zero.
func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q (want a positive Go duration such as 8760h "+
			"or 90m; units ns, us, ms, s, m, h)", s)
	}
	return d, nil
}

// parseWorldTime reads a time in a world: RFC 3339, "expired" (a day before start), or a
// duration relative to start ("-48h" in the past, "720h" or "+720h" in the future).
func parseWorldTime(s string, start time.Time) (time.Time, error) {
	if s == "expired" {
		return start.Add(-24 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return start.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want RFC 3339 such as "+
		"2027-01-31T12:00:00Z, a duration from now such as -48h or +720h, or expired)", s)
}

// checkOrigin checks an application's origin spec.
func checkOrigin(spec string) error {
	switch {
	case spec == "" || spec == originSpecOK || spec == originSpecDown ||
		spec == originSpecTunnelDown:
		return nil
	case strings.HasPrefix(spec, originSpecSlow):
		d, err := time.ParseDuration(strings.TrimPrefix(spec, originSpecSlow))
		if err != nil || d < 0 {
			return fmt.Errorf("invalid delay in origin %q (want slow:<duration> such as slow:2s)",
				spec)
		}
		return nil
	case strings.HasPrefix(spec, originSpecStatus):
		code, err := strconv.Atoi(strings.TrimPrefix(spec, originSpecStatus))
		if err != nil || code < 100 || code > 599 {
			return fmt.Errorf("invalid status in origin %q (want status:<code> such as "+
				"status:503)", spec)
		}
		return nil
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" {
			return fmt.Errorf("invalid origin URL %q", spec)
		}
		return nil
	}
	return fmt.Errorf("unknown origin %q (want ok, down, tunnel-down, slow:<duration>, "+
		"status:<code> or a URL)", spec)
}

func quote(s string) string { return strconv.Quote(s) }
