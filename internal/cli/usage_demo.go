package cli

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
)

// The demo's made-up history: where the token usually logs in from, and where a burst
// of refused logins comes from.
const (
	demoUsualAddress   = "192.0.2.10"
	demoGuessAddress   = "198.51.100.23"
	demoUsageApp       = "jaeger.example.com"
	demoHistoryLogins  = 28
	demoGuessedSecrets = 12
)

// showUsage is the demo's tour of `cfst usage`: the token of the tour's .env gets a
// week of made-up history from one address, then real requests through the edge from
// this machine (a new address) and a burst of refused logins, and `cfst usage` reports
// them with their evidence. It creates a token when .env holds none, so it may run
// after the lifecycle step or alone.
func (t *demoTour) showUsage(ctx context.Context) error {
	t.heading("Who uses the token, and from where",
		"Service-token logins are not in the dashboard's logs; 'cfst usage' reads them "+
			"from the GraphQL Analytics API\nand compares the last 24 hours with the week "+
			"before. The emulator is given a week of history\nfrom "+demoUsualAddress+
			"; then the token is used from this machine, and someone tries wrong secrets.")
	clientID, _, _, err := t.app.credentials()
	if err != nil {
		t.run(ctx, "create", "demo-usage")
		if clientID, _, _, err = t.app.credentials(); err != nil {
			return err
		}
	}
	client, err := t.app.apiClient()
	if err != nil {
		return err
	}
	tok, err := client.ResolveToken(ctx, clientID)
	if err != nil {
		return fmt.Errorf("demo: find the token of .env: %w", err)
	}
	appID, err := demoAppID(ctx, client, demoUsageApp)
	if err != nil {
		return err
	}
	t.srv.RecordLoginEvents(demoHistory(t.srv.Clock().Now(), tok, appID)...)
	t.run(ctx, "test", demoUsageApp, "pihole.example.com")
	t.run(ctx, "test", demoUsageApp)
	t.srv.RecordLoginEvents(demoGuesses(t.srv.Clock().Now(), tok, appID)...)
	t.run(ctx, "usage", "--token", tok.Name)
	return nil
}

// demoAppID is the id of the application on domain.
func demoAppID(ctx context.Context, client *cloudflare.Client, domain string) (string, error) {
	apps, err := client.ListApplications(ctx)
	if err != nil {
		return "", fmt.Errorf("demo: list applications: %w", err)
	}
	for _, a := range apps {
		if a.Domain == domain {
			return a.ID, nil
		}
	}
	return "", fmt.Errorf("demo: no application %q", domain)
}

// demoHistory is a week of admitted logins from the usual address, before the last day.
func demoHistory(now time.Time, tok cloudflare.Token, appID string) []emulator.LoginEvent {
	start := now.Add(-7 * day)
	step := 6 * day / demoHistoryLogins
	events := make([]emulator.LoginEvent, 0, demoHistoryLogins)
	for i := range demoHistoryLogins {
		events = append(events, demoEvent(start.Add(time.Duration(i)*step), tok, appID,
			demoUsualAddress, true, i))
	}
	return events
}

// demoGuesses is a burst of refused logins, a second apart, ending now.
func demoGuesses(now time.Time, tok cloudflare.Token, appID string) []emulator.LoginEvent {
	events := make([]emulator.LoginEvent, 0, demoGuessedSecrets)
	for i := range demoGuessedSecrets {
		at := now.Add(time.Duration(i-demoGuessedSecrets) * time.Second)
		events = append(events, demoEvent(at, tok, appID, demoGuessAddress, false,
			demoHistoryLogins+i))
	}
	return events
}

func demoEvent(at time.Time, tok cloudflare.Token, appID, ip string, allowed bool, n int,
) emulator.LoginEvent {
	ev := emulator.LoginEvent{Time: at, RayID: fmt.Sprintf("de0000000000%04x", n),
		TokenID: tok.ID, ClientID: tok.ClientID, AppID: appID, AppDomain: demoUsageApp,
		Host: demoUsageApp, IP: netip.MustParseAddr(ip), Country: "US", Allowed: allowed,
		Outcome: "admitted"}
	if !allowed {
		ev.Outcome, ev.Reason, ev.Status = "forbidden", "the secret does not match", 403
	}
	return ev
}
