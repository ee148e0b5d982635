package cloudflare

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
)

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	ctx := t.Context()

	created, err := c.CreateToken(ctx, "ci-deploy", "720h")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	tok := created.Token
	if created.ClientSecret.IsZero() || !strings.HasSuffix(tok.ClientID, ".access") ||
		tok.Name != "ci-deploy" || tok.Duration != "720h" || !tok.Enabled ||
		tok.SecretVersion != 1 || tok.Scope != "account" || tok.CreatedAt.IsZero() {
		t.Fatalf("created token: %+v", tok)
	}
	if got := tok.ExpiresAt.Sub(tok.CreatedAt); got != 720*time.Hour {
		t.Errorf("expires %s after creation, want 720h", got)
	}

	got, err := c.GetToken(ctx, tok.ID)
	if err != nil || got.ClientID != tok.ClientID || !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("get: %+v, %v", got, err)
	}

	disabled, err := c.UpdateToken(ctx, tok.ID, TokenUpdate{Enabled: ptr(false)})
	if err != nil || disabled.Enabled || disabled.Name != "ci-deploy" ||
		!disabled.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("disable: %+v, %v", disabled, err)
	}
	renamed, err := c.UpdateToken(ctx, tok.ID, TokenUpdate{Name: ptr("ci"), Enabled: ptr(true)})
	if err != nil || !renamed.Enabled || renamed.Name != "ci" {
		t.Fatalf("rename and enable: %+v, %v", renamed, err)
	}

	if err := srv.AdvanceClock(48 * time.Hour); err != nil {
		t.Fatal(err)
	}
	refreshed, err := c.RefreshToken(ctx, tok.ID)
	if err != nil || refreshed.ExpiresAt.Sub(tok.ExpiresAt) < 47*time.Hour {
		t.Fatalf("refresh moved expiry from %s to %s (%v)", tok.ExpiresAt,
			refreshed.ExpiresAt, err)
	}

	grace := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	rotated, err := c.RotateToken(ctx, tok.ID, grace)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if rotated.ClientSecret.Equal(created.ClientSecret) || rotated.ClientSecret.IsZero() ||
		rotated.ClientID != tok.ClientID || rotated.SecretVersion != 2 ||
		!rotated.PreviousSecretExpiresAt.Equal(grace) {
		t.Fatalf("rotated token: %+v", rotated.Token)
	}

	now := srv.Clock().Now().Truncate(time.Second)
	ended, err := c.UpdateToken(ctx, tok.ID, TokenUpdate{PreviousSecretExpiresAt: &now})
	if err != nil || !ended.PreviousSecretExpiresAt.Equal(now) {
		t.Fatalf("end grace: %+v, %v", ended.PreviousSecretExpiresAt, err)
	}

	if err := c.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.GetToken(ctx, tok.ID)
	e := requireKind(t, err, KindNotFound)
	if !strings.Contains(e.Error(), tok.ID) || e.Hint == "" {
		t.Errorf("not-found error %q (hint %q) does not name the token or help", e, e.Hint)
	}
}

func TestRotateWithoutGraceEndsPreviousSecretNow(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	created, err := c.CreateToken(t.Context(), "rotate-now", "")
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Clock().Now()
	rotated, err := c.RotateToken(t.Context(), created.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if ends := rotated.PreviousSecretExpiresAt; ends.Before(before.Add(-time.Second)) ||
		ends.After(srv.Clock().Now()) {
		t.Errorf("previous secret ends at %s, want about %s", ends, before)
	}
	if rotated.Duration != "8760h" {
		t.Errorf("default duration %q, want 8760h", rotated.Duration)
	}
}

func TestForeverAndExistingTokens(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	forever, err := c.CreateToken(t.Context(), "forever", DurationForever)
	if err != nil {
		t.Fatal(err)
	}
	if !forever.Forever || !forever.ExpiresAt.IsZero() {
		t.Errorf("forever token: %+v", forever.Token)
	}
	legacy, err := c.ResolveToken(t.Context(), "legacy-monitor")
	if err != nil {
		t.Fatal(err)
	}
	if legacy.LastSeenAt.IsZero() || !legacy.ExpiresAt.Before(time.Now()) || legacy.Forever {
		t.Errorf("legacy-monitor: %+v", legacy)
	}
}

func TestZoneScope(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, zoneScope(srv))
	created, err := c.CreateToken(t.Context(), "zone-token", "")
	if err != nil {
		t.Fatal(err)
	}
	if created.Scope != "zone" {
		t.Errorf("scope %q, want zone", created.Scope)
	}
	tokens, err := c.ListTokens(t.Context(), ListOptions{})
	if err != nil || len(tokens) != 1 || tokens[0].ID != created.ID {
		t.Fatalf("zone tokens: %+v, %v", tokens, err)
	}
	for name, call := range map[string]func() error{
		"refresh": func() error { _, err := c.RefreshToken(t.Context(), created.ID); return err },
		"rotate": func() error {
			_, err := c.RotateToken(t.Context(), created.ID, time.Time{})
			return err
		},
	} {
		var err error
		if n := requestsDuring(srv, func() { err = call() }); n != 0 {
			t.Errorf("%s at zone scope sent %d requests", name, n)
		}
		e := requireKind(t, err, KindConfig)
		if want := name + " needs an account: set " + EnvAccountID; e.Hint != want {
			t.Errorf("%s hint %q, want %q", name, e.Hint, want)
		}
	}
}

