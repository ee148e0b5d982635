package emulator

import "net/http"

// orgJSON is the Access organization as GET .../access/organizations shows it: the fields
// of Cloudflare's organization object that the emulator models. StrictServiceTokenAuth is
// the world's strict setting (fact sheet §3.3).
type orgJSON struct {
	Name                   string `json:"name"`
	AuthDomain             string `json:"auth_domain"`
	IsUIReadOnly           bool   `json:"is_ui_read_only"`
	StrictServiceTokenAuth bool   `json:"strict_service_token_auth"`
}

// orgRoutes serves the organization at account and zone scope. Cloudflare files it under
// "Access: Organizations, Identity Providers, and Groups", which the emulator maps to the
// policies permissions, as it does for groups.
func (s *Server) orgRoutes(mux *http.ServeMux) {
	for _, scope := range []string{"/accounts/{sid}", "/zones/{sid}"} {
		s.handle(mux, "GET "+scope+"/access/organizations", needPoliciesRead, s.getOrganization)
	}
}

func (s *Server) getOrganization(*apiCall) (apiResult, error) {
	team := s.world.Team
	if team == "" {
		team = defaultTeam
	}
	return okResult(orgJSON{Name: team, AuthDomain: s.world.TeamDomain(),
		StrictServiceTokenAuth: s.state.strict()})
}
