package emulator

import (
	"net/http"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
)

const appTypeSelfHosted = "self_hosted"

// appJSON is an application as the API shows it, its policies resolved.
type appJSON struct {
	access.Application
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s *Server) appRoutes(mux *http.ServeMux) {
	for _, scope := range []string{"/accounts/{sid}", "/zones/{sid}"} {
		base := scope + "/access/apps"
		s.handle(mux, "GET "+base, needAppsRead, s.listApps)
		s.handle(mux, "POST "+base, needAppsWrite, s.createApp)
		s.handle(mux, "GET "+base+"/{app}", needAppsRead, s.getApp)
		s.handle(mux, "PUT "+base+"/{app}", needAppsWrite, s.updateApp)
		s.handle(mux, "DELETE "+base+"/{app}", needAppsWrite, s.deleteApp)
	}
}

// appToJSON shows an application. st.mu must be held.
func (st *state) appToJSON(rec *appRecord) appJSON {
	return appJSON{Application: st.resolvedApp(rec), CreatedAt: rec.createdAt,
		UpdatedAt: rec.updatedAt}
}

// findScopedApp returns the application named by the {app} path value in the call's scope.
// st.mu must be held.
func (st *state) findScopedApp(c *apiCall) (*appRecord, error) {
	if app := st.findApp(c.r.PathValue("app")); app != nil && app.scope == c.scope {
		return app, nil
	}
	return nil, errNotFound()
}

func (s *Server) listApps(c *apiCall) (apiResult, error) {
	q, err := parseListQuery(c)
	if err != nil {
		return apiResult{}, err
	}
	aud := c.r.URL.Query().Get("aud")
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	var items []appJSON
	for _, rec := range st.apps {
		a := rec.app
		if rec.scope == c.scope && q.matches(a.Name, a.Domain) &&
			(q.domain == "" || a.Domain == q.domain) && (aud == "" || a.AUD == aud) {
			items = append(items, st.appToJSON(rec))
		}
	}
	return paginate(items, q)
}

func (s *Server) getApp(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	rec, err := st.findScopedApp(c)
	if err != nil {
		return apiResult{}, err
	}
	return okResult(st.appToJSON(rec))
}

func (s *Server) createApp(c *apiCall) (apiResult, error) {
	var req appRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	rec := &appRecord{app: access.Application{ID: st.gen.uuid(), AUD: st.gen.aud()},
		scope: c.scope, origin: originSpecOK, createdAt: c.now}
	if err := st.applyAppRequest(rec, req, c.now); err != nil {
		return apiResult{}, err
	}
	st.apps = append(st.apps, rec)
	return createdResult(st.appToJSON(rec))
}

// updateApp is PUT: the application's fields are replaced. When the body has no
// policies, the application keeps its own.
func (s *Server) updateApp(c *apiCall) (apiResult, error) {
	var req appRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	rec, err := st.findScopedApp(c)
	if err != nil {
		return apiResult{}, err
	}
	next := *rec
	next.app.Destinations = nil
	next.app.SelfHostedDomains = nil
	if err := st.applyAppRequest(&next, req, c.now); err != nil {
		return apiResult{}, err
	}
	*rec = next
	return okResult(st.appToJSON(rec))
}

// deleteApp removes an application and its app-scoped policies.
func (s *Server) deleteApp(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	rec, err := st.findScopedApp(c)
	if err != nil {
		return apiResult{}, err
	}
	st.apps = slices.DeleteFunc(st.apps, func(a *appRecord) bool { return a == rec })
	st.policies = slices.DeleteFunc(st.policies, func(p *policyRecord) bool {
		return p.appID == rec.app.ID
	})
	return apiResult{status: http.StatusAccepted, result: idResult{ID: rec.app.ID}}, nil
}
