package emulator

import (
	"net/http"
	"time"
)

// adminStateJSON is the answer of GET /__emulator/state. It never holds a secret.
type adminStateJSON struct {
	Now           time.Time        `json:"now"`
	AccountID     string           `json:"account_id"`
	ZoneID        string           `json:"zone_id"`
	TeamDomain    string           `json:"team_domain"`
	Strict        bool             `json:"strict"`
	TokenLimit    int              `json:"token_limit"`
	ServiceTokens []adminTokenJSON `json:"service_tokens"`
	Applications  []adminAppJSON   `json:"applications"`
	Policies      []policyJSON     `json:"policies"`
	Groups        []adminGroupJSON `json:"groups"`
	Faults        []faultJSON      `json:"faults"`
	APIRequests   int64            `json:"api_requests"`
}

type adminTokenJSON struct {
	tokenJSON
	Scope string `json:"scope"`
	// Status is "active", "expired" or "disabled" at the emulator's time.
	Status string `json:"status"`
}

type adminAppJSON struct {
	appJSON
	Scope  string `json:"scope"`
	Origin string `json:"origin"`
}

type adminGroupJSON struct {
	groupJSON
	Scope string `json:"scope"`
}

func (s *Server) adminState(w http.ResponseWriter, _ *http.Request) {
	now := s.clock.Now()
	out := adminStateJSON{Now: now, TeamDomain: s.world.TeamDomain(),
		Faults: s.state.faults.list(), APIRequests: s.state.apiRequests.Load(),
		ServiceTokens: []adminTokenJSON{}, Applications: []adminAppJSON{},
		Policies: []policyJSON{}, Groups: []adminGroupJSON{}}
	st := s.state
	st.mu.Lock()
	out.AccountID, out.ZoneID, out.Strict, out.TokenLimit = st.accountID, st.zoneID,
		st.strictMode, st.tokenLimit
	for _, tok := range st.tokens {
		out.ServiceTokens = append(out.ServiceTokens, adminTokenJSON{tokenJSON: tok.toJSON(false),
			Scope: tok.scope, Status: tok.status(now)})
	}
	for _, app := range st.apps {
		out.Applications = append(out.Applications, adminAppJSON{appJSON: st.appToJSON(app),
			Scope: app.scope, Origin: app.origin})
	}
	for _, p := range st.policies {
		if p.appID == "" {
			out.Policies = append(out.Policies, st.policyToJSON(p, 0))
		}
	}
	for _, g := range st.groupList {
		out.Groups = append(out.Groups, adminGroupJSON{groupJSON: g.toJSON(), Scope: g.scope})
	}
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// status says whether a token is active, expired or disabled at now.
func (tok *tokenRecord) status(now time.Time) string {
	switch {
	case !tok.enabled:
		return "disabled"
	case tok.expired(now):
		return "expired"
	}
	return "active"
}
