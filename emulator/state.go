package emulator

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/secret"
)

// state is the emulator's live data: what the API changes and the edge reads. One mutex
// guards it; every method takes it, so all are safe for concurrent use.
type state struct {
	mu         sync.Mutex
	accountID  string
	zoneID     string
	strictMode bool
	tokenLimit int
	connection string
	gen        *idSource

	apiTokens []apiTokenRecord
	tokens    []*tokenRecord
	byClient  map[string]*tokenRecord
	apps      []*appRecord
	policies  []*policyRecord // reusable and app-scoped
	groupList []*groupRecord

	faults      faultTable
	limiter     *rateLimiter
	apiRequests atomic.Int64
	routesOnce  sync.Once
	routes      *http.ServeMux
}

type apiTokenRecord struct {
	id, name string
	value    secret.Secret
	perms    map[string]bool
}

// tokenRecord is a service token. scope is scopeAccount or scopeZone.
type tokenRecord struct {
	id, name, clientID, scope string
	secret, previous          secret.Secret
	previousExpiresAt         *time.Time
	version                   int
	duration                  string
	expiresAt                 time.Time // zero for a token whose duration is forever
	enabled                   bool
	createdAt, updatedAt      time.Time
	lastSeenAt                *time.Time
}

// appRecord is an application. Its policies live in state.policies; links order them.
type appRecord struct {
	app                  access.Application // Policies is always nil here
	scope                string
	links                []policyLink
	origin               string
	createdAt, updatedAt time.Time
}

type policyLink struct {
	policyID   string
	precedence int
}

// policyRecord is a reusable policy (appID "") or an application's own policy.
type policyRecord struct {
	policy               access.Policy // Precedence is kept in the app's links
	appID                string
	sessionDuration      string
	createdAt, updatedAt time.Time
}

type groupRecord struct {
	group                access.Group
	scope                string
	createdAt, updatedAt time.Time
}

// newState builds the live state from a validated world, at time now.
func newState(w *World, now time.Time) (*state, error) {
	st := &state{
		accountID: w.AccountID, zoneID: w.ZoneID, strictMode: w.Strict,
		tokenLimit: w.TokenLimit, connection: w.LoginEvents.Connection,
		byClient: map[string]*tokenRecord{},
	}
	st.gen = newIDSource(w.Seed, "api")
	if err := st.loadWorld(w, now); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *state) loadWorld(w *World, now time.Time) error {
	for _, t := range w.APITokens {
		st.apiTokens = append(st.apiTokens, newAPITokenRecord(t))
	}
	for _, t := range w.ServiceTokens {
		rec, err := newTokenRecord(t, now)
		if err != nil {
			return err
		}
		st.addToken(rec)
	}
	for _, g := range w.Groups {
		st.groupList = append(st.groupList, &groupRecord{
			group: access.Group{ID: g.ID, Name: g.Name, Include: cloneRules(g.Include),
				Exclude: cloneRules(g.Exclude), Require: cloneRules(g.Require)},
			scope: g.Scope, createdAt: now, updatedAt: now,
		})
	}
	for _, p := range w.Policies {
		st.policies = append(st.policies, newPolicyRecord(p, "", now))
	}
	for _, a := range w.Applications {
		st.loadApp(a, now)
	}
	st.faults.add(w.Faults...)
	if rl := w.RateLimit; rl != nil {
		window, _ := parsePositiveDuration(rl.Window)
		st.limiter = newRateLimiter(rl.Requests, window)
	}
	return nil
}

func newAPITokenRecord(t WorldAPIToken) apiTokenRecord {
	rec := apiTokenRecord{id: t.ID, name: t.Name, value: t.Value.Secret, perms: map[string]bool{}}
	for _, p := range t.Permissions {
		if p == PermAll {
			for _, each := range allPermissions {
				rec.perms[each] = true
			}
		}
		rec.perms[p] = true
	}
	return rec
}

