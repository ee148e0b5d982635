package secret

import (
	"regexp"
	"strings"
	"sync"
)

// cfastPattern matches Cloudflare's service-token secret format ("cfast_" plus 48
// alphanumerics), so a secret cfst was never told about is still scrubbed.
var cfastPattern = regexp.MustCompile(`cfast_[A-Za-z0-9]{20,}`)

// Scrubber replaces known secret values, and anything shaped like a Cloudflare secret, in
// text that is about to leave the process: verbose dumps, access logs, alert bodies. It is
// the second line of defence; the first is that Secret values are never formatted.
type Scrubber struct {
	mu     sync.RWMutex
	values []string
}

// Add registers secrets to scrub. Empty secrets are ignored.
func (s *Scrubber) Add(secrets ...Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range secrets {
		if !sec.IsZero() {
			s.values = append(s.values, sec.value)
		}
	}
}

// Scrub returns text with every registered secret and every cfast_ secret replaced.
func (s *Scrubber) Scrub(text string) string {
	if s != nil {
		s.mu.RLock()
		for _, v := range s.values {
			text = strings.ReplaceAll(text, v, Redacted)
		}
		s.mu.RUnlock()
	}
	return cfastPattern.ReplaceAllString(text, Redacted)
}
