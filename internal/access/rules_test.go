package access

import (
	"net/netip"
	"testing"
)

func tokenRule(id string) Rule     { return Rule{ServiceToken: &ServiceTokenRule{TokenID: id}} }
func anyTokenRule() Rule           { return Rule{AnyValidServiceToken: &Empty{}} }
func groupRule(id string) Rule     { return Rule{Group: &GroupRule{ID: id}} }
func everyoneRule() Rule           { return Rule{Everyone: &Empty{}} }
func ipRule(cidr string) Rule      { return Rule{IP: &IPRule{IP: cidr}} }
func countryRule(code string) Rule { return Rule{Geo: &GeoRule{CountryCode: code}} }

// validToken is a request with a token that authenticates.
func validToken(id string) Request { return Request{Credentials: ValidToken, TokenID: id} }

// from returns req coming from addr.
func from(req Request, addr string) Request {
	req.IP = netip.MustParseAddr(addr)
	return req
}

// inCountry returns req coming from country.
func inCountry(req Request, country string) Request {
	req.Country = country
	return req
}

func TestSelectors(t *testing.T) {
	invalid := Request{Credentials: InvalidToken, TokenID: "t1"}
	none := Request{}
	tests := []struct {
		name string
		rule Rule
		req  Request
		want bool
	}{
		{"service_token, same id", tokenRule("t1"), validToken("t1"), true},
		{"service_token, other id", tokenRule("t1"), validToken("t2"), false},
		{"service_token, invalid token", tokenRule("t1"), invalid, false},
		{"service_token, no credentials", tokenRule("t1"), none, false},
		{"service_token, empty id", tokenRule(""), validToken(""), false},
		{"any valid token, valid", anyTokenRule(), validToken("t9"), true},
		{"any valid token, invalid", anyTokenRule(), invalid, false},
		{"any valid token, none", anyTokenRule(), none, false},
		{"everyone, none", everyoneRule(), none, true},
		{"everyone, invalid", everyoneRule(), invalid, true},
		{"ip, same address", ipRule("192.0.2.7"), from(none, "192.0.2.7"), true},
		{"ip, other address", ipRule("192.0.2.7"), from(none, "192.0.2.8"), false},
		{"ip, in range", ipRule("10.0.0.0/8"), from(none, "10.1.2.3"), true},
		{"ip, out of range", ipRule("10.0.0.0/8"), from(none, "11.0.0.1"), false},
		{"ip, host bits set", ipRule("10.1.2.3/8"), from(none, "10.9.9.9"), true},
		{"ip, v6 range", ipRule("2001:db8::/32"), from(none, "2001:db8::1"), true},
		{"ip, v4-mapped request", ipRule("10.0.0.0/8"), from(none, "::ffff:10.0.0.1"), true},
		{"ip, v4-mapped address", ipRule("::ffff:10.0.0.1"), from(none, "10.0.0.1"), true},
		{"ip, spaces", ipRule(" 10.0.0.0/8 "), from(none, "10.0.0.1"), true},
		{"ip, unknown client", ipRule("10.0.0.0/8"), none, false},
		{"ip, bad selector", ipRule("ten/8"), from(none, "10.0.0.1"), false},
		{"country, same", countryRule("DE"), inCountry(none, "DE"), true},
		{"country, case", countryRule("de"), inCountry(none, "De"), true},
		{"country, other", countryRule("DE"), inCountry(none, "FR"), false},
		{"country, unknown", countryRule("DE"), none, false},
		{"country, both empty", countryRule(""), none, false},
		{"email never matches", Rule{Email: &EmailRule{Email: "a@b.c"}}, validToken("t1"), false},
		{"email domain never matches", Rule{EmailDomain: &EmailDomainRule{Domain: "b.c"}},
			validToken("t1"), false},
		{"certificate never matches", Rule{Certificate: &Empty{}}, validToken("t1"), false},
		{"unknown selector never matches", Rule{}, validToken("t1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := MatchingRule([]Rule{tt.rule}, nil, tt.req)
			if got != tt.want {
				t.Errorf("rule %s matches = %v, want %v", DescribeRule(tt.rule, nil), got, tt.want)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	groups := []Group{
		{ID: "tokens", Name: "CI tokens", Include: []Rule{tokenRule("t1"), tokenRule("t2")}},
		{ID: "nested", Name: "Nested", Include: []Rule{groupRule("tokens")}},
		{ID: "deep", Include: []Rule{groupRule("nested")}},
		{ID: "office", Include: []Rule{anyTokenRule()}, Require: []Rule{ipRule("10.0.0.0/8")}},
		{ID: "not-t2", Include: []Rule{anyTokenRule()}, Exclude: []Rule{tokenRule("t2")}},
		{ID: "no-include", Require: []Rule{everyoneRule()}},
		{ID: "cycle-a", Include: []Rule{groupRule("cycle-b")}},
		{ID: "cycle-b", Include: []Rule{groupRule("cycle-a")}},
		{ID: "cycle-or", Include: []Rule{groupRule("cycle-or"), tokenRule("t1")}},
		{ID: "self-exclude", Include: []Rule{everyoneRule()},
			Exclude: []Rule{groupRule("self-exclude")}},
		{ID: "diamond", Include: []Rule{groupRule("left")}, Require: []Rule{groupRule("right")}},
		{ID: "left", Include: []Rule{groupRule("tokens")}},
		{ID: "right", Include: []Rule{groupRule("tokens")}},
	}
	tests := []struct {
		name  string
		group string
		req   Request
		want  bool
	}{
		{"group includes token", "tokens", validToken("t2"), true},
		{"group lacks token", "tokens", validToken("t3"), false},
		{"nested group", "nested", validToken("t1"), true},
		{"two levels deep", "deep", validToken("t2"), true},
		{"nested group lacks token", "deep", validToken("t3"), false},
		{"group require met", "office", from(validToken("t1"), "10.0.0.1"), true},
		{"group require not met", "office", from(validToken("t1"), "192.0.2.1"), false},
		{"group exclude", "not-t2", validToken("t2"), false},
		{"group exclude spares others", "not-t2", validToken("t1"), true},
		{"group without include", "no-include", validToken("t1"), false},
		{"unknown group", "missing", validToken("t1"), false},
		{"cycle never matches", "cycle-a", validToken("t1"), false},
		{"cycle, other include still matches", "cycle-or", validToken("t1"), true},
		{"cycle through exclude", "self-exclude", validToken("t1"), true},
		{"same group twice, not a cycle", "diamond", validToken("t1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := MatchingRule([]Rule{groupRule(tt.group)}, groups, tt.req)
			if got != tt.want {
				t.Errorf("group %q matches = %v, want %v", tt.group, got, tt.want)
			}
		})
	}
}

func TestMatchingRuleReturnsFirstMatch(t *testing.T) {
	rules := []Rule{tokenRule("t1"), ipRule("10.0.0.0/8"), everyoneRule()}
	rule, ok := MatchingRule(rules, nil, from(validToken("t2"), "10.0.0.1"))
	if !ok || rule.IP == nil {
		t.Fatalf("MatchingRule = %s, %v; want the ip rule", DescribeRule(rule, nil), ok)
	}
	if _, ok := MatchingRule(nil, nil, validToken("t1")); ok {
		t.Error("MatchingRule(nil) matched")
	}
}

func TestDescribeRule(t *testing.T) {
	groups := []Group{{ID: "g1", Name: "CI"}, {ID: "g2"}}
	tests := []struct {
		rule Rule
		want string
	}{
		{tokenRule("t1"), "service token t1"},
		{anyTokenRule(), "any valid service token"},
		{groupRule("g1"), "group CI (g1)"},
		{groupRule("g2"), "group g2"},
		{groupRule("gone"), "group gone"},
		{everyoneRule(), "everyone"},
		{ipRule("10.0.0.0/8"), "ip 10.0.0.0/8"},
		{countryRule("de"), "country DE"},
		{Rule{Email: &EmailRule{Email: "a@b.c"}}, "email a@b.c"},
		{Rule{EmailDomain: &EmailDomainRule{Domain: "b.c"}}, "email domain b.c"},
		{Rule{Certificate: &Empty{}}, "valid client certificate"},
		{Rule{}, "unsupported selector"},
	}
	for _, tt := range tests {
		if got := DescribeRule(tt.rule, groups); got != tt.want {
			t.Errorf("DescribeRule = %q, want %q", got, tt.want)
		}
	}
}
