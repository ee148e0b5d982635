package usage

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
)

// analysis is one run of Analyze: the windows, and counters per token.
type analysis struct {
	src           Source
	opts          Options
	since, until  time.Time
	baselineSince time.Time
	stats         map[string]*tokenStats
}

// tokenStats are the counters of one token. None grows with the number of logins: each
// map is keyed by a distinct application, address, country or time bucket.
type tokenStats struct {
	token     Token
	known     bool // the token is in the account
	admitted  int64
	refused   int64
	apps      map[string]*Count
	addresses map[string]*addressStats
	countries map[string]*Count
	lastLogin time.Time

	baselineLogins    int64
	baselineRefused   int64
	baselineAddresses map[string]bool
	baselineCountries map[string]bool

	// refusalsAt counts refused logins per second (Unix time): the analytics API's finest
	// grain, so that a burst is found in an exact sliding window. It holds one entry per
	// second with a refusal, at most 86,400 a day per token: small beside the logins.
	refusalsAt map[int64]int64
}

// addressStats counts the logins from one address and the applications they reached.
type addressStats struct {
	Count
	country string
	apps    map[string]bool
}

func newTokenStats(tok Token, known bool) *tokenStats {
	return &tokenStats{token: tok, known: known, apps: map[string]*Count{},
		addresses: map[string]*addressStats{}, countries: map[string]*Count{},
		baselineAddresses: map[string]bool{}, baselineCountries: map[string]bool{},
		refusalsAt: map[int64]int64{}}
}

func newAnalysis(src Source, tokens []Token, opts Options) *analysis {
	a := &analysis{src: src, opts: opts, until: opts.Now, since: opts.Now.Add(-opts.Since),
		stats: map[string]*tokenStats{}}
	a.baselineSince = a.since.Add(-max(opts.Baseline, 0))
	for _, tok := range tokens {
		if len(opts.TokenIDs) == 0 || slices.Contains(opts.TokenIDs, tok.ID) {
			a.stats[tok.ID] = newTokenStats(tok, true)
		}
	}
	return a
}

// statsOf returns the counters of a token id, creating them for a token the account no
// longer has. It returns nil for a token outside Options.TokenIDs.
func (a *analysis) statsOf(id string) *tokenStats {
	if s, ok := a.stats[id]; ok {
		return s
	}
	if len(a.opts.TokenIDs) > 0 && !slices.Contains(a.opts.TokenIDs, id) {
		return nil
	}
	s := newTokenStats(Token{ID: id}, false)
	a.stats[id] = s
	return s
}

func (a *analysis) tokenIDs() []string {
	return slices.Sorted(maps.Keys(a.stats))
}

func (a *analysis) query(since, until time.Time, dims ...string) cloudflare.LoginQuery {
	return cloudflare.LoginQuery{Since: since, Until: until, Dimensions: dims,
		TokenIDs: a.opts.TokenIDs, PageSize: a.opts.PageSize}
}

// readWindow counts the window's logins by token, application, address and country.
func (a *analysis) readWindow(ctx context.Context) error {
	q := a.query(a.since, a.until, cloudflare.LoginDimToken, cloudflare.LoginDimApp,
		cloudflare.LoginDimAddress, cloudflare.LoginDimCountry, cloudflare.LoginDimAllowed)
	return a.src.EachLoginGroup(ctx, q, func(g cloudflare.LoginGroup) error {
		if s := a.statsOf(g.TokenID); s != nil {
			s.add(g)
		}
		return nil
	})
}

func (s *tokenStats) add(g cloudflare.LoginGroup) {
	tally := func(c *Count) {
		if g.Allowed {
			c.Admitted += g.Count
		} else {
			c.Refused += g.Count
		}
	}
	if g.Allowed {
		s.admitted += g.Count
	} else {
		s.refused += g.Count
	}
	tally(countOf(s.apps, g.AppID))
	tally(countOf(s.countries, g.Country))
	addr, ok := s.addresses[g.IPAddress]
	if !ok {
		addr = &addressStats{Count: Count{Value: g.IPAddress}, country: g.Country,
			apps: map[string]bool{}}
		s.addresses[g.IPAddress] = addr
	}
	tally(&addr.Count)
	if len(addr.apps) < maxAppsPerAddress {
		addr.apps[g.AppID] = true
	}
}

