package emulator

import (
	"net/http"
	"slices"
)

// usesReusable reports whether an application has reusable policies. st.mu must be held.
func (st *state) usesReusable(app *appRecord) bool {
	return slices.ContainsFunc(app.links, func(l policyLink) bool {
		p := st.findPolicy(l.policyID)
		return p != nil && p.appID == ""
	})
}

// findReusable returns the reusable policy the path names. st.mu must be held.
func (st *state) findReusable(c *apiCall) (*policyRecord, error) {
	if p := st.findPolicy(c.r.PathValue("policy")); p != nil && p.appID == "" {
		return p, nil
	}
	return nil, errNotFound()
}

func (s *Server) listReusablePolicies(c *apiCall) (apiResult, error) {
	q, err := parseListQuery(c)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	var items []policyJSON
	for _, p := range st.policies {
		if p.appID == "" && q.matches(p.policy.Name) {
			items = append(items, st.policyToJSON(p, 0))
		}
	}
	return paginate(items, q)
}

func (s *Server) getReusablePolicy(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	p, err := st.findReusable(c)
	if err != nil {
		return apiResult{}, err
	}
	return okResult(st.policyToJSON(p, 0))
}

func (s *Server) createReusablePolicy(c *apiCall) (apiResult, error) {
	var req policyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.checkPolicyRequest(req); err != nil {
		return apiResult{}, err
	}
	p := newPolicy(st.gen.uuid(), req, "", c.now)
	st.policies = append(st.policies, p)
	return createdResult(st.policyToJSON(p, 0))
}

func (s *Server) updateReusablePolicy(c *apiCall) (apiResult, error) {
	var req policyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	p, err := st.findReusable(c)
	if err != nil {
		return apiResult{}, err
	}
	if err := st.checkPolicyRequest(req); err != nil {
		return apiResult{}, err
	}
	p.replace(req, c.now)
	return okResult(st.policyToJSON(p, 0))
}

// deleteReusablePolicy refuses to delete a policy that applications still use: whether
// Cloudflare detaches it or refuses is not documented, and refusing loses nothing.
func (s *Server) deleteReusablePolicy(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	p, err := st.findReusable(c)
	if err != nil {
		return apiResult{}, err
	}
	if n := st.appCount(p.policy.ID); n > 0 {
		return apiResult{}, errInvalid("policy is used by %d applications; remove it from "+
			"their policies first", n)
	}
	st.policies = slices.DeleteFunc(st.policies, func(q *policyRecord) bool { return q == p })
	return apiResult{status: http.StatusAccepted, result: idResult{ID: p.policy.ID}}, nil
}
