package emulator

import (
	"slices"
	"strings"
)

// The permissions an API token of a world can have. Cloudflare's own are coarser ("Access:
// Apps and Policies Write", "Access: Service Tokens Read", ...); these map onto them:
//
//   - PermAppsRead/Write cover applications and their app-scoped policies
//     (/apps/{id}/policies), which Cloudflare grants together as "Apps and Policies".
//   - PermPoliciesRead/Write cover reusable policies and Access groups: groups exist to be
//     used in policies (Cloudflare files them under "Organizations, Identity Providers, and
//     Groups").
//   - A write permission implies the read one, as Cloudflare accepts Write for list and get.
//   - PermLogsRead and PermNotificationsWrite are for the access logs and alerting
//     endpoints.
//
// PermAll in a world grants every permission.
const (
	PermServiceTokensRead  = "service_tokens:read"
	PermServiceTokensWrite = "service_tokens:write"
	PermAppsRead           = "apps:read"
	PermAppsWrite          = "apps:write"
	PermPoliciesRead       = "policies:read"
	PermPoliciesWrite      = "policies:write"
	PermLogsRead           = "logs:read"
	PermNotificationsWrite = "notifications:write"
	PermAll                = "all"
)

var allPermissions = []string{
	PermServiceTokensRead, PermServiceTokensWrite, PermAppsRead, PermAppsWrite,
	PermPoliciesRead, PermPoliciesWrite, PermLogsRead, PermNotificationsWrite,
}

func knownPermission(p string) bool { return p == PermAll || slices.Contains(allPermissions, p) }

// The permission sets routes ask for: a token needs one of them.
var (
	needTokensRead    = []string{PermServiceTokensRead, PermServiceTokensWrite}
	needTokensWrite   = []string{PermServiceTokensWrite}
	needAppsRead      = []string{PermAppsRead, PermAppsWrite}
	needAppsWrite     = []string{PermAppsWrite}
	needPoliciesRead  = []string{PermPoliciesRead, PermPoliciesWrite}
	needPoliciesWrite = []string{PermPoliciesWrite}
)

func (t apiTokenRecord) hasAny(perms []string) bool {
	return slices.ContainsFunc(perms, func(p string) bool { return t.perms[p] })
}

// authorize finds the API token of a request's Authorization header values. A header
// that is not one "Bearer <token>" is malformed (400); a missing header or an unknown
// token is an authentication error (401).
func (st *state) authorize(values []string) (apiTokenRecord, error) {
	if len(values) == 0 {
		return apiTokenRecord{}, errUnauthenticated()
	}
	scheme, value, found := strings.Cut(values[0], " ")
	if len(values) > 1 || !found || !strings.EqualFold(scheme, "Bearer") || value == "" ||
		strings.ContainsAny(value, " \t") {
		return apiTokenRecord{}, errBadAuthHeader()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, tok := range st.apiTokens {
		if secretMatches(tok.value, value) {
			return tok, nil
		}
	}
	return apiTokenRecord{}, errUnauthenticated()
}

// knownScope reports whether id is the account's id (scope account) or the zone's.
func (st *state) knownScope(scope, id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if scope == scopeAccount {
		return id == st.accountID
	}
	return id == st.zoneID
}

// tokenStatus is the result of GET /user/tokens/verify.
type tokenStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (s *Server) verifyToken(c *apiCall) (apiResult, error) {
	return okResult(tokenStatus{ID: c.tokenID, Status: "active"})
}
