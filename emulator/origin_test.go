package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOriginPages(t *testing.T) {
	tests := []struct {
		name   string
		write  func(http.ResponseWriter, *http.Request)
		accept string
		status int
		want   []string
	}{
		{"bad gateway", writeBadGateway, "", 502,
			[]string{"Bad gateway", "Error code 502",
				"Cloudflare Ray ID: <strong>0123456789abcdef-SJC"}},
		{"tunnel down, API client", writeTunnelDown, "*/*", 530, []string{"error code: 1033"}},
		{"tunnel down, browser", writeTunnelDown, "text/html,*/*", 530,
			[]string{"Argo Tunnel error", "error code: 1033", "0123456789abcdef-SJC"}},
		{"status", func(w http.ResponseWriter, _ *http.Request) { writeOriginStatus(w, "503") },
			"", 503, []string{"origin answered 503"}},
		{"status out of range", func(w http.ResponseWriter, _ *http.Request) {
			writeOriginStatus(w, "99")
		}, "", 500, []string{`origin "status:99" is not`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Cf-Ray", "0123456789abcdef-SJC")
			req := httptest.NewRequest(http.MethodGet, "https://app.example.com/x", nil)
			req.Header.Set("Accept", tt.accept)
			tt.write(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			for _, want := range tt.want {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body lacks %q:\n%s", want, rec.Body.String())
				}
			}
		})
	}
}
