package emulator

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cfst/cfst/internal/secret"
)

// tokenJSON is a service token as the API shows it. ClientSecret is set only by create,
// rotate, and an update that bumps client_secret_version. ExpiresAt is left out for a
// token whose duration is forever. LastSeenAt is left out until the token is first
// presented, and always in the answers of create and rotate (fact sheet §1.2).
type tokenJSON struct {
	ID                            string      `json:"id"`
	Name                          string      `json:"name"`
	ClientID                      string      `json:"client_id"`
	ClientSecret                  *wireSecret `json:"client_secret,omitempty"`
	Duration                      string      `json:"duration"`
	ExpiresAt                     *time.Time  `json:"expires_at,omitempty"`
	CreatedAt                     time.Time   `json:"created_at"`
	UpdatedAt                     time.Time   `json:"updated_at"`
	LastSeenAt                    *time.Time  `json:"last_seen_at,omitempty"`
	ClientSecretVersion           int         `json:"client_secret_version"`
	PreviousClientSecretExpiresAt *time.Time  `json:"previous_client_secret_expires_at,omitempty"`
	Enabled                       bool        `json:"enabled"`
}

// wireSecret is a secret on its way out in an API answer: JSON reveals it, fmt does not.
type wireSecret struct{ secret.Secret }

// MarshalJSON writes the secret's value: the one place the API hands a secret out.
func (w wireSecret) MarshalJSON() ([]byte, error) { return json.Marshal(w.Reveal()) }

func (tok *tokenRecord) toJSON(withSecret bool) tokenJSON {
	out := tokenJSON{
		ID: tok.id, Name: tok.name, ClientID: tok.clientID, Duration: tok.duration,
		CreatedAt: tok.createdAt, UpdatedAt: tok.updatedAt, LastSeenAt: clonePtr(tok.lastSeenAt),
		ClientSecretVersion:           tok.version,
		PreviousClientSecretExpiresAt: clonePtr(tok.previousExpiresAt),
		Enabled:                       tok.enabled,
	}
	if tok.duration != durationForever {
		out.ExpiresAt = clonePtr(&tok.expiresAt)
	}
	if withSecret {
		out.ClientSecret = &wireSecret{tok.secret}
	}
	return out
}

// generatedJSON is a token as create and rotate show it: with its new secret and without
// last_seen_at.
func (tok *tokenRecord) generatedJSON() tokenJSON {
	out := tok.toJSON(true)
	out.LastSeenAt = nil
	return out
}

func (s *Server) tokenRoutes(mux *http.ServeMux) {
	for _, scope := range []string{"/accounts/{sid}", "/zones/{sid}"} {
		base := scope + "/access/service_tokens"
		s.handle(mux, "GET "+base, needTokensRead, s.listTokens)
		s.handle(mux, "POST "+base, needTokensWrite, s.createToken)
		s.handle(mux, "GET "+base+"/{id}", needTokensRead, s.getToken)
		s.handle(mux, "PUT "+base+"/{id}", needTokensWrite, s.updateToken)
		s.handle(mux, "DELETE "+base+"/{id}", needTokensWrite, s.deleteToken)
	}
	// Refresh and rotate exist at account scope only; at zone scope they are unrouted.
	base := "/accounts/{sid}/access/service_tokens/{id}"
	s.handle(mux, "POST "+base+"/refresh", needTokensWrite, s.refreshToken)
	s.handle(mux, "POST "+base+"/rotate", needTokensWrite, s.rotateToken)
}

func (s *Server) listTokens(c *apiCall) (apiResult, error) {
	q, err := parseListQuery(c)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	var items []tokenJSON
	for _, tok := range st.tokens {
		if tok.scope == c.scope && q.matches(tok.name, tok.clientID) {
			items = append(items, tok.toJSON(false))
		}
	}
	return paginate(items, q)
}

