package usage

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
)

// The kinds of finding.
const (
	KindNewAddress   = "new_address"
	KindNewCountry   = "new_country"
	KindRateSpike    = "rate_spike"
	KindRefusalBurst = "refusal_burst"
	KindUnused       = "unused"
	KindExpiring     = "expiring"
	KindExpired      = "expired"
)

// Severities, from worst.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

var severityRank = map[string]int{SeverityCritical: 0, SeverityWarning: 1, SeverityInfo: 2}

// Finding is something about a token that deserves a look, with the evidence for it.
type Finding struct {
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	TokenID   string `json:"token_id"`
	TokenName string `json:"token_name"`
	// Summary says it in one line.
	Summary  string   `json:"summary"`
	Evidence Evidence `json:"evidence"`
}

// Key identifies a finding across runs, so that a monitor alerts on it once.
func (f Finding) Key() string {
	parts := []string{f.Kind, f.TokenID, f.Evidence.Address, f.Evidence.Country}
	if f.Kind == KindRefusalBurst {
		parts = append(parts, f.Evidence.From.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, "|")
}

// Evidence is what a finding rests on; each kind sets the fields that apply.
type Evidence struct {
	Address      string   `json:"address,omitempty"`
	Country      string   `json:"country,omitempty"`
	Applications []string `json:"applications,omitempty"`
	Logins       int64    `json:"logins,omitempty"`
	Refused      int64    `json:"refused,omitempty"`
	// FirstSeen is the first login from a new address in the window.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	// KnownAddresses and KnownCountries are some of the baseline's (at most 5).
	KnownAddresses []string `json:"known_addresses,omitempty"`
	KnownCountries []string `json:"known_countries,omitempty"`
	// MoreAddresses counts the new addresses left out of the findings.
	MoreAddresses int `json:"more_addresses,omitempty"`
	// RatePerHour and BaselineRatePerHour compare logins per hour.
	RatePerHour         float64 `json:"rate_per_hour,omitempty"`
	BaselineRatePerHour float64 `json:"baseline_rate_per_hour,omitempty"`
	// From and To bound a burst; Addresses are where its refusals came from.
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	Addresses []Count   `json:"addresses,omitempty"`
	// LastSeen is the last sign of use; CreatedAt and ExpiresAt come from the API.
	LastSeen  time.Time `json:"last_seen,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// IdleDays is how long an unused token has gone without a login.
	IdleDays int `json:"idle_days,omitempty"`
}

// maxKnown bounds the baseline values a finding lists.
const maxKnown = 5

// findings applies every rule to every token, worst first.
func (a *analysis) findings(ctx context.Context) ([]Finding, error) {
	findings := []Finding{}
	for _, id := range a.tokenIDs() {
		s := a.stats[id]
		findings = append(findings, a.expiry(s)...)
		findings = append(findings, a.unused(s)...)
		if a.opts.Baseline > 0 && s.baselineLogins > 0 {
			newAddresses, err := a.newAddresses(ctx, s)
			if err != nil {
				return nil, err
			}
			findings = append(findings, newAddresses...)
			findings = append(findings, a.newCountries(s)...)
			findings = append(findings, a.rateSpike(s)...)
		}
		burst, err := a.refusalBurst(ctx, s)
		if err != nil {
			return nil, err
		}
		findings = append(findings, burst...)
	}
	slices.SortStableFunc(findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(severityRank[x.Severity], severityRank[y.Severity]),
			strings.Compare(x.TokenName, y.TokenName), strings.Compare(x.TokenID, y.TokenID))
	})
	return findings, nil
}

func (s *tokenStats) finding(kind, severity, summary string, evidence Evidence) Finding {
	return Finding{Kind: kind, Severity: severity, TokenID: s.token.ID,
		TokenName: s.token.Name, Summary: summary, Evidence: evidence}
}

// label names the token in a summary: its name, or its id when the account lost it.
func (s *tokenStats) label() string {
	if s.token.Name != "" {
		return s.token.Name
	}
	return "deleted token " + s.token.ID
}

// expiry finds tokens that expired or expire within ExpiringWithin.
func (a *analysis) expiry(s *tokenStats) []Finding {
	tok := s.token
	if !s.known || tok.Forever || tok.ExpiresAt.IsZero() {
		return nil
	}
	evidence := Evidence{ExpiresAt: tok.ExpiresAt, LastSeen: s.lastActivity()}
	left := tok.ExpiresAt.Sub(a.until)
	switch {
	case left <= 0:
		return []Finding{s.finding(KindExpired, SeverityCritical, fmt.Sprintf(
			"%s expired %s ago (%s): anything still using it is refused", s.label(),
			days(-left), stamp(tok.ExpiresAt)), evidence)}
	case left <= a.opts.ExpiringWithin:
		return []Finding{s.finding(KindExpiring, SeverityWarning, fmt.Sprintf(
			"%s expires in %s (%s): run 'cfst refresh %s' or rotate it", s.label(),
			days(left), stamp(tok.ExpiresAt), tok.Name), evidence)}
	}
	return nil
}

// lastActivity is the latest sign of use: the last login in the window or the API's
// last_seen_at, whichever is later.
func (s *tokenStats) lastActivity() time.Time {
	last := s.lastLogin
	if s.token.LastSeenAt.After(last) {
		last = s.token.LastSeenAt
	}
	return last
}

// unused finds tokens without a login for UnusedAfter: candidates to delete.
func (a *analysis) unused(s *tokenStats) []Finding {
	if !s.known || s.admitted+s.refused > 0 || s.baselineLogins > 0 {
		return nil
	}
	last := s.lastActivity()
	evidence := Evidence{LastSeen: last, CreatedAt: s.token.CreatedAt}
	state := ""
	if !s.token.Enabled {
		state = " (disabled)"
	}
	if last.IsZero() {
		age := a.until.Sub(s.token.CreatedAt)
		if s.token.CreatedAt.IsZero() || age < a.opts.UnusedAfter {
			return nil
		}
		evidence.IdleDays = int(age / (24 * time.Hour))
		return []Finding{s.finding(KindUnused, SeverityInfo, fmt.Sprintf(
			"%s%s has never logged in since it was created %s ago: a candidate to delete",
			s.label(), state, days(age)), evidence)}
	}
	idle := a.until.Sub(last)
	if idle < a.opts.UnusedAfter {
		return nil
	}
	evidence.IdleDays = int(idle / (24 * time.Hour))
	return []Finding{s.finding(KindUnused, SeverityInfo, fmt.Sprintf(
		"%s%s has not logged in for %s (last seen %s): a candidate to delete", s.label(),
		state, days(idle), stamp(last)), evidence)}
}

// newAddresses finds addresses of the window that the baseline never saw, most logins
// first, at most MaxNewAddresses of them, each with its first login.
func (a *analysis) newAddresses(ctx context.Context, s *tokenStats) ([]Finding, error) {
	var fresh []*addressStats
	for ip, addr := range s.addresses {
		if !s.baselineAddresses[ip] {
			fresh = append(fresh, addr)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	slices.SortFunc(fresh, func(x, y *addressStats) int {
		return cmp.Or(cmp.Compare(y.Admitted+y.Refused, x.Admitted+x.Refused),
			strings.Compare(x.Value, y.Value))
	})
	more := len(fresh) - a.opts.MaxNewAddresses
	fresh = fresh[:min(len(fresh), a.opts.MaxNewAddresses)]
	keys := make([]cloudflare.LoginKey, 0, len(fresh))
	for _, addr := range fresh {
		keys = append(keys, cloudflare.LoginKey{TokenID: s.token.ID, IPAddress: addr.Value})
	}
	firsts, err := a.src.LoginTimes(ctx, a.since, a.until, keys, true)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	for i, addr := range fresh {
		evidence := Evidence{Address: addr.Value, Country: addr.country,
			Applications: slices.Sorted(maps.Keys(addr.apps)),
			Logins:       addr.Admitted + addr.Refused, Refused: addr.Refused,
			FirstSeen: firsts[keys[i]], KnownAddresses: someOf(s.baselineAddresses)}
		if i == len(fresh)-1 && more > 0 {
			evidence.MoreAddresses = more
		}
		findings = append(findings, s.finding(KindNewAddress, SeverityWarning, fmt.Sprintf(
			"%s logged in from %s (%s), an address not seen in the %s before: %d logins, "+
				"%d admitted", s.label(), addr.Value, orUnknown(addr.country),
			span(a.opts.Baseline), evidence.Logins, addr.Admitted), evidence))
	}
	return findings, nil
}

// newCountries finds countries of the window that the baseline never saw.
func (a *analysis) newCountries(s *tokenStats) []Finding {
	var findings []Finding
	for _, country := range slices.Sorted(maps.Keys(s.countries)) {
		if s.baselineCountries[country] {
			continue
		}
		count := s.countries[country]
		evidence := Evidence{Country: country, Logins: count.Admitted + count.Refused,
			Refused: count.Refused, KnownCountries: someOf(s.baselineCountries)}
		findings = append(findings, s.finding(KindNewCountry, SeverityWarning, fmt.Sprintf(
			"%s logged in from %s, a country not seen in the %s before: %d logins",
			s.label(), orUnknown(country), span(a.opts.Baseline), evidence.Logins), evidence))
	}
	return findings
}

// rateSpike finds a token whose hourly login rate is far above the baseline's.
func (a *analysis) rateSpike(s *tokenStats) []Finding {
	logins := s.admitted + s.refused
	rate := float64(logins) / a.opts.Since.Hours()
	baseline := float64(s.baselineLogins) / a.opts.Baseline.Hours()
	if logins < a.opts.RateMinLogins || rate < a.opts.RateFactor*baseline {
		return nil
	}
	evidence := Evidence{Logins: logins, Refused: s.refused, RatePerHour: round(rate),
		BaselineRatePerHour: round(baseline)}
	return []Finding{s.finding(KindRateSpike, SeverityWarning, fmt.Sprintf(
		"%s made %d logins in the last %s (%.1f/h), %.0fx its rate in the %s before "+
			"(%.2f/h)", s.label(), logins, span(a.opts.Since), rate, rate/baseline,
		span(a.opts.Baseline), baseline), evidence)}
}

// refusalBurst finds the BurstWindow with the most refusals, when it is a burst. The
// window slides second by second, so a burst is never split in two.
func (a *analysis) refusalBurst(ctx context.Context, s *tokenStats) ([]Finding, error) {
	width := int64(max(a.opts.BurstWindow/time.Second, 1))
	last, refused := mostRefusedWindow(s.refusalsAt, width)
	expected := 0.0
	if a.opts.Baseline > 0 {
		expected = float64(s.baselineRefused) * float64(a.opts.BurstWindow) /
			float64(a.opts.Baseline)
	}
	if refused < a.opts.BurstMinRefusals || float64(refused) < 3*expected {
		return nil, nil
	}
	to := time.Unix(last+1, 0).UTC()
	from := to.Add(-a.opts.BurstWindow)
	addresses, err := a.refusingAddresses(ctx, s.token.ID, from, to)
	if err != nil {
		return nil, err
	}
	evidence := Evidence{Refused: refused, From: from, To: to, Addresses: addresses}
	return []Finding{s.finding(KindRefusalBurst, SeverityWarning, fmt.Sprintf(
		"%s was refused %d times between %s and %s (%.1f expected from the baseline)",
		s.label(), refused, stamp(from), stamp(to), expected), evidence)}, nil
}

// mostRefusedWindow returns the window of width seconds with the most refusals, as the
// second of its last refusal (the latest window on a tie), and their sum.
func mostRefusedWindow(refusalsAt map[int64]int64, width int64) (last, refused int64) {
	seconds := slices.Sorted(maps.Keys(refusalsAt))
	var inWindow int64
	first := 0
	for _, second := range seconds {
		inWindow += refusalsAt[second]
		for second-seconds[first] >= width {
			inWindow -= refusalsAt[seconds[first]]
			first++
		}
		if inWindow >= refused {
			last, refused = second, inWindow
		}
	}
	return last, refused
}

// refusingAddresses lists where a burst's refusals came from, most first (at most 5).
func (a *analysis) refusingAddresses(ctx context.Context, tokenID string, from, to time.Time,
) ([]Count, error) {
	refused := false
	q := cloudflare.LoginQuery{Since: from, Until: to, TokenIDs: []string{tokenID},
		Allowed: &refused, Dimensions: []string{cloudflare.LoginDimAddress},
		PageSize: a.opts.PageSize}
	counts := map[string]*Count{}
	err := a.src.EachLoginGroup(ctx, q, func(g cloudflare.LoginGroup) error {
		countOf(counts, g.IPAddress).Refused += g.Count
		return nil
	})
	list := sortedCounts(counts)
	return list[:min(len(list), maxKnown)], err
}

// someOf returns up to maxKnown values of a set, sorted.
func someOf(set map[string]bool) []string {
	values := slices.Sorted(maps.Keys(set))
	return values[:min(len(values), maxKnown)]
}

func orUnknown(country string) string {
	if country == "" {
		return "unknown country"
	}
	return country
}

func round(x float64) float64 { return math.Round(x*100) / 100 }

// stamp formats a time for a summary.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// days says a duration in days, or hours below two days: "9 days", "30h".
func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%dh", int(math.Ceil(d.Hours())))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// span names a window: "7 days", "24h", "90m".
func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return strings.TrimSuffix(d.String(), "0s")
}
