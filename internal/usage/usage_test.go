package usage

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// The service tokens of the test world; the secrets are test values.
const (
	ciClientID = "c1000000000000000000000000000001.access"
	ciSecret   = "cfast_usagetestusagetestusagetestusagete0001"
	apiToken   = "usage-test-api-token"
)

const testWorld = `
team: usage
api_tokens:
  - {name: all, value: ` + apiToken + `, permissions: [all]}
service_tokens:
  - {name: ci, client_id: ` + ciClientID + `, client_secret: ` + ciSecret + `}
  - {name: monthly, duration: 720h}
  - {name: idle, last_seen_at: -960h}
  - {name: forever, duration: forever}
policies:
  - name: tokens
    decision: non_identity
    include: [{any_valid_service_token: {}}]
applications:
  - {name: api, domain: api.example.com, policies: [tokens]}
  - {name: web, domain: web.example.com, policies: [tokens]}
`

// fixture is an emulator with the test world and an API client for it.
type fixture struct {
	t      *testing.T
	srv    *emulator.Server
	client *cloudflare.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	world, err := emulator.ParseWorld("usage.yaml", []byte(testWorld))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start(emulator.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client, err := cloudflare.New(cloudflare.Config{APIToken: secret.New(apiToken),
		AccountID: srv.AccountID(), BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, client: client}
}

// tokens lists the account's tokens for Analyze.
func (f *fixture) tokens() []Token {
	f.t.Helper()
	list, err := f.client.ListTokens(f.t.Context(), cloudflare.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var tokens []Token
	for _, tok := range list {
		tokens = append(tokens, TokenFrom(tok))
	}
	return tokens
}

func (f *fixture) tokenID(name string) string {
	f.t.Helper()
	for _, tok := range f.tokens() {
		if tok.Name == name {
			return tok.ID
		}
	}
	f.t.Fatalf("no token %q", name)
	return ""
}

// login sends n requests to host through the edge with the ci token, from ip in
// country, with the right secret or not.
func (f *fixture) login(n int, host, ip, country string, rightSecret bool) {
	f.t.Helper()
	secretValue := ciSecret
	if !rightSecret {
		secretValue = "cfast_wrongwrongwrongwrongwrongwrongwrong0000"
	}
	for range n {
		req, err := http.NewRequest(http.MethodGet, "https://"+host+"/", nil)
		if err != nil {
			f.t.Fatal(err)
		}
		req.Header.Set("CF-Access-Client-Id", ciClientID)
		req.Header.Set("CF-Access-Client-Secret", secretValue)
		req.Header.Set("X-Emulator-Client-Ip", ip)
		req.Header.Set("X-Emulator-Country", country)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			f.t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// history records n admitted logins of token from ip in the week before now, spread
// over days 2 to 6.
func (f *fixture) history(n int, tokenID, ip, country string) {
	now := f.srv.Clock().Now()
	events := make([]emulator.LoginEvent, 0, n)
	for i := range n {
		at := now.Add(-6*24*time.Hour + time.Duration(i)*4*24*time.Hour/time.Duration(n))
		events = append(events, emulator.LoginEvent{Time: at, TokenID: tokenID,
			AppID: "app-history", IP: netip.MustParseAddr(ip), Country: country,
			Allowed: true, RayID: fmt.Sprintf("%016x", i+1)})
	}
	f.srv.RecordLoginEvents(events...)
}

func (f *fixture) analyze(opts Options) Report {
	f.t.Helper()
	if opts.Now.IsZero() {
		opts.Now = f.srv.Clock().Now()
	}
	report, err := Analyze(f.t.Context(), f.client, f.tokens(), opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return report
}

// findingsOf returns the findings of a kind for a token name.
func findingsOf(r Report, kind, tokenName string) []Finding {
	var found []Finding
	for _, f := range r.Findings {
		if f.Kind == kind && f.TokenName == tokenName {
			found = append(found, f)
		}
	}
	return found
}

func TestAnalyzeFindsNewAddressesAndCountries(t *testing.T) {
	f := newFixture(t)
	f.history(14, f.tokenID("ci"), "192.0.2.10", "US")
	f.login(3, "api.example.com", "192.0.2.10", "US", true)
	f.login(2, "web.example.com", "203.0.113.50", "DE", true)
	start := f.srv.Clock().Now()

	r := f.analyze(Options{})
	addresses := findingsOf(r, KindNewAddress, "ci")
	if len(addresses) != 1 {
		t.Fatalf("new-address findings %+v, want one", r.Findings)
	}
	e := addresses[0].Evidence
	if e.Address != "203.0.113.50" || e.Country != "DE" || e.Logins != 2 ||
		!slices.Equal(e.KnownAddresses, []string{"192.0.2.10"}) || len(e.Applications) != 1 ||
		e.FirstSeen.Sub(start).Abs() > 5*time.Second {
		t.Errorf("evidence %+v", e)
	}
	if !strings.Contains(addresses[0].Summary, "203.0.113.50 (DE)") {
		t.Errorf("summary %q", addresses[0].Summary)
	}
	countries := findingsOf(r, KindNewCountry, "ci")
	if len(countries) != 1 || countries[0].Evidence.Country != "DE" {
		t.Errorf("new-country findings %+v", countries)
	}

	// Without a baseline there is nothing to compare with, so nothing is new.
	r = f.analyze(Options{Baseline: -1})
	if len(findingsOf(r, KindNewAddress, "ci"))+len(findingsOf(r, KindNewCountry, "ci")) > 0 {
		t.Errorf("findings without a baseline: %+v", r.Findings)
	}
}

func TestAnalyzeFindsBurstsOfRefusals(t *testing.T) {
	f := newFixture(t)
	f.login(12, "api.example.com", "198.51.100.66", "US", false)
	f.login(1, "api.example.com", "198.51.100.66", "US", true)

	r := f.analyze(Options{})
	bursts := findingsOf(r, KindRefusalBurst, "ci")
	if len(bursts) != 1 {
		t.Fatalf("findings %+v, want one refusal burst", r.Findings)
	}
	e := bursts[0].Evidence
	if e.Refused != 12 || e.To.Sub(e.From) != 5*time.Minute || len(e.Addresses) != 1 ||
		e.Addresses[0] != (Count{Value: "198.51.100.66", Refused: 12}) {
		t.Errorf("evidence %+v", e)
	}

	r = f.analyze(Options{BurstMinRefusals: 13})
	if len(findingsOf(r, KindRefusalBurst, "ci")) != 0 {
		t.Errorf("12 refusals make a burst with a threshold of 13: %+v", r.Findings)
	}
}

// TestAnalyzeFindsBurstsAcrossEdges records 12 refusals in two halves up to 4m55s apart,
// on either side of every fixed edge (minutes or five minutes, from the window's start or
// its end, whole seconds), and at the very end of the window: a burst is found whole.
func TestAnalyzeFindsBurstsAcrossEdges(t *testing.T) {
	for _, c := range []struct{ end, gap time.Duration }{{0, 3 * time.Minute},
		{90 * time.Second, 3 * time.Minute}, {5 * time.Minute, 3 * time.Minute},
		{time.Hour, 3 * time.Minute}, {5 * time.Second, 4*time.Minute + 50*time.Second}} {
		end, gap := c.end, c.gap
		t.Run(end.String()+"-"+gap.String(), func(t *testing.T) {
			f := newFixture(t)
			id, until := f.tokenID("ci"), f.srv.Clock().Now()
			var events []emulator.LoginEvent
			for i := range 12 {
				at := until.Add(-end - time.Duration(i/6)*gap -
					time.Duration(i%6)*time.Second - time.Millisecond)
				events = append(events, emulator.LoginEvent{Time: at, TokenID: id,
					AppID: "app-burst", IP: netip.MustParseAddr("198.51.100.66"),
					Country: "US", RayID: fmt.Sprintf("b%015x", i+1)})
			}
			f.srv.RecordLoginEvents(events...)
			bursts := findingsOf(f.analyze(Options{Now: until}), KindRefusalBurst, "ci")
			if len(bursts) != 1 || bursts[0].Evidence.Refused != 12 {
				t.Fatalf("bursts %+v, want one of 12 refusals", bursts)
			}
			e := bursts[0].Evidence
			if e.To.Sub(e.From) != 5*time.Minute || e.From.After(events[11].Time) ||
				e.To.Before(events[0].Time) {
				t.Errorf("burst from %s to %s misses the refusals", e.From, e.To)
			}
		})
	}
}

func TestAnalyzeFindsRateSpikes(t *testing.T) {
	f := newFixture(t)
	f.history(7, f.tokenID("ci"), "192.0.2.10", "US") // one a day
	f.login(25, "api.example.com", "192.0.2.10", "US", true)

	r := f.analyze(Options{})
	spikes := findingsOf(r, KindRateSpike, "ci")
	if len(spikes) != 1 || spikes[0].Evidence.Logins != 25 ||
		spikes[0].Evidence.BaselineRatePerHour != 0.04 {
		t.Fatalf("rate-spike findings %+v", spikes)
	}
	if len(findingsOf(f.analyze(Options{RateMinLogins: 26}), KindRateSpike, "ci")) != 0 {
		t.Error("25 logins make a spike with a minimum of 26")
	}
}

func TestAnalyzeFindsTokensNearExpiryOnTheEmulatorClock(t *testing.T) {
	f := newFixture(t)
	if err := f.srv.AdvanceClock(20 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	r := f.analyze(Options{})
	expiring := findingsOf(r, KindExpiring, "monthly")
	if len(expiring) != 1 || !strings.Contains(expiring[0].Summary, "expires in 9 days") {
		t.Fatalf("after 20 days: %+v", r.Findings)
	}
	if len(findingsOf(r, KindExpiring, "forever"))+len(findingsOf(r, KindExpiring, "ci")) > 0 {
		t.Errorf("tokens far from expiry reported: %+v", r.Findings)
	}

	if err := f.srv.AdvanceClock(11 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	r = f.analyze(Options{})
	expired := findingsOf(r, KindExpired, "monthly")
	if len(expired) != 1 || expired[0].Severity != SeverityCritical {
		t.Fatalf("after 31 days: %+v", r.Findings)
	}
	if r.Findings[0].Kind != KindExpired {
		t.Errorf("the critical finding is not first: %+v", r.Findings)
	}
}

func TestAnalyzeFindsUnusedTokens(t *testing.T) {
	f := newFixture(t)
	f.login(1, "api.example.com", "192.0.2.10", "US", true)
	r := f.analyze(Options{})
	unused := findingsOf(r, KindUnused, "idle")
	if len(unused) != 1 || unused[0].Evidence.IdleDays != 40 {
		t.Fatalf("unused findings %+v, want idle for 40 days", r.Findings)
	}
	if len(r.Findings) != 1 {
		t.Errorf("tokens created today are reported: %+v", r.Findings)
	}

	// A month on, the tokens that never logged in are unused too; ci logged in.
	if err := f.srv.AdvanceClock(31 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	r = f.analyze(Options{})
	for _, name := range []string{"forever", "monthly"} {
		if found := findingsOf(r, KindUnused, name); len(found) != 1 ||
			!strings.Contains(found[0].Summary, "never logged in") {
			t.Errorf("%s: %+v", name, found)
		}
	}
	if found := findingsOf(r, KindUnused, "ci"); len(found) != 1 ||
		!strings.Contains(found[0].Summary, "has not logged in for 31 days") {
		t.Errorf("ci: %+v", found)
	}
}

func TestAnalyzeCountsLoginsPerToken(t *testing.T) {
	f := newFixture(t)
	f.login(3, "api.example.com", "192.0.2.10", "US", true)
	f.login(2, "web.example.com", "192.0.2.11", "FR", false)
	ciID := f.tokenID("ci")
	other := f.tokenID("idle")
	f.srv.RecordLoginEvents(emulator.LoginEvent{Time: f.srv.Clock().Now(), TokenID: other,
		IP: netip.MustParseAddr("192.0.2.99"), Allowed: true, RayID: "00000000000000aa"})
	last := f.srv.Clock().Now()

	r := f.analyze(Options{TokenIDs: []string{ciID}})
	if len(r.Tokens) != 1 {
		t.Fatalf("tokens %+v, want ci only", r.Tokens)
	}
	ci := r.Tokens[0]
	if ci.Name != "ci" || ci.Admitted != 3 || ci.Refused != 2 || len(ci.Applications) != 2 ||
		ci.Addresses[0] != (Count{Value: "192.0.2.10", Admitted: 3}) ||
		ci.Countries[1] != (Count{Value: "FR", Refused: 2}) ||
		last.Sub(ci.LastLogin) > 5*time.Second || ci.ExpiresAt.IsZero() {
		t.Errorf("ci usage %+v", ci)
	}

	r = f.analyze(Options{})
	names := []string{}
	for _, tok := range r.Tokens {
		names = append(names, tok.Name)
	}
	if !slices.Equal(names, []string{"ci", "forever", "idle", "monthly"}) {
		t.Errorf("tokens %v", names)
	}
}

func TestAnalyzeNeedsNow(t *testing.T) {
	if _, err := Analyze(context.Background(), nil, nil, Options{}); err == nil {
		t.Error("Analyze without Now did not fail")
	}
}
