package emulator

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func header(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

func TestEdgeRecordsLoginEvents(t *testing.T) {
	srv := startEmulator(t, edgeWorld(false, ""))
	requests := []struct {
		host   string
		header http.Header
	}{
		{"svc.example.com", header(headerClientID, goodClientID, headerClientSecret, goodSecret,
			headerEmulatorCountry, "fr", headerEmulatorClientIP, "192.0.2.44")},
		{"mixed.example.com", header(headerClientID, goodClientID, headerClientSecret, "nope")},
		{"svc.example.com", header(headerClientID, otherClientID, headerClientSecret,
			otherSecret)},
		// Not recorded: unknown client id, no credentials, faulty credentials, bypass.
		{"svc.example.com", header(headerClientID, unknownClientID, headerClientSecret, "x")},
		{"svc.example.com", nil},
		{"svc.example.com", header(headerClientID, goodClientID)},
		{"public.example.com", header(headerClientID, goodClientID, headerClientSecret,
			goodSecret)},
	}
	var rays []string
	for _, req := range requests {
		resp := get(t, srv, "https://"+req.host+"/", req.header)
		rays = append(rays, resp.header.Get("Cf-Ray")[:16])
	}

	events := srv.LoginEvents()
	if len(events) != 3 {
		t.Fatalf("recorded %d events, want 3: %+v", len(events), events)
	}
	svc, mixed := appNamed(t, srv, "svc"), appNamed(t, srv, "mixed")
	want := []LoginEvent{
		{RayID: rays[0], TokenID: tokenNamed(t, srv, "good"), ClientID: goodClientID,
			AppID: svc.ID, AppDomain: "svc.example.com", Host: "svc.example.com",
			IP: netip.MustParseAddr("192.0.2.44"), Country: "FR", Allowed: true,
			Outcome: "admitted", ApprovingPolicyID: svc.Policies[0].ID},
		{RayID: rays[1], TokenID: tokenNamed(t, srv, "good"), ClientID: goodClientID,
			AppID: mixed.ID, AppDomain: "mixed.example.com", Host: "mixed.example.com",
			IP: netip.MustParseAddr("127.0.0.1"), Country: "US", Outcome: "login_redirect",
			Reason: "wrong secret", Status: 302},
		{RayID: rays[2], TokenID: tokenNamed(t, srv, "other"), ClientID: otherClientID,
			AppID: svc.ID, AppDomain: "svc.example.com", Host: "svc.example.com",
			IP: netip.MustParseAddr("127.0.0.1"), Country: "US", Outcome: "forbidden",
			Reason: "no_matching_rule", Status: 403},
	}
	now := srv.Clock().Now()
	for i, got := range events {
		if got.Time.IsZero() || got.Time.After(now) || now.Sub(got.Time) > time.Minute {
			t.Errorf("event %d at %v, want the emulator's time", i, got.Time)
		}
		got.Time = time.Time{}
		if got != want[i] {
			t.Errorf("event %d\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestEdgeStrictModeLogsOnlyKnownClients(t *testing.T) {
	srv := startEmulator(t, edgeWorld(true, ""))
	for _, h := range []http.Header{
		header(headerClientID, goodClientID, headerClientSecret, "wrong"),          // logged
		header(headerClientID, expiredClientID, headerClientSecret, expiredSecret), // logged
		header(headerClientID, unknownClientID, headerClientSecret, "x"),           // unknown
		header(headerClientID, goodClientID, headerClientID, goodClientID,
			headerClientSecret, goodSecret), // malformed
	} {
		if resp := get(t, srv, "https://svc.example.com/", h); resp.status != 401 {
			t.Fatalf("status %d, want 401", resp.status)
		}
	}
	events := srv.LoginEvents()
	if len(events) != 2 || events[0].Reason != "wrong secret" || events[1].Reason != "expired" {
		t.Fatalf("events %+v, want the wrong secret and the expired token", events)
	}
}

func TestEdgeSessionCookie(t *testing.T) {
	srv := startEmulator(t, edgeWorld(false, ""))
	login := get(t, srv, "https://mixed.example.com/", header(headerClientID, goodClientID,
		headerClientSecret, goodSecret))
	session := cookieValue(login.header)
	if login.status != 200 || session == "" {
		t.Fatalf("login: %d, cookie %q", login.status, session)
	}
	otherApp, _ := srv.edge.signer.appToken(srv.issuer(), appNamed(t, srv, "svc").AUD,
		goodClientID, srv.Clock().Now(), time.Hour)

	tests := []struct {
		name   string
		host   string
		header http.Header
		status int
	}{
		{"cookie, app with Allow", "mixed.example.com",
			header("Cookie", cookieName+"="+session), 200},
		{"cf-access-token, app with Allow", "mixed.example.com",
			header(headerAccessToken, session), 200},
		{"cookie for another app", "mixed.example.com", header("Cookie", cookieName+"="+otherApp),
			302},
		{"forged cookie", "mixed.example.com", header("Cookie", cookieName+"="+session+"x"), 302},
		{"cookie, Service Auth only", "svc.example.com", header("Cookie", cookieName+"="+otherApp),
			403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, srv, "https://"+tt.host+"/", tt.header)
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d", resp.status, tt.status)
			}
			if tt.status == 200 {
				checkOriginEcho(t, resp.body, "mixed", true)
			}
		})
	}
	srv.Clock().(*ManualClock).Advance(25 * time.Hour)
	expired := get(t, srv, "https://mixed.example.com/", header("Cookie", cookieName+"="+session))
	if expired.status != 302 {
		t.Fatalf("expired session: status %d, want 302", expired.status)
	}
}

func TestEdgeClientAddress(t *testing.T) {
	srv := startEmulator(t, edgeWorld(false, ""))
	tests := []struct {
		address string
		status  int
	}{
		{"10.1.2.3", 200},
		{"192.0.2.1", 403},
		{"", 403},          // the peer address, 127.0.0.1
		{"not-an-ip", 403}, // ignored
	}
	for _, tt := range tests {
		resp := get(t, srv, "https://office.example.com/", header(headerEmulatorClientIP,
			tt.address))
		if resp.status != tt.status {
			t.Errorf("client %q: status %d, want %d", tt.address, resp.status, tt.status)
		}
	}
}
