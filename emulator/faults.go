package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes matching requests slow or failed, to exercise a client's retries and error
// handling. A fault with an empty Host applies to the Cloudflare API (Path is then the
// path after /client/v4); one with a Host applies to the edge for that hostname. Faults
// are tried in the order they were added; the first that matches and has times left
// fires, once per request. Faults never apply to the admin API. An edge fault answers
// with the edge's cf-ray and Server headers, as Cloudflare's own errors do.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string `yaml:"method,omitempty"`
	// Host is a hostname pattern for edge faults, such as "jaeger.example.com" or
	// "*.example.com"; empty for API faults.
	Host string `yaml:"host,omitempty"`
	// Path is a pattern where * matches within one path segment, and a final "/**"
	// matches any rest: "/accounts/*/access/service_tokens". Empty matches any path.
	Path string `yaml:"path,omitempty"`
	// Status is the status to answer with (400-599), or 0 to only add Latency. 429 answers
	// like Cloudflare's rate limit, code 971.
	Status int `yaml:"status,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when not 0.
	RetryAfter int `yaml:"retry_after,omitempty"`
	// Latency delays the answer.
	Latency time.Duration `yaml:"latency,omitempty"`
	// Times is how often the fault fires; 0 means every time.
	Times int `yaml:"times,omitempty"`
}

// faultJSON is a Fault in the admin API, with the latency as a Go duration string.
type faultJSON struct {
	Method     string `json:"method,omitempty"`
	Host       string `json:"host,omitempty"`
	Path       string `json:"path,omitempty"`
	Status     int    `json:"status,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
	Latency    string `json:"latency,omitempty"`
	Times      int    `json:"times,omitempty"`
	Fired      int    `json:"fired"`
}

// MarshalJSON writes the latency as a duration string such as "200ms".
func (f Fault) MarshalJSON() ([]byte, error) { return json.Marshal(f.toJSON(0)) }

func (f Fault) toJSON(fired int) faultJSON {
	out := faultJSON{Method: f.Method, Host: f.Host, Path: f.Path, Status: f.Status,
		RetryAfter: f.RetryAfter, Times: f.Times, Fired: fired}
	if f.Latency != 0 {
		out.Latency = f.Latency.String()
	}
	return out
}

// UnmarshalJSON reads the latency as a duration string such as "200ms".
func (f *Fault) UnmarshalJSON(data []byte) error {
	var in faultJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*f = Fault{Method: in.Method, Host: in.Host, Path: in.Path, Status: in.Status,
		RetryAfter: in.RetryAfter, Times: in.Times}
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil {
			return fmt.Errorf("invalid latency %q (want a Go duration such as 200ms)", in.Latency)
		}
		f.Latency = d
	}
	return nil
}

// check returns the name of the first invalid field and what is wrong with it.
func (f Fault) check() (field string, err error) {
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return "status", fmt.Errorf("want a status from 400 to 599, or 0 for latency only, got %d",
			f.Status)
	case f.Status == 0 && f.Latency == 0:
		return "status", fmt.Errorf("a fault needs a status, a latency or both")
	case f.RetryAfter < 0:
		return "retry_after", fmt.Errorf("want seconds, 0 or more, got %d", f.RetryAfter)
	case f.Latency < 0:
		return "latency", fmt.Errorf("want a duration, 0 or more, got %s", f.Latency)
	case f.Times < 0:
		return "times", fmt.Errorf("want a count, 0 (always) or more, got %d", f.Times)
	case f.Path != "" && !strings.HasPrefix(f.Path, "/"):
		return "path", fmt.Errorf("want a path starting with /, got %q", f.Path)
	}
	if _, err := path.Match(f.Path, "/"); err != nil {
		return "path", fmt.Errorf("invalid pattern %q", f.Path)
	}
	if _, err := path.Match(f.Host, "x"); err != nil {
		return "host", fmt.Errorf("invalid pattern %q", f.Host)
	}
	return "", nil
}

func (w *World) checkFaults() error {
	for i, f := range w.Faults {
		if field, err := f.check(); err != nil {
			return problemAt(fieldPath{"faults", i, field}, "%v", err)
		}
	}
	return nil
}

// matches reports whether f applies to a request. host is "" for an API request.
func (f Fault) matches(method, host, urlPath string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if (f.Host == "") != (host == "") {
		return false
	}
	if f.Host != "" {
		if ok, _ := path.Match(strings.ToLower(f.Host), host); !ok {
			return false
		}
	}
	return pathMatches(f.Path, urlPath)
}

func pathMatches(pattern, urlPath string) bool {
	if pattern == "" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		parts := strings.Split(urlPath, "/")
		n := strings.Count(prefix, "/") + 1 // the parts of prefix, the empty first one included
		if len(parts) < n {
			return false
		}
		ok, _ := path.Match(prefix, strings.Join(parts[:n], "/"))
		return ok
	}
	ok, _ := path.Match(pattern, strings.TrimSuffix(urlPath, "/"))
	return ok
}

// faultTable holds the faults in force and how often each fired.
type faultTable struct {
	mu     sync.Mutex
	faults []*activeFault
}

type activeFault struct {
	Fault
	fired int
}

func (t *faultTable) add(faults ...Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range faults {
		t.faults = append(t.faults, &activeFault{Fault: f})
	}
}

func (t *faultTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = nil
}

func (t *faultTable) list() []faultJSON {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]faultJSON, 0, len(t.faults))
	for _, f := range t.faults {
		out = append(out, f.toJSON(f.fired))
	}
	return out
}

// fire returns the first fault that matches and has times left, counting it as fired.
func (t *faultTable) fire(method, host, urlPath string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.faults {
		if (f.Times == 0 || f.fired < f.Times) && f.matches(method, host, urlPath) {
			f.fired++
			return f.Fault, true
		}
	}
	return Fault{}, false
}

// InjectFault adds a fault to those in force.
func (s *Server) InjectFault(f Fault) error {
	if field, err := f.check(); err != nil {
		return fmt.Errorf("emulator: invalid fault %s: %w", field, err)
	}
	s.state.faults.add(f)
	return nil
}

// ClearFaults removes every fault, those of the world included.
func (s *Server) ClearFaults() { s.state.faults.clear() }

// delay waits for the fault's latency, or until the client goes away. It reports whether
// the request should go on.
func (f Fault) delay(ctx context.Context) bool {
	if f.Latency <= 0 {
		return true
	}
	timer := time.NewTimer(f.Latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// injectEdgeFault applies a fault to a request for an edge hostname. It reports whether
// the fault answered the request.
func (s *Server) injectEdgeFault(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.state.faults.fire(r.Method, hostOnly(r.Host), r.URL.Path)
	if !ok {
		return false
	}
	if !f.delay(r.Context()) {
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, "error code: %d\n", f.Status)
	return true
}

// rateLimiter is a fixed-window limit per API token, on the emulator's clock.
type rateLimiter struct {
	mu       sync.Mutex
	limit    int
	window   time.Duration
	counters map[string]*windowCount
}

type windowCount struct {
	start time.Time
	count int
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, counters: map[string]*windowCount{}}
}

// allow counts a request by key at now. When the limit is reached it returns false and
// the seconds until the window ends.
func (l *rateLimiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counters[key]
	if c == nil || !now.Before(c.start.Add(l.window)) {
		c = &windowCount{start: now}
		l.counters[key] = c
	}
	if c.count >= l.limit {
		wait := c.start.Add(l.window).Sub(now)
		return false, int((wait + time.Second - 1) / time.Second)
	}
	c.count++
	return true, 0
}
