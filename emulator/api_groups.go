package emulator

import (
	"net/http"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// groupJSON is an Access group as the API shows it.
type groupJSON struct {
	access.Group
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// groupRequest is the body that creates or replaces a group.
type groupRequest struct {
	Name    *string       `json:"name"`
	Include []access.Rule `json:"include"`
	Exclude []access.Rule `json:"exclude"`
	Require []access.Rule `json:"require"`
}

func (s *Server) groupRoutes(mux *http.ServeMux) {
	for _, scope := range []string{"/accounts/{sid}", "/zones/{sid}"} {
		base := scope + "/access/groups"
		s.handle(mux, "GET "+base, needPoliciesRead, s.listGroups)
		s.handle(mux, "POST "+base, needPoliciesWrite, s.createGroup)
		s.handle(mux, "GET "+base+"/{group}", needPoliciesRead, s.getGroup)
		s.handle(mux, "PUT "+base+"/{group}", needPoliciesWrite, s.updateGroup)
		s.handle(mux, "DELETE "+base+"/{group}", needPoliciesWrite, s.deleteGroup)
	}
}

func (g *groupRecord) toJSON() groupJSON {
	return groupJSON{Group: groupCopy(g.group), CreatedAt: g.createdAt, UpdatedAt: g.updatedAt}
}

// findScopedGroup returns the group the path names, in the call's scope. st.mu must be
// held.
func (st *state) findScopedGroup(c *apiCall) (*groupRecord, error) {
	if g := st.findGroup(c.r.PathValue("group")); g != nil && g.scope == c.scope {
		return g, nil
	}
	return nil, errNotFound()
}

func (s *Server) listGroups(c *apiCall) (apiResult, error) {
	q, err := parseListQuery(c)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	var items []groupJSON
	for _, g := range st.groupList {
		if g.scope == c.scope && q.matches(g.group.Name) {
			items = append(items, g.toJSON())
		}
	}
	return paginate(items, q)
}

func (s *Server) getGroup(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	g, err := st.findScopedGroup(c)
	if err != nil {
		return apiResult{}, err
	}
	return okResult(g.toJSON())
}

// checkGroupRequest checks a group body; id is the group it replaces, "" for a new one.
// st.mu must be held.
func (st *state) checkGroupRequest(req groupRequest, id string) error {
	if req.Name == nil {
		return errInvalid("name is required")
	}
	if err := checkAPIName(*req.Name); err != nil {
		return err
	}
	if len(req.Include) == 0 {
		return errInvalid("include: a group needs at least one include rule")
	}
	if err := st.checkRuleSets(req.Include, req.Exclude, req.Require); err != nil {
		return err
	}
	for _, rules := range [][]access.Rule{req.Include, req.Exclude, req.Require} {
		for _, r := range rules {
			if r.Group != nil && id != "" && st.groupReaches(r.Group.ID, id) {
				return errInvalid("group: the group would include itself through group %q",
					r.Group.ID)
			}
		}
	}
	return nil
}

// groupReaches reports whether group from is target or refers to it through its rules.
// The groups in the state never form a cycle, so the walk ends. st.mu must be held.
func (st *state) groupReaches(from, target string) bool {
	if from == target {
		return true
	}
	g := st.findGroup(from)
	if g == nil {
		return false
	}
	for _, rules := range [][]access.Rule{g.group.Include, g.group.Exclude, g.group.Require} {
		for _, r := range rules {
			if r.Group != nil && st.groupReaches(r.Group.ID, target) {
				return true
			}
		}
	}
	return false
}

func (s *Server) createGroup(c *apiCall) (apiResult, error) {
	var req groupRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.checkGroupRequest(req, ""); err != nil {
		return apiResult{}, err
	}
	g := &groupRecord{group: access.Group{ID: st.gen.uuid()}, scope: c.scope, createdAt: c.now}
	g.replace(req, c.now)
	st.groupList = append(st.groupList, g)
	return createdResult(g.toJSON())
}

func (g *groupRecord) replace(req groupRequest, now time.Time) {
	g.group.Name = *req.Name
	g.group.Include = cloneRules(req.Include)
	g.group.Exclude = cloneRules(req.Exclude)
	g.group.Require = cloneRules(req.Require)
	g.updatedAt = now
}

func (s *Server) updateGroup(c *apiCall) (apiResult, error) {
	var req groupRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	g, err := st.findScopedGroup(c)
	if err != nil {
		return apiResult{}, err
	}
	if err := st.checkGroupRequest(req, g.group.ID); err != nil {
		return apiResult{}, err
	}
	g.replace(req, c.now)
	return okResult(g.toJSON())
}

// deleteGroup refuses to delete a group that a policy or another group refers to, so that
// no rule is left pointing at nothing.
func (s *Server) deleteGroup(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	g, err := st.findScopedGroup(c)
	if err != nil {
		return apiResult{}, err
	}
	if st.groupInUse(g.group.ID) {
		return apiResult{}, errInvalid("group is used by a policy or another group; remove " +
			"those rules first")
	}
	st.groupList = slices.DeleteFunc(st.groupList, func(h *groupRecord) bool { return h == g })
	return apiResult{status: http.StatusAccepted, result: idResult{ID: g.group.ID}}, nil
}

// groupInUse reports whether any rule refers to the group. st.mu must be held.
func (st *state) groupInUse(id string) bool {
	refers := func(r access.Rule) bool { return r.Group != nil && r.Group.ID == id }
	uses := func(include, exclude, require []access.Rule) bool {
		return slices.ContainsFunc(include, refers) || slices.ContainsFunc(exclude, refers) ||
			slices.ContainsFunc(require, refers)
	}
	for _, p := range st.policies {
		if uses(p.policy.Include, p.policy.Exclude, p.policy.Require) {
			return true
		}
	}
	for _, g := range st.groupList {
		if uses(g.group.Include, g.group.Exclude, g.group.Require) {
			return true
		}
	}
	return false
}
