package emulator

// The Notifications (alerting v3) API of an account: notification policies and webhook
// destinations, enough for Cloudflare's own expiring_service_token_alert.
//
//	GET, POST          /accounts/{id}/alerting/v3/policies
//	GET, PUT, DELETE   /accounts/{id}/alerting/v3/policies/{policy_id}
//	GET, POST          /accounts/{id}/alerting/v3/destinations/webhooks
//	GET, DELETE        /accounts/{id}/alerting/v3/destinations/webhooks/{webhook_id}
//
// Every route needs the notifications:write permission (Cloudflare: "Notifications
// Write"). As on Cloudflare, create and update answer {"id": ...}, lists are plain arrays,
// and a webhook's secret is never sent back. Where Cloudflare documents nothing the
// emulator chooses: it sends no notification (Cloudflare POSTs a test message to a new
// webhook; the emulator only checks the URL), refuses to delete a webhook a policy still
// uses, and answers errors with codes of its own, 17000 for an invalid request and 17404
// for an unknown id.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

var needNotifications = []string{PermNotificationsWrite}

// knownAlertTypes are the alert types the emulator accepts, a few of Cloudflare's many.
var knownAlertTypes = []string{
	"expiring_service_token_alert", "access_custom_certificate_expiration_type",
	"billing_usage_alert", "tunnel_health_event", "tunnel_update_event",
	"universal_ssl_event_type", "zone_aop_custom_certificate_expiration_type",
}

// alertingStore holds one server's policies and webhooks. It lives with the API router,
// which is built once per server.
type alertingStore struct {
	mu       sync.Mutex
	policies []*alertPolicy
	webhooks []*webhookDestination
}

type alertPolicy struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	AlertType     string          `json:"alert_type"`
	AlertInterval string          `json:"alert_interval,omitempty"`
	Enabled       bool            `json:"enabled"`
	Filters       map[string]any  `json:"filters"`
	Mechanisms    alertMechanisms `json:"mechanisms"`
	Created       time.Time       `json:"created"`
	Modified      time.Time       `json:"modified"`
}

type alertMechanisms struct {
	Email     []mechanismRef `json:"email"`
	Webhooks  []mechanismRef `json:"webhooks"`
	Pagerduty []mechanismRef `json:"pagerduty"`
}

type mechanismRef struct {
	ID string `json:"id"`
}

type webhookDestination struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	secret    string
}

// alertPolicyRequest is the body of create and update; nil fields are absent.
type alertPolicyRequest struct {
	Name          *string          `json:"name"`
	Description   *string          `json:"description"`
	AlertType     *string          `json:"alert_type"`
	AlertInterval *string          `json:"alert_interval"`
	Enabled       *bool            `json:"enabled"`
	Filters       map[string]any   `json:"filters"`
	Mechanisms    *alertMechanisms `json:"mechanisms"`
}

type webhookRequest struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func (s *Server) alertingRoutes(mux *http.ServeMux) {
	store := &alertingStore{}
	base := "/accounts/{sid}/alerting/v3"
	s.handle(mux, "GET "+base+"/policies", needNotifications, store.listPolicies)
	s.handle(mux, "POST "+base+"/policies", needNotifications, s.alertingWith(store.createPolicy))
	s.handle(mux, "GET "+base+"/policies/{id}", needNotifications, store.getPolicy)
	s.handle(mux, "PUT "+base+"/policies/{id}", needNotifications, store.updatePolicy)
	s.handle(mux, "DELETE "+base+"/policies/{id}", needNotifications, store.deletePolicy)
	hooks := base + "/destinations/webhooks"
	s.handle(mux, "GET "+hooks, needNotifications, store.listWebhooks)
	s.handle(mux, "POST "+hooks, needNotifications, s.alertingWith(store.createWebhook))
	s.handle(mux, "GET "+hooks+"/{id}", needNotifications, store.getWebhook)
	s.handle(mux, "DELETE "+hooks+"/{id}", needNotifications, store.deleteWebhook)
}

// alertingWith hands create handlers a new id from the state's id source, so that seeded
// worlds make the same ids on every run.
func (s *Server) alertingWith(create func(c *apiCall, id string) (apiResult, error),
) apiHandler {
	return func(c *apiCall) (apiResult, error) {
		st := s.state
		st.mu.Lock()
		id := st.gen.uuid()
		st.mu.Unlock()
		return create(c, id)
	}
}

func errAlertingInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 17000,
		Message: fmt.Sprintf(format, args...)}
}

func errAlertingNotFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, Code: 17404, Message: what + " not found"}
}

func (a *alertingStore) listPolicies(*apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := make([]alertPolicy, 0, len(a.policies))
	for _, p := range a.policies {
		list = append(list, *p)
	}
	return okResult(list)
}

