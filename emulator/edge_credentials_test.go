package emulator

import (
	"net/http"
	"testing"

	"github.com/cfst/cfst/internal/access"
)

func TestReadCredentials(t *testing.T) {
	standard := &access.Application{}
	single := &access.Application{ReadServiceTokensFromHeader: "Authorization"}
	const good = `{"cf-access-client-id":"id1","cf-access-client-secret":"s1"}`
	pair := http.Header{headerClientID: {"id1"}, headerClientSecret: {"s1"}}

	tests := []struct {
		name     string
		header   http.Header
		app      *access.Application
		strict   bool
		shape    credentialShape
		clientID string
	}{
		{"none", http.Header{}, standard, false, shapeNone, ""},
		{"pair", pair, standard, false, shapeComplete, "id1"},
		{"pair strict", pair, standard, true, shapeComplete, "id1"},
		{"id only", http.Header{headerClientID: {"id1"}}, standard, false, shapeFaulty, ""},
		{"secret only", http.Header{headerClientSecret: {"s"}}, standard, false, shapeFaulty, ""},
		{"empty secret", http.Header{headerClientID: {"id1"}, headerClientSecret: {""}},
			standard, false, shapeFaulty, ""},
		{"duplicate id, default", http.Header{headerClientID: {"id1", "id2"},
			headerClientSecret: {"s1"}}, standard, false, shapeComplete, "id1"},
		{"duplicate id, strict", http.Header{headerClientID: {"id1", "id2"},
			headerClientSecret: {"s1"}}, standard, true, shapeFaulty, ""},
		{"duplicate secret, strict", http.Header{headerClientID: {"id1"},
			headerClientSecret: {"s1", "s1"}}, standard, true, shapeFaulty, ""},
		{"single header", http.Header{"Authorization": {good}}, single, false,
			shapeComplete, "id1"},
		{"single header ignores standard ones", pair, single, false, shapeNone, ""},
		{"single header plus standard, default", http.Header{"Authorization": {good},
			headerClientID: {"other"}}, single, false, shapeComplete, "id1"},
		{"single header plus standard, strict", http.Header{"Authorization": {good},
			headerClientID: {"other"}}, single, true, shapeFaulty, ""},
		{"standard only on a single-header app, strict", pair, single, true, shapeFaulty, ""},
		{"single header twice, strict", http.Header{"Authorization": {good, good}}, single,
			true, shapeFaulty, ""},
		{"single header, uppercase keys", http.Header{"Authorization": {
			`{"CF-Access-Client-Id":"id1","CF-Access-Client-Secret":"s1"}`}}, single, false,
			shapeFaulty, ""},
		{"single header, not JSON", http.Header{"Authorization": {"Bearer x"}}, single,
			false, shapeFaulty, ""},
		{"single header, no secret", http.Header{"Authorization": {
			`{"cf-access-client-id":"id1"}`}}, single, false, shapeFaulty, ""},
		{"single header, number id", http.Header{"Authorization": {
			`{"cf-access-client-id":1,"cf-access-client-secret":"s1"}`}}, single, false,
			shapeFaulty, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readCredentials(tt.header, tt.app, tt.strict)
			if got.shape != tt.shape || got.clientID != tt.clientID {
				t.Fatalf("got shape %d id %q (%s), want shape %d id %q", got.shape,
					got.clientID, got.problem, tt.shape, tt.clientID)
			}
			if got.shape == shapeFaulty && got.problem == "" {
				t.Fatal("a faulty shape needs a problem")
			}
			if got.shape == shapeComplete && got.secret.Reveal() != "s1" {
				t.Fatal("secret lost")
			}
		})
	}
}

// FuzzReadCredentialsJSON checks that any single-header value either yields both values
// or is faulty, and never panics.
func FuzzReadCredentialsJSON(f *testing.F) {
	f.Add(`{"cf-access-client-id":"id1","cf-access-client-secret":"s1"}`)
	f.Add(`{"cf-access-client-id":"","cf-access-client-secret":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, value string) {
		got := readCredentialsJSON(value)
		switch got.shape {
		case shapeComplete:
			if got.clientID == "" || got.secret.IsZero() {
				t.Fatalf("complete credentials with an empty value from %q", value)
			}
		case shapeFaulty:
			if got.problem == "" {
				t.Fatalf("faulty without a problem from %q", value)
			}
		default:
			t.Fatalf("shape %d from %q", got.shape, value)
		}
	})
}
