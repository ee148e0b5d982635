package emulator

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// appRequest is the body that creates or replaces an application. Absent fields are nil.
type appRequest struct {
	Name                        *string               `json:"name"`
	Type                        *string               `json:"type"`
	Domain                      *string               `json:"domain"`
	Destinations                *[]access.Destination `json:"destinations"`
	SelfHostedDomains           *[]string             `json:"self_hosted_domains"`
	Policies                    *[]json.RawMessage    `json:"policies"`
	ReadServiceTokensFromHeader *string               `json:"read_service_tokens_from_header"`
	ServiceAuth401Redirect      *bool                 `json:"service_auth_401_redirect"`
	SessionDuration             *string               `json:"session_duration"`
}

// appPolicyPlan is one checked entry of an application's policies.
type appPolicyPlan struct {
	link     policyLink
	inline   *policyRequest // nil for a link to an existing policy
	existing *policyRecord  // the app's own policy that inline replaces, if any
	reusable bool
}

// applyAppRequest checks req and, when all is well, sets rec from it, creating, replacing
// and dropping app-scoped policies as the body says. st.mu must be held.
func (st *state) applyAppRequest(rec *appRecord, req appRequest, now time.Time) error {
	app, err := checkAppFields(req)
	if err != nil {
		return err
	}
	var plans []appPolicyPlan
	if req.Policies != nil {
		if plans, err = st.planAppPolicies(rec.app.ID, *req.Policies); err != nil {
			return err
		}
	}
	app.ID, app.AUD = rec.app.ID, rec.app.AUD
	rec.app, rec.updatedAt = app, now
	if req.Policies != nil {
		st.applyPolicyPlans(rec, plans, now)
	}
	return nil
}

func checkAppFields(req appRequest) (access.Application, error) {
	var app access.Application
	if req.Type == nil || *req.Type != appTypeSelfHosted {
		return app, errInvalid("app type is missing or invalid (the emulator models " +
			"self_hosted applications only)")
	}
	app.Type = appTypeSelfHosted
	if err := setAppDomains(&app, req); err != nil {
		return app, err
	}
	app.Name = app.Domain
	if req.Name != nil {
		if err := checkAPIName(*req.Name); err != nil {
			return app, err
		}
		app.Name = *req.Name
	}
	if req.SessionDuration != nil {
		if _, err := parsePositiveDuration(*req.SessionDuration); err != nil {
			return app, errInvalid("session_duration: %v", err)
		}
		app.SessionDuration = *req.SessionDuration
	}
	app.ReadServiceTokensFromHeader = deref(req.ReadServiceTokensFromHeader)
	app.ServiceAuth401Redirect = req.ServiceAuth401Redirect != nil && *req.ServiceAuth401Redirect
	return app, nil
}

// setAppDomains sets domain, destinations and self_hosted_domains. Destinations, when
// given, win; otherwise they are made from the domain and self_hosted_domains.
func setAppDomains(app *access.Application, req appRequest) error {
	if req.SelfHostedDomains != nil {
		app.SelfHostedDomains = slices.Clone(*req.SelfHostedDomains)
	}
	if req.Destinations != nil {
		for i, d := range *req.Destinations {
			if d.Type != "public" {
				return errInvalid("destinations[%d]: only public destinations are supported", i)
			}
			if err := checkDomain(d.URI); err != nil {
				return errInvalid("destinations[%d]: %v", i, err)
			}
		}
		app.Destinations = slices.Clone(*req.Destinations)
	}
	switch {
	case req.Domain != nil:
		app.Domain = *req.Domain
	case len(app.Destinations) > 0:
		app.Domain = app.Destinations[0].URI
	default:
		return errInvalid("domain is required")
	}
	if err := checkDomain(app.Domain); err != nil {
		return errInvalid("domain: %v", err)
	}
	if req.Destinations == nil {
		app.Destinations = publicDestinations(app.Domain, app.SelfHostedDomains)
	}
	return nil
}

