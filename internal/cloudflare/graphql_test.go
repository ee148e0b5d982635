package cloudflare

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/secret"
)

// recordLogins injects n logins ending now: login i is at now - (n-i)*step, by token
// "tok-<i%tokens>", from 192.0.2.<i%addresses>, refused when i%refuseEvery == 0.
func recordLogins(srv *emulator.Server, n int, step time.Duration, tokens, addresses,
	refuseEvery int) time.Time {
	now := srv.Clock().Now()
	events := make([]emulator.LoginEvent, 0, n)
	for i := range n {
		events = append(events, emulator.LoginEvent{
			Time:    now.Add(-time.Duration(n-i) * step),
			TokenID: fmt.Sprint("tok-", i%tokens), AppID: "app-1", Country: "US",
			IP:      netip.AddrFrom4([4]byte{192, 0, 2, byte(i % addresses)}),
			Allowed: i%refuseEvery != 0, RayID: fmt.Sprintf("%016x", i+1),
		})
	}
	srv.RecordLoginEvents(events...)
	return now
}

func TestEachLoginGroupPagesByTime(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	// 61 logins, several per second, so that pages of 5 rows cut seconds in half.
	now := recordLogins(srv, 61, 300*time.Millisecond, 3, 2, 4)

	var total int64
	var previous time.Time
	seen := map[string]bool{}
	err := c.EachLoginGroup(t.Context(), LoginQuery{Since: now.Add(-time.Hour), Until: now,
		Dimensions: []string{LoginDimTime, LoginDimToken, LoginDimAddress, LoginDimAllowed},
		PageSize:   5},
		func(g LoginGroup) error {
			key := fmt.Sprint(g.Time, g.TokenID, g.IPAddress, g.Allowed)
			if seen[key] {
				t.Errorf("row %s delivered twice", key)
			}
			if g.Time.Before(previous) {
				t.Errorf("row at %s after a row at %s", g.Time, previous)
			}
			seen[key], previous, total = true, g.Time, total+g.Count
			return nil
		})
	if err != nil || total != 61 {
		t.Fatalf("counted %d logins, %v; want 61", total, err)
	}
}

func TestEachLoginGroupSplitsFullWindows(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	// 40 logins from 40 addresses over 10 days: more than one 7-day window, and more rows
	// than a page of 6 holds without splitting.
	now := recordLogins(srv, 40, 6*time.Hour, 1, 40, 1000)

	counts := map[string]int64{}
	requests := requestsDuring(srv, func() {
		err := c.EachLoginGroup(t.Context(), LoginQuery{Since: now.Add(-11 * 24 * time.Hour),
			Until: now, Dimensions: []string{LoginDimToken, LoginDimAddress}, PageSize: 6},
			func(g LoginGroup) error {
				counts[g.IPAddress] += g.Count
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
	})
	if len(counts) != 40 {
		t.Fatalf("got %d addresses, want 40: %v", len(counts), counts)
	}
	for ip, n := range counts {
		if n != 1 {
			t.Errorf("address %s counted %d times, want once", ip, n)
		}
	}
	if requests < 8 {
		t.Errorf("%d requests: the windows were not split", requests)
	}
}

func TestEachLoginGroupFilters(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	now := recordLogins(srv, 30, time.Minute, 3, 1, 5)
	refused := false
	var tokens []string
	var total int64
	err := c.EachLoginGroup(t.Context(), LoginQuery{Since: now.Add(-time.Hour), Until: now,
		Dimensions: []string{LoginDimToken, LoginDimAllowed}, TokenIDs: []string{"tok-0"},
		Allowed: &refused},
		func(g LoginGroup) error {
			tokens, total = append(tokens, g.TokenID), total+g.Count
			if g.Allowed {
				t.Errorf("admitted login in a query for refused ones: %+v", g)
			}
			return nil
		})
	// Logins 0, 15 are tok-0 and refused (i%3 == 0 and i%5 == 0).
	if err != nil || total != 2 || !slices.Equal(tokens, []string{"tok-0"}) {
		t.Fatalf("tokens %v, total %d, %v; want tok-0 twice", tokens, total, err)
	}
}

func TestLoginTimes(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	c := newClient(t, srv, nil)
	// Login i at now-(20-i)*12h: tok-0 at even i, tok-1 at odd i, over 10 days.
	now := recordLogins(srv, 20, 12*time.Hour, 2, 3, 1000)
	at := func(i int) time.Time {
		return now.Add(-time.Duration(20-i) * 12 * time.Hour).Truncate(time.Second).UTC()
	}
	keys := []LoginKey{{TokenID: "tok-0"}, {TokenID: "tok-1"}, {TokenID: "nobody"},
		{TokenID: "tok-1", IPAddress: "192.0.2.1"}}
	since := now.Add(-11 * 24 * time.Hour)

	last, err := c.LoginTimes(t.Context(), since, now, keys, false)
	if err != nil {
		t.Fatal(err)
	}
	// tok-1 from 192.0.2.1: odd i with i%3 == 1, so 1, 7, 13, 19.
	want := map[LoginKey]time.Time{keys[0]: at(18), keys[1]: at(19), keys[3]: at(19)}
	if !mapsEqual(last, want) {
		t.Errorf("last logins %v, want %v", last, want)
	}
	first, err := c.LoginTimes(t.Context(), since, now, keys, true)
	want = map[LoginKey]time.Time{keys[0]: at(0), keys[1]: at(1), keys[3]: at(1)}
	if err != nil || !mapsEqual(first, want) {
		t.Errorf("first logins %v, %v; want %v", first, err, want)
	}
}

func mapsEqual(a, b map[LoginKey]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !b[k].Equal(v) {
			return false
		}
	}
	return true
}

func TestLoginQueriesReportAPIFailures(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	now := srv.Clock().Now()
	query := LoginQuery{Since: now.Add(-time.Hour), Until: now,
		Dimensions: []string{LoginDimToken}}
	none := func(LoginGroup) error { return nil }

	reader := newClient(t, srv, func(cfg *Config) { cfg.APIToken = secret.New(readerAPIToken) })
	e := requireKind(t, reader.EachLoginGroup(t.Context(), query, none), KindPermission,
		readerAPIToken)
	if e.Permission != PermAnalyticsRead {
		t.Errorf("permission %q, want %q", e.Permission, PermAnalyticsRead)
	}
	stranger := newClient(t, srv, func(cfg *Config) { cfg.APIToken = secret.New("nope-nope") })
	requireKind(t, stranger.EachLoginGroup(t.Context(), query, none), KindAuth, "nope-nope")

	c := newClient(t, srv, nil)
	injectFault(t, srv, emulator.Fault{Method: "POST", Path: "/graphql", Status: 503, Times: 1})
	if err := c.EachLoginGroup(t.Context(), query, none); err != nil {
		t.Errorf("a 503 was not retried: %v", err)
	}
	bad := query
	bad.Dimensions = []string{"colour"}
	requireKind(t, c.EachLoginGroup(t.Context(), bad, none), KindConfig)
}
