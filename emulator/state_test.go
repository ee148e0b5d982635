package emulator

import (
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/access"
)

var stateStart = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

const authWorld = `
service_tokens:
  - {name: active, client_id: active.access, client_secret: s-active}
  - {name: expired, client_id: expired.access, client_secret: s-expired, expires_at: expired}
  - {name: disabled, client_id: disabled.access, client_secret: s-disabled, enabled: false}
  - {name: forever, client_id: forever.access, client_secret: s-forever, duration: forever}
  - name: in-grace
    client_id: grace.access
    client_secret: s-new
    previous_client_secret: s-old
    previous_client_secret_expires_at: +1h
  - name: past-grace
    client_id: past.access
    client_secret: s-new
    previous_client_secret: s-old
    previous_client_secret_expires_at: -1s
  - name: disabled-in-grace
    client_id: disabled-grace.access
    client_secret: s-new
    previous_client_secret: s-old
    previous_client_secret_expires_at: +1h
    enabled: false
applications:
  - name: one
    domain: one.example.com
    destinations: [two.example.com/api]
    policies:
      - {name: robots, decision: non_identity, include: [{service_token: {token_id: active}}],
         precedence: 3}
      - {name: people, decision: allow, include: [{everyone: {}}], precedence: 1}
    origin: down
`

func newTestState(t *testing.T, text string) (*state, *World) {
	t.Helper()
	w, err := ParseWorld("state.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	st, err := newState(w, stateStart)
	if err != nil {
		t.Fatal(err)
	}
	return st, w
}

func TestAuthenticate(t *testing.T) {
	cases := []struct {
		clientID, secret string
		at               time.Duration // after the start
		valid            bool
		why              string
	}{
		{"active.access", "s-active", 0, true, ""},
		{"active.access", "s-wrong", 0, false, whyWrongSecret},
		{"active.access", "", 0, false, whyWrongSecret},
		{"active.access", "s-active", 8760 * time.Hour, false, whyExpired},
		{"nobody.access", "s-active", 0, false, whyUnknownClient},
		{"expired.access", "s-expired", 0, false, whyExpired},
		{"expired.access", "s-wrong", 0, false, whyWrongSecret},
		{"disabled.access", "s-disabled", 0, false, whyDisabled},
		{"forever.access", "s-forever", 100 * 8760 * time.Hour, true, ""},
		{"grace.access", "s-new", 0, true, ""},
		{"grace.access", "s-old", 0, true, ""},
		{"grace.access", "s-old", time.Hour, false, whyPastGrace},
		{"past.access", "s-old", 0, false, whyPastGrace},
		{"past.access", "s-new", 0, true, ""},
		{"disabled-grace.access", "s-old", 0, false, whyDisabled},
	}
	for _, tc := range cases {
		st, w := newTestState(t, authWorld)
		now := stateStart.Add(tc.at)
		id, cred, why := st.authenticate(tc.clientID, tc.secret, now)
		if (cred == access.ValidToken) != tc.valid || why != tc.why {
			t.Errorf("%s with %q at +%s: %v %q, want valid=%v %q", tc.clientID, tc.secret,
				tc.at, cred, why, tc.valid, tc.why)
		}
		wantID := ""
		for _, tok := range w.ServiceTokens {
			if tok.ClientID == tc.clientID {
				wantID = tok.ID
			}
		}
		if id != wantID {
			t.Errorf("%s: token id %q, want %q", tc.clientID, id, wantID)
		}
		if rec := st.byClient[tc.clientID]; rec != nil &&
			(rec.lastSeenAt == nil || !rec.lastSeenAt.Equal(now)) {
			t.Errorf("%s: last_seen_at = %v, want %s", tc.clientID, rec.lastSeenAt, now)
		}
	}
}

func TestApplicationsAreResolvedCopies(t *testing.T) {
	st, _ := newTestState(t, authWorld)
	apps := st.applications()
	if len(apps) != 1 {
		t.Fatalf("applications = %d, want 1", len(apps))
	}
	app := apps[0]
	if len(app.Policies) != 2 || app.Policies[0].Name != "people" ||
		app.Policies[1].Precedence != 3 || app.Type != "self_hosted" {
		t.Errorf("policies = %+v, want people (1) before robots (3)", app.Policies)
	}
	if len(app.Destinations) != 2 || app.Destinations[1].URI != "two.example.com/api" {
		t.Errorf("destinations = %+v", app.Destinations)
	}
	app.Policies[1].Include[0].ServiceToken.TokenID = "changed"
	app.Destinations[0].URI = "changed"
	again := st.applications()[0]
	if again.Policies[1].Include[0].ServiceToken.TokenID == "changed" ||
		again.Destinations[0].URI == "changed" {
		t.Error("changing a snapshot changed the state")
	}
	if st.origin(app.ID) != "down" || st.origin("nope") != "ok" || st.strict() {
		t.Errorf("origin %q, unknown %q, strict %v", st.origin(app.ID), st.origin("nope"),
			st.strict())
	}
}

func TestGroupsAreCopies(t *testing.T) {
	st, _ := newTestState(t, "groups:\n  - {name: g, include: [{ip: {ip: 10.0.0.0/8}}]}\n")
	groups := st.groups()
	groups[0].Include[0].IP.IP = "changed"
	if st.groups()[0].Include[0].IP.IP != "10.0.0.0/8" {
		t.Error("changing a group snapshot changed the state")
	}
}

func TestStateIsSafeForConcurrentUse(t *testing.T) {
	st, _ := newTestState(t, authWorld)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				now := stateStart.Add(time.Duration(j) * time.Second)
				st.authenticate("grace.access", "s-old", now)
				_ = st.applications()
				_ = st.groups()
				if i == 0 {
					st.mu.Lock()
					st.byClient["active.access"].rotate(st.gen, nil, now)
					st.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

func TestClientSecretFormat(t *testing.T) {
	gen := newIDSource(0, "")
	seen := map[string]bool{}
	for range 100 {
		s := gen.clientSecret().Reveal()
		if len(s) != 6+40+8 || s[:6] != "cfast_" || seen[s] {
			t.Fatalf("secret %q has the wrong shape or repeats", s)
		}
		seen[s] = true
	}
	if a, b := newIDSource(3, "k").uuid(), newIDSource(3, "k").uuid(); a != b {
		t.Errorf("seeded uuids differ: %s, %s", a, b)
	}
	if a, b := newIDSource(3, "k").uuid(), newIDSource(3, "l").uuid(); a == b {
		t.Errorf("two keys gave the same uuid %s", a)
	}
}

func TestRecoverAsInternalError(t *testing.T) {
	rec := httptest.NewRecorder()
	func() {
		defer recoverAsInternalError(rec)
		panic("a bug")
	}()
	var body envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("the 500 is not an envelope: %v: %s", err, rec.Body)
	}
	if rec.Code != 500 || body.Success || len(body.Errors) != 1 || body.Errors[0].Code != 10001 {
		t.Errorf("recovered answer: %d %s", rec.Code, rec.Body)
	}
}

func TestLoginConnection(t *testing.T) {
	st, _ := newTestState(t, "")
	custom, _ := newTestState(t, "login_events: {connection: service_token}\n")
	if st.loginConnection() != "nonidentity" || custom.loginConnection() != "service_token" {
		t.Errorf("connections %q, %q", st.loginConnection(), custom.loginConnection())
	}
}
