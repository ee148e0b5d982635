package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Duration
		forever  bool
		apiValue string
	}{
		{in: "1d", want: 24 * time.Hour, apiValue: "24h"},
		{in: "1w", want: 168 * time.Hour, apiValue: "168h"},
		{in: "30d", want: 720 * time.Hour, apiValue: "720h"},
		{in: "6mo", want: 4380 * time.Hour, apiValue: "4380h"},
		{in: "1y", want: 8760 * time.Hour, apiValue: "8760h"},
		{in: "1y6mo", want: 13140 * time.Hour, apiValue: "13140h"},
		{in: "1d12h", want: 36 * time.Hour, apiValue: "36h"},
		{in: "8760h", want: 8760 * time.Hour, apiValue: "8760h"},
		{in: "90m", want: 90 * time.Minute, apiValue: "1h30m0s"},
		{in: "2h45m", want: 165 * time.Minute, apiValue: "2h45m0s"},
		{in: "1.5h", want: 90 * time.Minute, apiValue: "1h30m0s"},
		{in: " 2w ", want: 336 * time.Hour, apiValue: "336h"},
		{in: "forever", forever: true, apiValue: "forever"},
		{in: "Forever", forever: true, apiValue: "forever"},
	}
	for _, tt := range tests {
		got, err := parseLifetime(tt.in)
		if err != nil {
			t.Errorf("parseLifetime(%q): %v", tt.in, err)
			continue
		}
		if got.Forever != tt.forever || got.Length != tt.want {
			t.Errorf("parseLifetime(%q) = %+v, want %v forever=%v", tt.in, got, tt.want, tt.forever)
		}
		if v := got.APIValue(); v != tt.apiValue {
			t.Errorf("parseLifetime(%q).APIValue() = %q, want %q", tt.in, v, tt.apiValue)
		}
	}
}

func TestParseLifetimeErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "empty duration"},
		{"1", `invalid duration "1": missing unit after "1"`},
		{"1x", `invalid duration "1x": unknown unit "x"`},
		{"d", `invalid duration "d": expected a number at "d"`},
		{"-5h", `invalid duration "-5h": expected a number at "-5h"`},
		{"1..2h", `invalid duration "1..2h": bad number "1..2"`},
		{"1day", `invalid duration "1day": unknown unit "day"`},
		{"30s", `invalid duration "30s": a token must live at least 1m`},
		{"0", `invalid duration "0": a token must live at least 1m`},
		{"99999999y", `invalid duration "99999999y": too long`},
		{"never", `invalid duration "never": expected a number at "never"`},
	}
	for _, tt := range tests {
		_, err := parseLifetime(tt.in)
		if err == nil {
			t.Errorf("parseLifetime(%q): no error", tt.in)
			continue
		}
		if err.Error() != tt.wantErr {
			t.Errorf("parseLifetime(%q) error = %q, want %q", tt.in, err, tt.wantErr)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("parseLifetime(%q) error spans lines: %q", tt.in, err)
		}
	}
}

func TestParseDurationZero(t *testing.T) {
	for _, in := range []string{"0", "0s", "0h", "0d"} {
		got, err := parseDuration(in)
		if err != nil || got != 0 {
			t.Errorf("parseDuration(%q) = %v, %v; want 0", in, got, err)
		}
	}
}
