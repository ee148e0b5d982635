// Package secret holds credentials in a type that cannot be printed by accident.
//
// A Secret formats as "[redacted]" through fmt, encoding/json, encoding/text and log/slog,
// so passing one to an error, a log line or a JSON report never leaks its value. The value
// is read only through Reveal, which makes every use greppable.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// Secret is a credential whose printing redacts. The zero value is the empty secret.
type Secret struct {
	value string
}

// New wraps value. The empty string gives the empty secret.
func New(value string) Secret { return Secret{value: value} }

// Reveal returns the value. Call it only where the value leaves the process on purpose:
// an HTTP header, a 0600 file, the environment of a child process, or --show-secret.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// Equal reports whether two secrets hold the same value.
func (s Secret) Equal(other Secret) bool { return s.value == other.value }

// String returns Redacted, or "" for the empty secret.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "secret.Secret(" + Redacted + ")" }

// Format makes every fmt verb, %x and %q included, print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalText makes encoding/json, YAML encoders and slog's text handler redact.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes log/slog redact.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
