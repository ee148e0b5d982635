// Package usage reports how service tokens are used, from Cloudflare's record of
// service-token logins (the GraphQL dataset accessLoginRequestsAdaptiveGroups), and finds
// what deserves a look: addresses or countries a token never used before, a login rate
// far above its usual one, bursts of refused logins, tokens nobody uses, and tokens about
// to expire.
//
//	report, err := usage.Analyze(ctx, client, tokens, usage.Options{Now: time.Now()})
//
// Analyze streams: it asks the API for rows already grouped by token, application,
// address and country, page by page, and adds them into counters. It never holds the
// logins themselves, so its memory depends on how many distinct tokens, addresses and
// applications there are, not on how many logins.
package usage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
)

// Source is where logins come from; *cloudflare.Client is one.
type Source interface {
	EachLoginGroup(ctx context.Context, q cloudflare.LoginQuery,
		each func(cloudflare.LoginGroup) error) error
	LoginTimes(ctx context.Context, since, until time.Time, keys []cloudflare.LoginKey,
		first bool) (map[cloudflare.LoginKey]time.Time, error)
}

// Options sets the windows and thresholds of an analysis. Zero fields take the defaults.
type Options struct {
	// Now ends the window; it is required.
	Now time.Time
	// Since is how far back the window reaches: 24h by default.
	Since time.Duration
	// Baseline is the span before the window that counts as usual: 7 days by default.
	// A negative value turns off the findings that compare with it.
	Baseline time.Duration
	// UnusedAfter makes a token unused when its last login is older: 30 days by default.
	UnusedAfter time.Duration
	// ExpiringWithin makes a token expiring when it expires sooner: 14 days by default.
	ExpiringWithin time.Duration
	// TokenIDs, if set, limits the analysis to these tokens.
	TokenIDs []string
	// RateFactor and RateMinLogins: a rate spike is at least RateMinLogins logins in the
	// window, at RateFactor times the baseline's hourly rate or more. Defaults 5 and 20.
	RateFactor    float64
	RateMinLogins int64
	// BurstWindow and BurstMinRefusals: a burst is at least BurstMinRefusals refused
	// logins within one BurstWindow, and three times what the baseline would have there.
	// Defaults 5 minutes and 10.
	BurstWindow      time.Duration
	BurstMinRefusals int64
	// MaxNewAddresses caps the new-address findings per token: 5 by default. The rest
	// are counted in the last one.
	MaxNewAddresses int
	// PageSize is passed to the source; 0 means the API's maximum.
	PageSize int
}

func (o Options) withDefaults() Options {
	set := func(d *time.Duration, value time.Duration) {
		if *d == 0 {
			*d = value
		}
	}
	set(&o.Since, 24*time.Hour)
	set(&o.Baseline, 7*24*time.Hour)
	set(&o.UnusedAfter, 30*24*time.Hour)
	set(&o.ExpiringWithin, 14*24*time.Hour)
	set(&o.BurstWindow, 5*time.Minute)
	if o.RateFactor <= 0 {
		o.RateFactor = 5
	}
	if o.RateMinLogins <= 0 {
		o.RateMinLogins = 20
	}
	if o.BurstMinRefusals <= 0 {
		o.BurstMinRefusals = 10
	}
	if o.MaxNewAddresses <= 0 {
		o.MaxNewAddresses = 5
	}
	return o
}

// Token is what the analysis knows of a service token from the API.
type Token struct {
	ID, Name, ClientID string
	Enabled            bool
	Forever            bool
	ExpiresAt          time.Time
	CreatedAt          time.Time
	// LastSeenAt is the API's last_seen_at, which outlives the login record's retention.
	LastSeenAt time.Time
}

// TokenFrom converts a token of the API client.
func TokenFrom(tok cloudflare.Token) Token {
	return Token{ID: tok.ID, Name: tok.Name, ClientID: tok.ClientID, Enabled: tok.Enabled,
		Forever: tok.Forever, ExpiresAt: tok.ExpiresAt, CreatedAt: tok.CreatedAt,
		LastSeenAt: tok.LastSeenAt}
}

// Report is the result of an analysis. Its JSON keys are a stable interface.
type Report struct {
	Since         time.Time    `json:"since"`
	Until         time.Time    `json:"until"`
	BaselineSince time.Time    `json:"baseline_since,omitzero"`
	Tokens        []TokenUsage `json:"tokens"`
	Findings      []Finding    `json:"findings"`
}

// TokenUsage is one token's logins in the window.
type TokenUsage struct {
	ID string `json:"id"`
	// Name and ClientID are empty for a token the account no longer has.
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
	Admitted int64  `json:"admitted"`
	Refused  int64  `json:"refused"`
	// Applications, Addresses and Countries count logins by value, most first.
	Applications []Count `json:"applications"`
	Addresses    []Count `json:"addresses"`
	Countries    []Count `json:"countries"`
	// LastLogin is the last login in the window; LastSeenAt the API's last_seen_at.
	LastLogin  time.Time `json:"last_login,omitzero"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	// BaselineLogins counts the logins of the baseline, admitted or not.
	BaselineLogins int64 `json:"baseline_logins"`
}

// Logins is the number of logins in the window, admitted or not.
func (t TokenUsage) Logins() int64 { return t.Admitted + t.Refused }

// Count is how many logins had one value (an application id, an address, a country).
type Count struct {
	Value    string `json:"value"`
	Admitted int64  `json:"admitted"`
	Refused  int64  `json:"refused"`
}

// Analyze reads the logins of the window (and of the baseline before it) from src and
// reports on every token of tokens and every token that logged in.
func Analyze(ctx context.Context, src Source, tokens []Token, opts Options) (Report, error) {
	if opts.Now.IsZero() {
		return Report{}, fmt.Errorf("usage: Options.Now is required")
	}
	opts = opts.withDefaults()
	a := newAnalysis(src, tokens, opts)
	steps := []func(context.Context) error{
		a.readWindow, a.readBaseline, a.readRefusals, a.readLastLogins,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return Report{}, err
		}
	}
	findings, err := a.findings(ctx)
	if err != nil {
		return Report{}, err
	}
	return a.report(findings), nil
}

// report assembles the result, tokens by name then id.
func (a *analysis) report(findings []Finding) Report {
	r := Report{Since: a.since, Until: a.until, Findings: findings}
	if a.opts.Baseline > 0 {
		r.BaselineSince = a.baselineSince
	}
	for _, id := range a.tokenIDs() {
		r.Tokens = append(r.Tokens, a.stats[id].usage())
	}
	slices.SortStableFunc(r.Tokens, func(x, y TokenUsage) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	if r.Tokens == nil {
		r.Tokens = []TokenUsage{}
	}
	return r
}