// planAppPolicies checks the policies of an application body. Entries are a policy id, an
// {id, precedence} link, or an inline policy; reusable and app-scoped ones cannot be mixed.
func (st *state) planAppPolicies(appID string, raw []json.RawMessage) ([]appPolicyPlan, error) {
	plans := make([]appPolicyPlan, 0, len(raw))
	precedences, ids := map[int]bool{}, map[string]bool{}
	for i, item := range raw {
		plan, err := st.planAppPolicy(appID, item, i+1)
		if err != nil {
			return nil, errInvalid("policies[%d]: %s", i, trimInvalid(err))
		}
		if id := plan.link.policyID; id != "" && ids[id] {
			return nil, errInvalid("policies[%d]: policy %q is listed twice", i, id)
		}
		ids[plan.link.policyID] = true
		if plan.link.precedence < 1 || precedences[plan.link.precedence] {
			return nil, errInvalid("policies[%d]: precedence must be a positive number, unique "+
				"within the application", i)
		}
		precedences[plan.link.precedence] = true
		plans = append(plans, plan)
	}
	reusable := slices.ContainsFunc(plans, func(p appPolicyPlan) bool { return p.reusable })
	scoped := slices.ContainsFunc(plans, func(p appPolicyPlan) bool { return !p.reusable })
	if reusable && scoped {
		return nil, errInvalid("policies: reusable and inline policies are mutually exclusive")
	}
	return plans, nil
}

func (st *state) planAppPolicy(appID string, item json.RawMessage,
	position int) (appPolicyPlan, error) {
	var id string
	if json.Unmarshal(item, &id) == nil {
		return st.planLink(appID, id, position)
	}
	var req policyRequest
	if err := json.Unmarshal(item, &req); err != nil {
		return appPolicyPlan{}, errInvalid("want a policy id, {id, precedence} or a policy "+
			"object: %s", jsonProblem(err))
	}
	if req.Precedence != nil {
		position = *req.Precedence
	}
	if req.isLink() {
		return st.planLink(appID, *req.ID, position)
	}
	return st.planInline(appID, req, position)
}

func (st *state) planLink(appID, id string, precedence int) (appPolicyPlan, error) {
	p := st.findPolicy(id)
	if p == nil || (p.appID != "" && p.appID != appID) {
		return appPolicyPlan{}, errInvalid("no policy has id %q", id)
	}
	return appPolicyPlan{link: policyLink{policyID: id, precedence: precedence},
		reusable: p.appID == ""}, nil
}

func (st *state) planInline(appID string, req policyRequest,
	precedence int) (appPolicyPlan, error) {
	if err := st.checkPolicyRequest(req); err != nil {
		return appPolicyPlan{}, err
	}
	plan := appPolicyPlan{inline: &req, link: policyLink{precedence: precedence}}
	if req.ID == nil {
		return plan, nil
	}
	existing := st.findPolicy(*req.ID)
	switch {
	case existing != nil && existing.appID == "":
		return plan, errInvalid("policy %q is reusable: link it by id, without inline fields",
			*req.ID)
	case existing != nil && existing.appID != appID:
		return plan, errInvalid("policy %q belongs to another application", *req.ID)
	case existing == nil && !validID(*req.ID):
		return plan, errInvalid("id: want an id without / or spaces, got %q", *req.ID)
	}
	plan.existing = existing
	plan.link.policyID = *req.ID
	return plan, nil
}

// applyPolicyPlans makes the application's policies those of plans, and deletes the
// app-scoped policies it no longer uses. st.mu must be held.
func (st *state) applyPolicyPlans(rec *appRecord, plans []appPolicyPlan, now time.Time) {
	rec.links = make([]policyLink, 0, len(plans))
	for _, plan := range plans {
		switch {
		case plan.existing != nil:
			plan.existing.replace(*plan.inline, now)
		case plan.inline != nil:
			if plan.link.policyID == "" {
				plan.link.policyID = st.gen.uuid()
			}
			st.policies = append(st.policies,
				newPolicy(plan.link.policyID, *plan.inline, rec.app.ID, now))
		}
		rec.links = append(rec.links, plan.link)
	}
	st.policies = slices.DeleteFunc(st.policies, func(p *policyRecord) bool {
		return p.appID == rec.app.ID && !slices.ContainsFunc(rec.links, func(l policyLink) bool {
			return l.policyID == p.policy.ID
		})
	})
}

// trimInvalid returns an invalid_request error's detail, for nesting in another.
func trimInvalid(err error) string {
	msg := asAPIError(err).Message
	const prefix = "access.api.error.invalid_request: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