func TestListTokensReadsEveryPage(t *testing.T) {
	t.Parallel()
	const bulk = 2500
	world := testWorld()
	world.TokenLimit = bulk + 10
	for i := range bulk {
		world.ServiceTokens = append(world.ServiceTokens,
			emulator.WorldServiceToken{Name: fmt.Sprintf("bulk-%04d", i)})
	}
	srv := startEmulator(t, world)
	c := newClient(t, srv, nil)
	for _, tc := range []struct {
		perPage      int
		wantRequests int64
	}{
		{0, 26},   // 2,501 tokens at the default 100 per page
		{1000, 3}, // the emulator's maximum
		{5000, 3}, // capped by the emulator at 1000: result_info says so
	} {
		var tokens []Token
		var err error
		n := requestsDuring(srv, func() {
			tokens, err = c.ListTokens(t.Context(), ListOptions{PerPage: tc.perPage})
		})
		if err != nil {
			t.Fatalf("per page %d: %v", tc.perPage, err)
		}
		if len(tokens) != bulk+1 || n != tc.wantRequests {
			t.Errorf("per page %d: %d tokens in %d requests, want %d in %d", tc.perPage,
				len(tokens), n, bulk+1, tc.wantRequests)
		}
		ids := map[string]bool{}
		for _, tok := range tokens {
			ids[tok.ID] = true
		}
		if len(ids) != bulk+1 {
			t.Errorf("per page %d: %d distinct ids", tc.perPage, len(ids))
		}
	}
	named, err := c.ListTokens(t.Context(), ListOptions{Name: "bulk-1234"})
	if err != nil || len(named) != 1 || named[0].Name != "bulk-1234" {
		t.Errorf("by name: %+v, %v", named, err)
	}
}

func TestResolveToken(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	unique, err := c.CreateToken(t.Context(), "unique", "")
	if err != nil {
		t.Fatal(err)
	}
	var twins []string
	for range 2 {
		twin, err := c.CreateToken(t.Context(), "ci", "")
		if err != nil {
			t.Fatal(err)
		}
		twins = append(twins, twin.ID)
	}
	tests := []struct {
		ref      string
		wantID   string
		wantKind Kind
		wantText []string
	}{
		{ref: unique.ID, wantID: unique.ID},
		{ref: strings.ToUpper(unique.ID), wantKind: KindNotFound},
		{ref: unique.ClientID, wantID: unique.ID},
		{ref: "unique", wantID: unique.ID},
		{ref: "  unique ", wantID: unique.ID},
		{ref: "ci", wantKind: KindAmbiguous,
			wantText: []string{`name "ci" matches 2 tokens: `, twins[0], twins[1]}},
		{ref: "uniq", wantKind: KindNotFound, wantText: []string{`"uniq"`}},
		{ref: "00000000-0000-4000-8000-000000000000", wantKind: KindNotFound},
		{ref: "0123456789abcdef0123456789abcdef.access", wantKind: KindNotFound,
			wantText: []string{"client id"}},
	}
	for _, tc := range tests {
		tok, err := c.ResolveToken(t.Context(), tc.ref)
		if tc.wantKind == "" {
			if err != nil || tok.ID != tc.wantID {
				t.Errorf("resolve %q: %s, %v; want %s", tc.ref, tok.ID, err, tc.wantID)
			}
			continue
		}
		e := requireKind(t, err, tc.wantKind)
		for _, want := range tc.wantText {
			if !strings.Contains(e.Error(), want) {
				t.Errorf("resolve %q: %q lacks %q", tc.ref, e, want)
			}
		}
		if e.Hint == "" {
			t.Errorf("resolve %q: no hint", tc.ref)
		}
	}
}

func TestListTokensByNameIgnoresPrefixMatches(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	for _, name := range []string{"ci", "ci-2", "CI"} {
		if _, err := c.CreateToken(t.Context(), name, ""); err != nil {
			t.Fatal(err)
		}
	}
	tokens, err := c.ListTokens(t.Context(), ListOptions{Name: "ci"})
	names := []string{}
	for _, tok := range tokens {
		names = append(names, tok.Name)
	}
	if err != nil || !slices.Equal(names, []string{"ci"}) {
		t.Errorf("tokens named ci: %v, %v", names, err)
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkListTokens lists 2,500 tokens, 100 per page, over HTTPS to the emulator.
func BenchmarkListTokens(b *testing.B) {
	world := testWorld()
	world.TokenLimit = 2600
	for i := range 2500 {
		world.ServiceTokens = append(world.ServiceTokens,
			emulator.WorldServiceToken{Name: fmt.Sprintf("bulk-%04d", i)})
	}
	srv := startEmulator(b, world)
	c := newClient(b, srv, nil)
	for b.Loop() {
		if _, err := c.ListTokens(b.Context(), ListOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
