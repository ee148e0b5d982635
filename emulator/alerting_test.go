package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// alertingCall sends one API request with token and decodes the envelope.
func alertingCall(t testing.TB, srv *Server, token, method, path string, body any,
) (int, envelopeAnswer) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, srv.URL+"/accounts/"+srv.AccountID()+
		"/alerting/v3"+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer envelopeAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	answer.raw = string(raw)
	return resp.StatusCode, answer
}

type envelopeAnswer struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	raw string
}

func (a envelopeAnswer) id(t testing.TB) string {
	t.Helper()
	var result struct{ ID string }
	if err := json.Unmarshal(a.Result, &result); err != nil || result.ID == "" {
		t.Fatalf("no id in %s", a.raw)
	}
	return result.ID
}

func TestAlertingPoliciesAndWebhooks(t *testing.T) {
	srv := startGraphQLWorld(t)
	call := func(method, path string, body any) (int, envelopeAnswer) {
		return alertingCall(t, srv, gqlAllToken, method, path, body)
	}
	hookURL := "https://hooks.slack.com/services/T0/B0/credential-in-url"
	status, answer := call("POST", "/destinations/webhooks", map[string]string{
		"name": "ops chat", "url": hookURL, "secret": "hook-secret-value"})
	if status != http.StatusOK {
		t.Fatalf("create webhook: %d %s", status, answer.raw)
	}
	hookID := answer.id(t)
	_, answer = call("GET", "/destinations/webhooks", nil)
	if !strings.Contains(answer.raw, `"type":"slack"`) || !strings.Contains(answer.raw, hookID) ||
		strings.Contains(answer.raw, "hook-secret-value") {
		t.Errorf("webhook list: %s", answer.raw)
	}

	policy := map[string]any{"name": "expiring tokens", "enabled": true,
		"alert_type": "expiring_service_token_alert", "mechanisms": map[string]any{
			"email":    []map[string]string{{"id": "ops@example.com"}},
			"webhooks": []map[string]string{{"id": hookID}}}}
	status, answer = call("POST", "/policies", policy)
	if status != http.StatusOK {
		t.Fatalf("create policy: %d %s", status, answer.raw)
	}
	policyID := answer.id(t)
	_, answer = call("GET", "/policies/"+policyID, nil)
	var got alertPolicy
	if err := json.Unmarshal(answer.Result, &got); err != nil || !got.Enabled ||
		got.AlertType != "expiring_service_token_alert" ||
		got.Mechanisms.Email[0].ID != "ops@example.com" || got.Mechanisms.Webhooks[0].ID != hookID ||
		got.Created.IsZero() || got.Mechanisms.Pagerduty == nil {
		t.Fatalf("get policy: %v %s", err, answer.raw)
	}

	if status, _ = call("PUT", "/policies/"+policyID, map[string]any{"enabled": false}); status != 200 {
		t.Fatalf("update: %d", status)
	}
	_, answer = call("GET", "/policies", nil)
	if !strings.Contains(answer.raw, `"enabled":false`) || !strings.Contains(answer.raw, hookID) {
		t.Errorf("list after update: %s", answer.raw)
	}

	status, answer = call("DELETE", "/destinations/webhooks/"+hookID, nil)
	if status != http.StatusBadRequest || !strings.Contains(answer.raw, "expiring tokens") {
		t.Errorf("deleting a webhook in use: %d %s", status, answer.raw)
	}
	for _, path := range []string{"/policies/" + policyID, "/destinations/webhooks/" + hookID} {
		if status, answer = call("DELETE", path, nil); status != http.StatusOK {
			t.Errorf("DELETE %s: %d %s", path, status, answer.raw)
		}
		if status, answer = call("GET", path, nil); status != http.StatusNotFound ||
			answer.Errors[0].Code != 17404 {
			t.Errorf("GET %s after delete: %d %s", path, status, answer.raw)
		}
	}
}

func TestAlertingRefusesInvalidRequests(t *testing.T) {
	srv := startGraphQLWorld(t)
	valid := func() map[string]any {
		return map[string]any{"name": "n", "enabled": true,
			"alert_type": "expiring_service_token_alert", "mechanisms": map[string]any{
				"email": []map[string]string{{"id": "ops@example.com"}}}}
	}
	without := func(key string) map[string]any {
		p := valid()
		delete(p, key)
		return p
	}
	with := func(key string, value any) map[string]any {
		p := valid()
		p[key] = value
		return p
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"no name", without("name"), "name is required"},
		{"no type", without("alert_type"), "alert_type is required"},
		{"no enabled", without("enabled"), "enabled is required"},
		{"no mechanisms", without("mechanisms"), "mechanisms is required"},
		{"unknown type", with("alert_type", "nope"), `"nope" is not a known alert type`},
		{"empty mechanisms", with("mechanisms", map[string]any{}), "at least one"},
		{"bad email", with("mechanisms", map[string]any{
			"email": []map[string]string{{"id": "ops"}}}), "not an email address"},
		{"unknown webhook", with("mechanisms", map[string]any{
			"webhooks": []map[string]string{{"id": "nope"}}}), `no webhook destination "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, answer := alertingCall(t, srv, gqlAllToken, "POST", "/policies", tt.body)
			if status != http.StatusBadRequest || len(answer.Errors) != 1 ||
				answer.Errors[0].Code != 17000 ||
				!strings.Contains(answer.Errors[0].Message, tt.want) {
				t.Errorf("%d %s; want 400 saying %q", status, answer.raw, tt.want)
			}
		})
	}
	status, answer := alertingCall(t, srv, gqlAllToken, "POST", "/destinations/webhooks",
		map[string]string{"name": "x", "url": "ftp://hooks.example.com/credential"})
	if status != http.StatusBadRequest || strings.Contains(answer.raw, "credential") {
		t.Errorf("bad webhook URL: %d %s", status, answer.raw)
	}
	status, _ = alertingCall(t, srv, gqlTokensToken, "GET", "/policies", nil)
	if status != http.StatusForbidden {
		t.Errorf("token without notifications:write: status %d, want 403", status)
	}
}