// tokenRequest is the body of create and update. Absent fields are nil.
type tokenRequest struct {
	Name                          *string  `json:"name"`
	Duration                      *string  `json:"duration"`
	Enabled                       *bool    `json:"enabled"`
	ClientSecretVersion           *float64 `json:"client_secret_version"`
	PreviousClientSecretExpiresAt *string  `json:"previous_client_secret_expires_at"`
}

// tokenChange is a checked tokenRequest.
type tokenChange struct {
	name, duration   *string
	enabled          *bool
	version          *int
	previousExpireAt *time.Time
}

func checkTokenRequest(req tokenRequest) (tokenChange, error) {
	change := tokenChange{name: req.Name, duration: req.Duration, enabled: req.Enabled}
	if req.Name != nil {
		if err := checkAPIName(*req.Name); err != nil {
			return change, err
		}
	}
	if req.Duration != nil {
		if _, err := parseTokenDuration(*req.Duration); err != nil {
			return change, errInvalid("duration: %v", err)
		}
	}
	if v := req.ClientSecretVersion; v != nil {
		if *v < 1 || *v != math.Trunc(*v) || *v > math.MaxInt32 {
			return change, errInvalid("client_secret_version: want a whole number from 1, "+
				"got %v", *v)
		}
		version := int(*v)
		change.version = &version
	}
	if p := req.PreviousClientSecretExpiresAt; p != nil {
		t, err := time.Parse(time.RFC3339Nano, *p)
		if err != nil {
			return change, errInvalid("previous_client_secret_expires_at: want an RFC 3339 "+
				"date-time, got %q", *p)
		}
		t = t.UTC()
		change.previousExpireAt = &t
	}
	return change, nil
}

func checkAPIName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errInvalid("name is required")
	case nameTooLong(name):
		return errInvalid("name must be at most %d characters, got %d", maxNameLength,
			utf8.RuneCountInString(name))
	}
	return nil
}

func (s *Server) createToken(c *apiCall) (apiResult, error) {
	var req tokenRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	if req.Name == nil {
		return apiResult{}, errInvalid("name is required")
	}
	change, err := checkTokenRequest(req)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.tokens) >= st.tokenLimit {
		return apiResult{}, errInvalid("the account has reached its limit of %d service tokens",
			st.tokenLimit)
	}
	tok := &tokenRecord{id: st.gen.uuid(), clientID: st.gen.clientID(), scope: c.scope,
		secret: st.gen.clientSecret(), version: 1, duration: defaultDuration, enabled: true,
		createdAt: c.now}
	tok.applyFields(change, c.now)
	tok.resetExpiry(c.now)
	if change.version != nil {
		tok.version = *change.version
	}
	tok.previousExpiresAt = change.previousExpireAt
	st.addToken(tok)
	return createdResult(tok.generatedJSON())
}

// applyFields sets the name, the duration (which resets expires_at to now + duration) and
// enabled.
func (tok *tokenRecord) applyFields(change tokenChange, now time.Time) {
	if change.name != nil {
		tok.name = *change.name
	}
	if change.duration != nil {
		tok.duration = *change.duration
		tok.resetExpiry(now)
	}
	if change.enabled != nil {
		tok.enabled = *change.enabled
	}
	tok.updatedAt = now
}

// resetExpiry sets expires_at to now + duration.
func (tok *tokenRecord) resetExpiry(now time.Time) {
	tok.expiresAt = time.Time{}
	if d, _ := parseTokenDuration(tok.duration); d > 0 {
		tok.expiresAt = now.Add(d)
	}
}

// rotate makes a new secret. The old one keeps working until previousExpiresAt, or stops
// at once when that is nil.
func (tok *tokenRecord) rotate(gen *idSource, previousExpiresAt *time.Time, now time.Time) {
	tok.previous, tok.secret = tok.secret, gen.clientSecret()
	if previousExpiresAt == nil {
		previousExpiresAt = &now
	}
	expires := *previousExpiresAt
	tok.previousExpiresAt = &expires
	tok.updatedAt = now
}
