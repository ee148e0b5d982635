package emulator

import (
	"net/http"
	"slices"
)

func (s *Server) policyRoutes(mux *http.ServeMux) {
	for _, scope := range []string{"/accounts/{sid}", "/zones/{sid}"} {
		base := scope + "/access/apps/{app}/policies"
		s.handle(mux, "GET "+base, needAppsRead, s.listAppPolicies)
		s.handle(mux, "POST "+base, needAppsWrite, s.createAppPolicy)
		s.handle(mux, "GET "+base+"/{policy}", needAppsRead, s.getAppPolicy)
		s.handle(mux, "PUT "+base+"/{policy}", needAppsWrite, s.updateAppPolicy)
		s.handle(mux, "DELETE "+base+"/{policy}", needAppsWrite, s.deleteAppPolicy)
	}
	base := "/accounts/{sid}/access/policies"
	s.handle(mux, "GET "+base, needPoliciesRead, s.listReusablePolicies)
	s.handle(mux, "POST "+base, needPoliciesWrite, s.createReusablePolicy)
	s.handle(mux, "GET "+base+"/{policy}", needPoliciesRead, s.getReusablePolicy)
	s.handle(mux, "PUT "+base+"/{policy}", needPoliciesWrite, s.updateReusablePolicy)
	s.handle(mux, "DELETE "+base+"/{policy}", needPoliciesWrite, s.deleteReusablePolicy)
}

// listAppPolicies lists an application's own policies and the reusable ones attached to
// it, in order of precedence.
func (s *Server) listAppPolicies(c *apiCall) (apiResult, error) {
	q, err := parseListQuery(c)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, err := st.findScopedApp(c)
	if err != nil {
		return apiResult{}, err
	}
	links := slices.Clone(app.links)
	slices.SortStableFunc(links, func(a, b policyLink) int { return a.precedence - b.precedence })
	var items []policyJSON
	for _, link := range links {
		if p := st.findPolicy(link.policyID); p != nil && q.matches(p.policy.Name) {
			items = append(items, st.policyToJSON(p, link.precedence))
		}
	}
	return paginate(items, q)
}

// findAppPolicy returns the application of the call and the link to the policy the path
// names. st.mu must be held.
func (st *state) findAppPolicy(c *apiCall) (*appRecord, int, *policyRecord, error) {
	app, err := st.findScopedApp(c)
	if err != nil {
		return nil, 0, nil, err
	}
	id := c.r.PathValue("policy")
	i := slices.IndexFunc(app.links, func(l policyLink) bool { return l.policyID == id })
	if i < 0 {
		return nil, 0, nil, errNotFound()
	}
	p := st.findPolicy(id)
	if p == nil {
		return nil, 0, nil, errNotFound()
	}
	return app, i, p, nil
}

func (s *Server) getAppPolicy(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, i, p, err := st.findAppPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	return okResult(st.policyToJSON(p, app.links[i].precedence))
}

// createAppPolicy adds an app-scoped policy, by default after the application's others.
func (s *Server) createAppPolicy(c *apiCall) (apiResult, error) {
	var req policyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, err := st.findScopedApp(c)
	if err != nil {
		return apiResult{}, err
	}
	if err := st.checkPolicyRequest(req); err != nil {
		return apiResult{}, err
	}
	precedence, err := app.newPrecedence(req.Precedence, "")
	if err != nil {
		return apiResult{}, err
	}
	if st.usesReusable(app) {
		return apiResult{}, errInvalid("the application uses reusable policies; reusable and " +
			"app-scoped policies are mutually exclusive")
	}
	p := newPolicy(st.gen.uuid(), req, app.app.ID, c.now)
	st.policies = append(st.policies, p)
	app.links = append(app.links, policyLink{policyID: p.policy.ID, precedence: precedence})
	return createdResult(st.policyToJSON(p, precedence))
}

// newPrecedence checks a requested precedence against the application's other policies,
// or picks the next free one when none is requested.
func (app *appRecord) newPrecedence(requested *int, policyID string) (int, error) {
	highest := 0
	for _, l := range app.links {
		if l.policyID == policyID {
			continue
		}
		if requested != nil && l.precedence == *requested {
			return 0, errInvalid("precedence: %d is taken by another policy of the application",
				*requested)
		}
		highest = max(highest, l.precedence)
	}
	if requested == nil {
		return highest + 1, nil
	}
	if *requested < 1 {
		return 0, errInvalid("precedence: want a positive number, got %d", *requested)
	}
	return *requested, nil
}

// updateAppPolicy replaces an app-scoped policy. Reusable policies are changed at
// /accounts/{account_id}/access/policies.
func (s *Server) updateAppPolicy(c *apiCall) (apiResult, error) {
	var req policyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, i, p, err := st.findAppPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	if p.appID == "" {
		return apiResult{}, errReusableHere(p.policy.ID)
	}
	if err := st.checkPolicyRequest(req); err != nil {
		return apiResult{}, err
	}
	precedence := app.links[i].precedence
	if req.Precedence != nil {
		if precedence, err = app.newPrecedence(req.Precedence, p.policy.ID); err != nil {
			return apiResult{}, err
		}
	}
	p.replace(req, c.now)
	app.links[i].precedence = precedence
	return okResult(st.policyToJSON(p, precedence))
}

func (s *Server) deleteAppPolicy(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	app, i, p, err := st.findAppPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	if p.appID == "" {
		return apiResult{}, errReusableHere(p.policy.ID)
	}
	app.links = slices.Delete(app.links, i, i+1)
	st.policies = slices.DeleteFunc(st.policies, func(q *policyRecord) bool { return q == p })
	return apiResult{status: http.StatusAccepted, result: idResult{ID: p.policy.ID}}, nil
}

func errReusableHere(id string) error {
	return errInvalid("policy %q is reusable: change it at /accounts/{account_id}/access/"+
		"policies/%s, or detach it by updating the application's policies", id, id)
}
