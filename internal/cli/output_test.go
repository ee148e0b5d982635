package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

func TestRelativeTime(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		offset time.Duration
		want   string
	}{
		{0, "just now"},
		{30 * time.Second, "just now"},
		{5 * time.Minute, "in 5m"},
		{-5 * time.Minute, "5m ago"},
		{3 * time.Hour, "in 3h"},
		{-3*time.Hour - 10*time.Minute, "3h ago"},
		{24*time.Hour - time.Second, "in 24h"},
		{47 * time.Hour, "in 47h"},
		{12 * day, "in 12 days"},
		{-day * 3, "3 days ago"},
		{90 * day, "in 3 months"},
		{year, "in 12 months"},
		{-3 * year, "3 years ago"},
	}
	for _, tt := range tests {
		if got := relativeTime(now.Add(tt.offset), now); got != tt.want {
			t.Errorf("relativeTime(now%+v) = %q, want %q", tt.offset, got, tt.want)
		}
	}
}

func TestTokenStateOf(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	base := cloudflare.Token{Enabled: true, ExpiresAt: now.Add(200 * day), Duration: "8760h"}
	with := func(change func(*cloudflare.Token)) cloudflare.Token {
		tok := base
		change(&tok)
		return tok
	}
	tests := []struct {
		name  string
		tok   cloudflare.Token
		state string
		text  string
	}{
		{"active", base, stateActive, "active"},
		{"expiring", with(func(tk *cloudflare.Token) { tk.ExpiresAt = now.Add(12 * day) }),
			stateExpiring, "expires in 12 days"},
		{"expiring within a day", with(func(tk *cloudflare.Token) {
			tk.ExpiresAt = now.Add(5*time.Hour + time.Minute)
		}), stateExpiring, "expires in 5h"},
		{"expired", with(func(tk *cloudflare.Token) { tk.ExpiresAt = now.Add(-time.Hour) }),
			stateExpired, "expired"},
		{"disabled wins", with(func(tk *cloudflare.Token) {
			tk.Enabled, tk.ExpiresAt = false, now.Add(-time.Hour)
		}), stateDisabled, "disabled"},
		{"rotating", with(func(tk *cloudflare.Token) {
			tk.PreviousSecretExpiresAt = now.Add(2 * time.Hour)
		}), stateRotating, "rotating until 2026-12-03T14:00:00Z"},
		{"grace over", with(func(tk *cloudflare.Token) {
			tk.PreviousSecretExpiresAt = now.Add(-2 * time.Hour)
		}), stateActive, "active"},
		{"forever", with(func(tk *cloudflare.Token) {
			tk.Forever, tk.Duration, tk.ExpiresAt = true, "forever", time.Time{}
		}), stateActive, "never expires"},
	}
	app := &App{Streams: &Streams{}, Now: func() time.Time { return now }}
	for _, tt := range tests {
		if got := tokenStateOf(tt.tok, now); got != tt.state {
			t.Errorf("%s: tokenStateOf = %q, want %q", tt.name, got, tt.state)
		}
		if got := app.stateText(tt.tok); got != tt.text {
			t.Errorf("%s: stateText = %q, want %q", tt.name, got, tt.text)
		}
	}
}

func TestTimeTextDependsOnTerminal(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := now.Add(12 * day)
	for _, tt := range []struct {
		tty        bool
		want, zero string
	}{
		{true, "in 12 days", "never"},
		{false, "2026-12-15T12:00:00Z", "-"},
	} {
		app := &App{Streams: &Streams{OutTTY: tt.tty}, Now: func() time.Time { return now }}
		if got := app.timeText(at); got != tt.want {
			t.Errorf("tty=%v: timeText = %q, want %q", tt.tty, got, tt.want)
		}
		if got := app.timeText(time.Time{}); got != tt.zero {
			t.Errorf("tty=%v: timeText(zero) = %q, want %q", tt.tty, got, tt.zero)
		}
	}
}

func TestTable(t *testing.T) {
	for _, tt := range []struct {
		tty  bool
		want string
	}{
		{false, "a\tb c\n\tlonger\n"},
		{true, "ONE  TWO\na    b c\n     longer\n"},
	} {
		var out bytes.Buffer
		table := newTable(&Streams{Out: &out, OutTTY: tt.tty}, "ONE", "TWO")
		table.add("a", "b\tc")
		table.add("", "longer")
		if err := table.print(); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("tty=%v: got %q, want %q", tt.tty, out.String(), tt.want)
		}
	}
}

// TestTokenJSONSchema pins the keys of the token object: scripts depend on them.
func TestTokenJSONSchema(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tok := cloudflare.Token{ID: "id", Name: "n", ClientID: "c.access", Duration: "forever",
		Forever: true, Enabled: true, CreatedAt: now, ExpiresAt: now}
	keysOf := func(view tokenJSON) []string {
		data, err := json.Marshal(view)
		if err != nil {
			t.Fatal(err)
		}
		var object map[string]any
		if err := json.Unmarshal(data, &object); err != nil {
			t.Fatal(err)
		}
		if object["expires_at"] != nil {
			t.Errorf("a forever token has expires_at %v", object["expires_at"])
		}
		var keys []string
		for key := range object {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		return keys
	}
	want := []string{"client_id", "created_at", "duration", "enabled", "expires_at", "id",
		"last_seen_at", "local", "name", "previous_secret_expires_at", "state"}
	view := newTokenJSON(tok, now, false)
	if got := keysOf(view); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	withSecret := view.withSecret(secret.New("s3cr3t"))
	if got := keysOf(withSecret); !slices.Contains(got, "client_secret") {
		t.Errorf("withSecret keys = %v, want client_secret among them", got)
	}
}

func TestAPIErrorExitCodes(t *testing.T) {
	tests := []struct {
		kind cloudflare.Kind
		code int
	}{
		{cloudflare.KindConfig, ExitUsage},
		{cloudflare.KindAuth, ExitAuth},
		{cloudflare.KindPermission, ExitAuth},
		{cloudflare.KindNotFound, ExitNotFound},
		{cloudflare.KindAmbiguous, ExitUsage},
		{cloudflare.KindUnknownAccount, ExitNotFound},
		{cloudflare.KindLimit, ExitRefused},
		{cloudflare.KindInvalid, ExitUsage},
		{cloudflare.KindRateLimited, ExitRateLimited},
		{cloudflare.KindUnreachable, ExitUnreachable},
		{cloudflare.KindTimeout, ExitUnreachable},
		{cloudflare.KindServer, ExitError},
		{cloudflare.KindCanceled, ExitCancelled},
	}
	for _, tt := range tests {
		cause := &cloudflare.Error{Kind: tt.kind, Message: "m", Hint: "do " + string(tt.kind)}
		err := apiError(fmt.Errorf("wrapped: %w", cause))
		if got := exitCodeOf(err); got != tt.code {
			t.Errorf("%s: exit code %d, want %d", tt.kind, got, tt.code)
		}
		if got := hintOf(err); got != "do "+string(tt.kind) {
			t.Errorf("%s: hint %q", tt.kind, got)
		}
	}
	plain := errors.New("plain")
	if apiError(plain) != plain || apiError(nil) != nil {
		t.Error("apiError changed an error that is not from package cloudflare")
	}
	if !strings.Contains(exitCodesHelp, "  6  rate limited") {
		t.Error("exit-codes help lost the rate-limit line")
	}
}