func (a *alertingStore) findPolicy(c *apiCall) (*alertPolicy, error) {
	id := c.r.PathValue("id")
	for _, p := range a.policies {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, errAlertingNotFound("notification policy")
}

func (a *alertingStore) getPolicy(c *apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := a.findPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	return okResult(*p)
}

func (a *alertingStore) createPolicy(c *apiCall, id string) (apiResult, error) {
	var req alertPolicyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	switch {
	case req.Name == nil:
		return apiResult{}, errAlertingInvalid("name is required")
	case req.AlertType == nil:
		return apiResult{}, errAlertingInvalid("alert_type is required")
	case req.Enabled == nil:
		return apiResult{}, errAlertingInvalid("enabled is required")
	case req.Mechanisms == nil:
		return apiResult{}, errAlertingInvalid("mechanisms is required")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p := &alertPolicy{ID: id, Created: c.now, Modified: c.now, Filters: map[string]any{}}
	if err := a.apply(p, req); err != nil {
		return apiResult{}, err
	}
	a.policies = append(a.policies, p)
	return okResult(idResult{ID: p.ID})
}

func (a *alertingStore) updatePolicy(c *apiCall) (apiResult, error) {
	var req alertPolicyRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := a.findPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	updated := *p
	if err := a.apply(&updated, req); err != nil {
		return apiResult{}, err
	}
	updated.Modified = c.now
	*p = updated
	return okResult(idResult{ID: p.ID})
}

// apply copies the fields present in req into p, checking each. a.mu must be held.
func (a *alertingStore) apply(p *alertPolicy, req alertPolicyRequest) error {
	if req.Name != nil {
		if strings.TrimSpace(*req.Name) == "" {
			return errAlertingInvalid("name must not be empty")
		}
		p.Name = *req.Name
	}
	if req.AlertType != nil {
		if !slices.Contains(knownAlertTypes, *req.AlertType) {
			return errAlertingInvalid("alert_type %q is not a known alert type", *req.AlertType)
		}
		p.AlertType = *req.AlertType
	}
	if req.Mechanisms != nil {
		if err := a.checkMechanisms(*req.Mechanisms); err != nil {
			return err
		}
		p.Mechanisms = normalMechanisms(*req.Mechanisms)
	}
	if req.Enabled != nil {
		p.Enabled = *req.Enabled
	}
	if req.Description != nil {
		p.Description = *req.Description
	}
	if req.AlertInterval != nil {
		p.AlertInterval = *req.AlertInterval
	}
	if req.Filters != nil {
		p.Filters = req.Filters
	}
	return nil
}

// checkMechanisms refuses an empty set, an email id that is not an address and a webhook
// id that names no destination. a.mu must be held.
func (a *alertingStore) checkMechanisms(m alertMechanisms) error {
	if len(m.Email)+len(m.Webhooks)+len(m.Pagerduty) == 0 {
		return errAlertingInvalid("mechanisms: give at least one email, webhook or pagerduty")
	}
	for _, email := range m.Email {
		if at := strings.Index(email.ID, "@"); at < 1 || at == len(email.ID)-1 {
			return errAlertingInvalid("mechanisms.email: %q is not an email address", email.ID)
		}
	}
	for _, hook := range m.Webhooks {
		if a.findWebhook(hook.ID) == nil {
			return errAlertingInvalid("mechanisms.webhooks: no webhook destination %q", hook.ID)
		}
	}
	return nil
}

// normalMechanisms turns absent lists into empty ones, as Cloudflare answers them.
func normalMechanisms(m alertMechanisms) alertMechanisms {
	for _, list := range []*[]mechanismRef{&m.Email, &m.Webhooks, &m.Pagerduty} {
		if *list == nil {
			*list = []mechanismRef{}
		}
	}
	return m
}

func (a *alertingStore) deletePolicy(c *apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := a.findPolicy(c)
	if err != nil {
		return apiResult{}, err
	}
	a.policies = slices.DeleteFunc(a.policies, func(q *alertPolicy) bool { return q == p })
	return okResult(nil)
}

func (a *alertingStore) listWebhooks(*apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := make([]webhookDestination, 0, len(a.webhooks))
	for _, hook := range a.webhooks {
		list = append(list, *hook)
	}
	return okResult(list)
}

// findWebhook returns the webhook with this id, or nil. a.mu must be held.
func (a *alertingStore) findWebhook(id string) *webhookDestination {
	for _, hook := range a.webhooks {
		if hook.ID == id {
			return hook
		}
	}
	return nil
}

func (a *alertingStore) getWebhook(c *apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hook := a.findWebhook(c.r.PathValue("id"))
	if hook == nil {
		return apiResult{}, errAlertingNotFound("webhook destination")
	}
	return okResult(*hook)
}

func (a *alertingStore) createWebhook(c *apiCall, id string) (apiResult, error) {
	var req webhookRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	if strings.TrimSpace(req.Name) == "" {
		return apiResult{}, errAlertingInvalid("name is required")
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The URL is not quoted: chat webhooks carry their credential in it.
		return apiResult{}, errAlertingInvalid("url must be an http or https URL")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	hook := &webhookDestination{ID: id, Name: req.Name, URL: req.URL, Type: webhookType(u),
		CreatedAt: c.now, secret: req.Secret}
	a.webhooks = append(a.webhooks, hook)
	return okResult(idResult{ID: hook.ID})
}

// webhookType guesses the destination type from the host, as Cloudflare does.
func webhookType(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "hooks.slack.com":
		return "slack"
	case host == "discord.com" || host == "discordapp.com":
		return "discord"
	case host == "chat.googleapis.com":
		return "gchat"
	}
	return "generic"
}

func (a *alertingStore) deleteWebhook(c *apiCall) (apiResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hook := a.findWebhook(c.r.PathValue("id"))
	if hook == nil {
		return apiResult{}, errAlertingNotFound("webhook destination")
	}
	for _, p := range a.policies {
		if slices.Contains(p.Mechanisms.Webhooks, mechanismRef{ID: hook.ID}) {
			return apiResult{}, errAlertingInvalid("webhook destination is used by "+
				"notification policy %q", p.Name)
		}
	}
	a.webhooks = slices.DeleteFunc(a.webhooks, func(h *webhookDestination) bool {
		return h == hook
	})
	return okResult(nil)
}