// maxAppsPerAddress bounds the applications kept as evidence for one address.
const maxAppsPerAddress = 10

func countOf(counts map[string]*Count, value string) *Count {
	c, ok := counts[value]
	if !ok {
		c = &Count{Value: value}
		counts[value] = c
	}
	return c
}

// readBaseline records the addresses, countries and login counts of the baseline.
func (a *analysis) readBaseline(ctx context.Context) error {
	if a.opts.Baseline <= 0 {
		return nil
	}
	q := a.query(a.baselineSince, a.since, cloudflare.LoginDimToken,
		cloudflare.LoginDimAddress, cloudflare.LoginDimCountry, cloudflare.LoginDimAllowed)
	return a.src.EachLoginGroup(ctx, q, func(g cloudflare.LoginGroup) error {
		s := a.statsOf(g.TokenID)
		if s == nil {
			return nil
		}
		s.baselineLogins += g.Count
		if !g.Allowed {
			s.baselineRefused += g.Count
		}
		s.baselineAddresses[g.IPAddress] = true
		s.baselineCountries[g.Country] = true
		return nil
	})
}

// readRefusals counts the window's refused logins per second, for bursts.
func (a *analysis) readRefusals(ctx context.Context) error {
	refused := false
	q := a.query(a.since, a.until, cloudflare.LoginDimTime, cloudflare.LoginDimToken)
	q.Allowed = &refused
	return a.src.EachLoginGroup(ctx, q, func(g cloudflare.LoginGroup) error {
		if s := a.statsOf(g.TokenID); s != nil {
			s.refusalsAt[g.Time.Unix()] += g.Count
		}
		return nil
	})
}

// readLastLogins finds when each token that logged in did so last.
func (a *analysis) readLastLogins(ctx context.Context) error {
	var keys []cloudflare.LoginKey
	for _, id := range a.tokenIDs() {
		if a.stats[id].admitted+a.stats[id].refused > 0 {
			keys = append(keys, cloudflare.LoginKey{TokenID: id})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	last, err := a.src.LoginTimes(ctx, a.since, a.until, keys, false)
	for key, at := range last {
		a.stats[key.TokenID].lastLogin = at
	}
	return err
}

// usage is the token's part of the report.
func (s *tokenStats) usage() TokenUsage {
	u := TokenUsage{ID: s.token.ID, Name: s.token.Name, ClientID: s.token.ClientID,
		Admitted: s.admitted, Refused: s.refused, LastLogin: s.lastLogin,
		LastSeenAt: s.token.LastSeenAt, BaselineLogins: s.baselineLogins,
		Applications: sortedCounts(s.apps), Countries: sortedCounts(s.countries)}
	if !s.token.Forever {
		u.ExpiresAt = s.token.ExpiresAt
	}
	u.Addresses = make([]Count, 0, len(s.addresses))
	for _, addr := range s.addresses {
		u.Addresses = append(u.Addresses, addr.Count)
	}
	sortCounts(u.Addresses)
	return u
}

func sortedCounts(counts map[string]*Count) []Count {
	list := make([]Count, 0, len(counts))
	for _, c := range counts {
		list = append(list, *c)
	}
	sortCounts(list)
	return list
}

// sortCounts orders counts by logins, most first, then by value.
func sortCounts(list []Count) {
	slices.SortFunc(list, func(x, y Count) int {
		return cmp.Or(cmp.Compare(y.Admitted+y.Refused, x.Admitted+x.Refused),
			strings.Compare(x.Value, y.Value))
	})
}
