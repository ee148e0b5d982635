package emulator_test

import (
	"net/http"
	"testing"
)

// TestSchemaCheckCatchesBadAnswers makes sure the schema check used by every API test can
// fail: a check that passes everything would prove nothing.
func TestSchemaCheckCatchesBadAnswers(t *testing.T) {
	list, err := http.NewRequest("GET", "https://127.0.0.1/client/v4/accounts/"+testAccount+
		"/access/service_tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		status int
		body   string
	}{
		{"id is a number", 200, `{"success":true,"errors":[],"messages":[],` +
			`"result":[{"id":5}],"result_info":{"page":1}}`},
		{"created_at is not a time", 200, `{"success":true,"errors":[],"messages":[],` +
			`"result":[{"created_at":"yesterday"}]}`},
		{"failure without messages", 404, `{"success":false,"errors":[{"code":12135,` +
			`"message":"access.api.error.not_found"}],"result":null}`},
		{"failure with success true", 400, `{"success":true,"errors":[{"code":12130,` +
			`"message":"x"}],"messages":[],"result":null}`},
	}
	header := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range cases {
		if err := validateResponse(list, tc.status, header, []byte(tc.body)); err == nil {
			t.Errorf("%s: the schema check passed %s", tc.name, tc.body)
		}
	}
	good := `{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":1}}`
	if err := validateResponse(list, 200, header, []byte(good)); err != nil {
		t.Errorf("the schema check failed a good answer: %v", err)
	}
}