func newTokenRecord(t WorldServiceToken, now time.Time) (*tokenRecord, error) {
	rec := &tokenRecord{
		id: t.ID, name: t.Name, clientID: t.ClientID, scope: t.Scope,
		secret: t.ClientSecret.Secret, previous: t.PreviousClientSecret.Secret,
		version: t.ClientSecretVersion, duration: t.Duration,
		enabled: t.Enabled == nil || *t.Enabled, createdAt: now,
	}
	d, _ := parseTokenDuration(t.Duration)
	if t.Duration != durationForever {
		rec.expiresAt = now.Add(d)
	}
	if t.ExpiresAt != "" {
		expires, err := parseWorldTime(t.ExpiresAt, now)
		if err != nil {
			return nil, err
		}
		rec.expiresAt = expires
		rec.createdAt = minTime(now, expires.Add(-d))
	}
	rec.updatedAt = rec.createdAt
	var err error
	if rec.lastSeenAt, err = optionalWorldTime(t.LastSeenAt, now); err != nil {
		return nil, err
	}
	rec.previousExpiresAt, err = optionalWorldTime(t.PreviousClientSecretExpiresAt, now)
	return rec, err
}

func optionalWorldTime(spec string, now time.Time) (*time.Time, error) {
	if spec == "" {
		return nil, nil
	}
	t, err := parseWorldTime(spec, now)
	return &t, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func newPolicyRecord(p WorldPolicy, appID string, now time.Time) *policyRecord {
	return &policyRecord{
		policy: access.Policy{ID: p.ID, Name: p.Name, Decision: p.Decision,
			Include: cloneRules(p.Include), Exclude: cloneRules(p.Exclude),
			Require: cloneRules(p.Require), Reusable: appID == ""},
		appID: appID, sessionDuration: p.SessionDuration, createdAt: now, updatedAt: now,
	}
}

func (st *state) loadApp(a WorldApp, now time.Time) {
	rec := &appRecord{
		app: access.Application{
			ID: a.ID, Name: a.Name, Type: appTypeSelfHosted, Domain: a.Domain, AUD: a.AUD,
			Destinations:                publicDestinations(a.Domain, a.Destinations),
			ReadServiceTokensFromHeader: a.ReadServiceTokensFromHeader,
			ServiceAuth401Redirect:      a.ServiceAuth401Redirect,
			SessionDuration:             a.SessionDuration,
		},
		scope: a.Scope, origin: a.Origin, createdAt: now, updatedAt: now,
	}
	for _, p := range a.Policies {
		if p.Ref == "" {
			st.policies = append(st.policies, newPolicyRecord(p.WorldPolicy, a.ID, now))
		}
		rec.links = append(rec.links, policyLink{policyID: p.ID, precedence: p.Precedence})
	}
	st.apps = append(st.apps, rec)
}

// publicDestinations lists domain and then others as public destinations, without repeats.
func publicDestinations(domain string, others []string) []access.Destination {
	out := make([]access.Destination, 0, 1+len(others))
	for _, uri := range append([]string{domain}, others...) {
		if !slices.ContainsFunc(out, func(d access.Destination) bool { return d.URI == uri }) {
			out = append(out, access.Destination{Type: "public", URI: uri})
		}
	}
	return out
}

func (st *state) addToken(rec *tokenRecord) {
	st.tokens = append(st.tokens, rec)
	st.byClient[rec.clientID] = rec
}

// cloneRules copies rules deeply, so that no two records share a selector.
func cloneRules(rules []access.Rule) []access.Rule {
	if rules == nil {
		return []access.Rule{}
	}
	out := make([]access.Rule, len(rules))
	for i, r := range rules {
		out[i] = cloneRule(r)
	}
	return out
}

func cloneRule(r access.Rule) access.Rule {
	return access.Rule{
		ServiceToken:         clonePtr(r.ServiceToken),
		AnyValidServiceToken: clonePtr(r.AnyValidServiceToken),
		Group:                clonePtr(r.Group),
		Everyone:             clonePtr(r.Everyone),
		IP:                   clonePtr(r.IP),
		Geo:                  clonePtr(r.Geo),
		Email:                clonePtr(r.Email),
		EmailDomain:          clonePtr(r.EmailDomain),
		Certificate:          clonePtr(r.Certificate),
	}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
