package emulator

import (
	"cmp"
	"crypto/subtle"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/secret"
)

// The reasons authenticate gives when credentials do not authenticate.
const (
	whyUnknownClient = "unknown client id"
	whyWrongSecret   = "wrong secret"
	whyExpired       = "expired"
	whyDisabled      = "disabled"
	whyPastGrace     = "previous secret past grace"
)

// authenticate checks a client id and secret at time now. The secret may be the current
// one, or the previous one until previous_client_secret_expires_at. The token must be
// enabled (disabling also stops the previous secret) and, unless its duration is forever,
// unexpired.
//
// For a known client id, tokenID is set even when authentication fails, and last_seen_at
// is set to now on every attempt, failed ones included: Cloudflare does not say which
// attempts count, and "seen" is the plainer reading. why is "" on success, else one of the
// why* reasons, for logs.
func (st *state) authenticate(clientID, secretValue string, now time.Time) (
	tokenID string, cred access.CredentialState, why string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, ok := st.byClient[clientID]
	if !ok {
		return "", access.InvalidToken, whyUnknownClient
	}
	seen := now
	tok.lastSeenAt = &seen
	if why := tok.credentialProblem(secretValue, now); why != "" {
		return tok.id, access.InvalidToken, why
	}
	return tok.id, access.ValidToken, ""
}

func (tok *tokenRecord) credentialProblem(secretValue string, now time.Time) string {
	switch {
	case secretMatches(tok.secret, secretValue):
	case !tok.previous.IsZero() && secretMatches(tok.previous, secretValue):
		if tok.previousExpiresAt == nil || !now.Before(*tok.previousExpiresAt) {
			return whyPastGrace
		}
	default:
		return whyWrongSecret
	}
	if !tok.enabled {
		return whyDisabled
	}
	if tok.expired(now) {
		return whyExpired
	}
	return ""
}

func (tok *tokenRecord) expired(now time.Time) bool {
	return tok.duration != durationForever && !now.Before(tok.expiresAt)
}

func secretMatches(want secret.Secret, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want.Reveal()), []byte(got)) == 1
}

// applications returns copies of every application, each with its policies (its own and
// the reusable ones attached) sorted by precedence: the account's first, then the zone's,
// each in creation order. That is the order in which a client reads them from the API
// (account scope, then zone scope), so when two applications have the very same
// destination, a tie Cloudflare does not document, the edge and cfst pick the same one.
func (st *state) applications() []access.Application {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]access.Application, 0, len(st.apps))
	for _, scope := range []string{scopeAccount, scopeZone} {
		for _, rec := range st.apps {
			if rec.scope == scope {
				out = append(out, st.resolvedApp(rec))
			}
		}
	}
	return out
}

// resolvedApp copies an application with its policies. st.mu must be held.
func (st *state) resolvedApp(rec *appRecord) access.Application {
	app := rec.app
	app.Destinations = slices.Clone(rec.app.Destinations)
	app.SelfHostedDomains = slices.Clone(rec.app.SelfHostedDomains)
	app.Policies = make([]access.Policy, 0, len(rec.links))
	for _, link := range rec.links {
		if p := st.findPolicy(link.policyID); p != nil {
			app.Policies = append(app.Policies, policyCopy(p.policy, link.precedence))
		}
	}
	slices.SortStableFunc(app.Policies, func(a, b access.Policy) int {
		return cmp.Compare(a.Precedence, b.Precedence)
	})
	return app
}

func policyCopy(p access.Policy, precedence int) access.Policy {
	p.Precedence = precedence
	p.Include, p.Exclude, p.Require = cloneRules(p.Include), cloneRules(p.Exclude),
		cloneRules(p.Require)
	return p
}

// groups returns copies of every Access group, account and zone scope.
func (st *state) groups() []access.Group {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]access.Group, 0, len(st.groupList))
	for _, rec := range st.groupList {
		out = append(out, groupCopy(rec.group))
	}
	return out
}

func groupCopy(g access.Group) access.Group {
	g.Include, g.Exclude, g.Require = cloneRules(g.Include), cloneRules(g.Exclude),
		cloneRules(g.Require)
	return g
}

// strict reports whether strict service token authentication is on.
func (st *state) strict() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.strictMode
}

// loginConnection is the "connection" to report for a service-token login (see
// LoginEvents).
func (st *state) loginConnection() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.connection
}

// origin returns the origin spec of an application (see WorldApp.Origin), "ok" for an
// application the world did not define.
func (st *state) origin(appID string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if app := st.findApp(appID); app != nil && app.origin != "" {
		return app.origin
	}
	return originSpecOK
}
