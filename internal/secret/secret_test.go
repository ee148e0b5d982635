package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "cfast_CANARYcanaryCANARYcanaryCANARYcanary12abcdef"

func TestSecretNeverFormats(t *testing.T) {
	s := New(canary)
	type report struct {
		Name   string
		Secret Secret
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, report{"n", s}))
	}
	js, err := json.Marshal(report{"n", s})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js), fmt.Errorf("wrapped: %v", s).Error())

	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("msg", "secret", s)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("msg", "secret", s)
	outputs = append(outputs, logBuf.String())

	for _, out := range outputs {
		if strings.Contains(out, canary) || strings.Contains(out, "CANARY") {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("no redaction marker in %q", out)
		}
	}
	if s.Reveal() != canary {
		t.Fatal("Reveal lost the value")
	}
}

func TestScrubber(t *testing.T) {
	var sc Scrubber
	sc.Add(New("0123456789abcdef0123"), Secret{})
	in := "hdr: 0123456789abcdef0123 other: " + canary + " end"
	got := sc.Scrub(in)
	if strings.Contains(got, "0123456789abcdef0123") || strings.Contains(got, "CANARY") {
		t.Fatalf("not scrubbed: %q", got)
	}
	if want := "hdr: [redacted] other: [redacted] end"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	var nilScrubber *Scrubber
	if got := nilScrubber.Scrub(canary); got != Redacted {
		t.Fatalf("nil scrubber: %q", got)
	}
}
