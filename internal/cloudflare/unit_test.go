package cloudflare

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/secret"
)

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	token := secret.New("s3cr3t-api-value")
	tests := []struct {
		name     string
		cfg      Config
		wantHint string // "" for a valid config
	}{
		{"valid", Config{APIToken: token, AccountID: "a"}, ""},
		{"zone only", Config{APIToken: token, ZoneID: "z"}, ""},
		{"no token", Config{AccountID: "a"}, EnvAPIToken},
		{"no scope", Config{APIToken: token}, EnvAccountID},
		{"path in id", Config{APIToken: token, AccountID: "a/../b"}, "32-character"},
		{"http base", Config{APIToken: token, AccountID: "a", BaseURL: "http://api.test"},
			EnvBaseURL},
		{"relative base", Config{APIToken: token, AccountID: "a", BaseURL: "api.test"},
			EnvBaseURL},
	}
	for _, tc := range tests {
		c, err := New(tc.cfg)
		if tc.wantHint == "" {
			if err != nil || c == nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e := requireKind(t, err, KindConfig, "s3cr3t-api-value")
		if !strings.Contains(e.Hint, tc.wantHint) {
			t.Errorf("%s: hint %q lacks %q", tc.name, e.Hint, tc.wantHint)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{EnvAPIToken: " tok \n", EnvAccountID: "acc", EnvZoneID: "",
		EnvBaseURL: "https://emulator.test/client/v4"}
	cfg := ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.APIToken.Reveal() != "tok" || cfg.AccountID != "acc" || cfg.ZoneID != "" ||
		cfg.BaseURL != env[EnvBaseURL] {
		t.Errorf("config %+v", cfg)
	}
	if strings.Contains(fmt.Sprintf("%+v", cfg), "tok ") {
		t.Error("config prints the token")
	}
}

func TestAttachOrdersLinks(t *testing.T) {
	t.Parallel()
	links := func(ids ...string) []policyLink {
		var out []policyLink
		for i, id := range ids {
			out = append(out, policyLink{ID: id, Precedence: (i + 1) * 10})
		}
		return out
	}
	tests := []struct {
		name       string
		links      []policyLink
		id         string
		precedence int
		want       []string
	}{
		{"first", links("a", "b"), "n", 1, []string{"n", "a", "b"}},
		{"middle", links("a", "b"), "n", 2, []string{"a", "n", "b"}},
		{"end by zero", links("a", "b"), "n", 0, []string{"a", "b", "n"}},
		{"past the end", links("a", "b"), "n", 9, []string{"a", "b", "n"}},
		{"empty", nil, "n", 3, []string{"n"}},
		{"move up", links("a", "b", "n"), "n", 1, []string{"n", "a", "b"}},
		{"already linked, zero", links("a", "n"), "n", 0, []string{"a", "n"}},
	}
	for _, tc := range tests {
		got := attach(slices.Clone(tc.links), tc.id, tc.precedence)
		var ids []string
		for i, l := range got {
			ids = append(ids, l.ID)
			if tc.name != "already linked, zero" && l.Precedence != i+1 {
				t.Errorf("%s: precedence %d at %d", tc.name, l.Precedence, i)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
		}
	}
}

func TestLastPage(t *testing.T) {
	t.Parallel()
	items := func(n int) page { return page{Result: make([]json.RawMessage, n)} }
	withInfo := func(pg page, perPage, totalCount, totalPages int) page {
		pg.ResultInfo = &resultInfo{PerPage: perPage, TotalCount: totalCount,
			TotalPages: totalPages}
		return pg
	}
	tests := []struct {
		name                  string
		pg                    page
		number, seen, perPage int
		want                  bool
	}{
		{"empty", items(0), 3, 200, 100, true},
		{"total pages reached", withInfo(items(100), 100, 0, 2), 2, 200, 100, true},
		{"total pages ahead", withInfo(items(100), 100, 0, 3), 2, 200, 100, false},
		{"total count reached", withInfo(items(1), 100, 201, 0), 3, 201, 100, true},
		{"server capped the page size", withInfo(items(50), 50, 0, 0), 1, 50, 100, false},
		{"short page", withInfo(items(49), 50, 0, 0), 2, 99, 100, true},
		{"no info, full page", items(100), 1, 100, 100, false},
		{"no info, short page", items(7), 1, 7, 100, true},
	}
	for _, tc := range tests {
		if got := lastPage(tc.pg, tc.number, tc.seen, tc.perPage); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{map[string]string{"Retry-After": "120"}, 2 * time.Minute, true},
		{map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond, true},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"},
			250 * time.Millisecond, true},
		{map[string]string{"Retry-After": "soon"}, 0, false},
		{map[string]string{}, 0, false},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got, ok := retryAfter(h); got != tc.want || ok != tc.ok {
			t.Errorf("%v: %s %v, want %s %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
	h := http.Header{"Retry-After": {future}}
	if got, ok := retryAfter(h); !ok || got < 80*time.Second || got > 90*time.Second {
		t.Errorf("date %s: %s %v", future, got, ok)
	}
}

func TestPermanentTransportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}, true},
		{&net.OpError{Op: "dial", Err: &net.DNSError{IsNotFound: true}}, true},
		{&net.DNSError{IsTemporary: true}, false},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, false},
		{fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), true},
		{io.ErrUnexpectedEOF, false},
	}
	for _, tc := range tests {
		if got := permanent(tc.err); got != tc.want {
			t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestCleanDetail(t *testing.T) {
	t.Parallel()
	got := cleanDetail("access.api.error.invalid_request: name is required", 400)
	if got != "name is required" {
		t.Errorf("prefix kept: %q", got)
	}
	if got := cleanDetail("", 418); got != "HTTP 418" {
		t.Errorf("empty detail: %q", got)
	}
	long := cleanDetail(strings.Repeat("é", 300), 400)
	if n := len([]rune(long)); n != maxDetail+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("long detail kept %d characters", n)
	}
}
