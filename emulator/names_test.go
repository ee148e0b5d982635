package emulator_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cfst/cfst/emulator"
)

// The limit on names is 350 characters, not bytes: cfst create counts runes too.
var (
	wideName    = strings.Repeat("é", 200) // 200 characters, 400 bytes
	longestName = strings.Repeat("日", 350)
	tooLongName = strings.Repeat("日", 351)
)

// quotedString is s as a JSON string.
func quotedString(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

func TestAPINamesCountCharacters(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	admin := "Bearer " + adminToken
	tokens := "/accounts/" + testAccount + "/access/service_tokens"
	apps := "/accounts/" + testAccount + "/access/apps"
	policies := "/accounts/" + testAccount + "/access/policies"
	groups := "/accounts/" + testAccount + "/access/groups"
	rule := `"include":[{"everyone":{}}]`
	token := func(name string) string { return `{"name":` + quotedString(name) + `}` }
	app := func(name string) string {
		return `{"type":"self_hosted","domain":"a.example.com","name":` + quotedString(name) + `}`
	}
	policy := func(name string) string {
		return `{"decision":"allow",` + rule + `,"name":` + quotedString(name) + `}`
	}
	group := func(name string) string { return `{` + rule + `,"name":` + quotedString(name) + `}` }

	var cases []apiCase
	for _, kind := range []struct {
		what, path string
		body       func(string) string
	}{
		{"service token", tokens, token}, {"application", apps, app},
		{"reusable policy", policies, policy}, {"group", groups, group},
	} {
		cases = append(cases,
			apiCase{kind.what + " of 200 non-ASCII characters", "POST", kind.path,
				kind.body(wideName), 201, 0},
			apiCase{kind.what + " of 350 characters", "POST", kind.path,
				kind.body(longestName), 201, 0},
			apiCase{kind.what + " of 351 characters", "POST", kind.path,
				kind.body(tooLongName), 400, 12130})
	}
	runAPICases(t, srv, cases, admin)

	_, body := apiCall(t, srv, "POST", tokens, token(tooLongName), admin)
	if msg := body.Get("errors.0.message").String(); !strings.Contains(msg, "got 351") {
		t.Errorf("the refusal counts bytes, not characters: %q", msg)
	}
}

func TestWorldNamesCountCharacters(t *testing.T) {
	worlds := map[string]func(name string) string{
		"service token": func(name string) string {
			return "service_tokens:\n  - name: " + name + "\n"
		},
		"group": func(name string) string {
			return "groups:\n  - name: " + name + "\n    include: [{everyone: {}}]\n"
		},
		"inline policy": func(name string) string {
			return "applications:\n  - name: a\n    domain: a.example.com\n    policies:\n" +
				"      - {name: " + name + ", decision: allow, include: [{everyone: {}}]}\n"
		},
	}
	for what, world := range worlds {
		for _, name := range []string{wideName, longestName} {
			if _, err := emulator.ParseWorld("w.yaml", []byte(world(name))); err != nil {
				t.Errorf("%s named with %d characters (%d bytes): %v", what,
					utf8.RuneCountInString(name), len(name), err)
			}
		}
		_, err := emulator.ParseWorld("w.yaml", []byte(world(tooLongName)))
		if err == nil || !strings.Contains(err.Error(), "longer than 350 characters") {
			t.Errorf("%s named with 351 characters: %v, want it refused", what, err)
		}
	}
}
