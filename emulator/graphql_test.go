package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/access"
)

// The API tokens and service token of the GraphQL tests; all are test values.
const (
	gqlAllToken    = "graphql-test-token-all"
	gqlTokensToken = "graphql-test-token-tokens-only"
	gqlClientID    = "9a1c0000000000000000000000000001.access"
	gqlSecret      = "cfast_graphqlgraphqlgraphqlgraphqlgraph0001"
)

// gqlWorld has one application admitting one service token, and two API tokens: one with
// every permission, one without logs:read.
func gqlWorld() *World {
	return &World{
		Team: "gql",
		APITokens: []WorldAPIToken{
			{Name: "all", Value: NewSecret(gqlAllToken), Permissions: []string{PermAll}},
			{Name: "tokens", Value: NewSecret(gqlTokensToken),
				Permissions: []string{PermServiceTokensRead}},
		},
		ServiceTokens: []WorldServiceToken{{Name: "good", ClientID: gqlClientID,
			ClientSecret: NewSecret(gqlSecret)}},
		Applications: []WorldApp{{Name: "svc", Domain: "svc.example.com",
			Policies: []WorldAppPolicy{{WorldPolicy: WorldPolicy{Name: "tokens",
				Decision: access.DecisionNonIdentity,
				Include:  []access.Rule{{AnyValidServiceToken: &access.Empty{}}}}}}}},
	}
}

func startGraphQLWorld(t testing.TB) *Server {
	t.Helper()
	srv, err := Start(Config{World: gqlWorld()})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// gqlAnswer is a decoded GraphQL answer.
type gqlAnswer struct {
	status int
	header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// errorCode is the extensions.code of the first error, or "".
func (a gqlAnswer) errorCode() string {
	if len(a.Errors) == 0 {
		return ""
	}
	code, _ := a.Errors[0].Extensions["code"].(string)
	return code
}

func postGraphQL(t testing.TB, srv *Server, token, query string, vars map[string]any,
) gqlAnswer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	answer := gqlAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, raw)
	}
	return answer
}

// groupRow is one group of an answer, with the dimensions the tests ask for.
type groupRow struct {
	Count      int `json:"count"`
	Dimensions struct {
		Datetime          string `json:"datetime"`
		Date              string `json:"date"`
		IsSuccessfulLogin *int   `json:"isSuccessfulLogin"`
		ServiceTokenID    string `json:"serviceTokenId"`
		AppID             string `json:"appId"`
		IPAddress         string `json:"ipAddress"`
		Country           string `json:"country"`
		CfRayID           string `json:"cfRayId"`
		IdentityProvider  string `json:"identityProvider"`
		ApprovingPolicyID string `json:"approvingPolicyId"`
	} `json:"dimensions"`
}

// groupRows decodes viewer.accounts[0].accessLoginRequestsAdaptiveGroups, or fails.
func groupRows(t testing.TB, answer gqlAnswer) []groupRow {
	t.Helper()
	if len(answer.Errors) > 0 || answer.status != http.StatusOK {
		t.Fatalf("status %d, errors %+v", answer.status, answer.Errors)
	}
	var data struct {
		Viewer struct {
			Accounts []struct {
				Groups []groupRow `json:"accessLoginRequestsAdaptiveGroups"`
			} `json:"accounts"`
		} `json:"viewer"`
	}
	if err := json.Unmarshal(answer.Data, &data); err != nil {
		t.Fatalf("decode data: %v\n%s", err, answer.Data)
	}
	if len(data.Viewer.Accounts) != 1 {
		t.Fatalf("got %d accounts, want 1: %s", len(data.Viewer.Accounts), answer.Data)
	}
	return data.Viewer.Accounts[0].Groups
}

// groupsQuery wraps the arguments and selection of accessLoginRequestsAdaptiveGroups in a
// query on the account of $account.
func groupsQuery(arguments, selection string) string {
	return `query($account: string!, $from: Time!, $to: Time!) { viewer {
  accounts(filter: {accountTag: $account}) {
    accessLoginRequestsAdaptiveGroups(` + arguments + `) { ` + selection + ` } } } }`
}

// literalQuery is groupsQuery for arguments that use no time variable.
func literalQuery(arguments, selection string) string {
	return `query($account: string!) { viewer { accounts(filter: {accountTag: $account}) {
    accessLoginRequestsAdaptiveGroups(` + arguments + `) { ` + selection + ` } } } }`
}

// window is a time range around the test's events.
func window(srv *Server) map[string]any {
	now := srv.Clock().Now()
	return map[string]any{"account": srv.AccountID(),
		"from": now.Add(-6 * 24 * time.Hour).Format(time.RFC3339),
		"to":   now.Add(time.Hour).Format(time.RFC3339)}
}

func TestGraphQLAnswersTheTutorialQuery(t *testing.T) {
	srv := startGraphQLWorld(t)
	req, err := http.NewRequest(http.MethodGet, "https://svc.example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(headerClientID, gqlClientID)
	req.Header.Set(headerClientSecret, gqlSecret)
	req.Header.Set(headerEmulatorClientIP, "198.51.100.7")
	req.Header.Set(headerEmulatorCountry, "de")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ray := resp.Header.Get("Cf-Ray")[:16]
	now := srv.Clock().Now()

	// The query of Cloudflare's tutorial "Querying Access login events with GraphQL",
	// variables declared string as it declares them.
	query := `query accessLoginRequestsAdaptiveGroups($accountTag: string, $rayId: string,
  $datetimeStart: string, $datetimeEnd: string) { viewer { accounts(filter:
  {accountTag: $accountTag}) { accessLoginRequestsAdaptiveGroups(limit: 100, filter:
  {datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd, cfRayId: $rayId},
  orderBy: [datetime_ASC]) { dimensions { datetime isSuccessfulLogin hasWarpEnabled
  hasGatewayEnabled hasExistingJWT approvingPolicyId cfRayId ipAddress userUuid
  identityProvider country deviceId mtlsStatus mtlsCertSerialId mtlsCommonName
  serviceTokenId } } } } }`
	rows := groupRows(t, postGraphQL(t, srv, gqlAllToken, query, map[string]any{
		"accountTag": srv.AccountID(), "rayId": ray,
		"datetimeStart": now.Add(-time.Hour).Format(time.RFC3339),
		"datetimeEnd":   now.Add(time.Hour).Format(time.RFC3339)}))

	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1: %+v", len(rows), rows)
	}
	d := rows[0].Dimensions
	event := srv.LoginEvents()[0]
	switch {
	case d.CfRayID != ray, d.IPAddress != "198.51.100.7", d.Country != "DE",
		d.IdentityProvider != "nonidentity", d.ServiceTokenID != event.TokenID,
		d.ServiceTokenID == "", d.ApprovingPolicyID != event.ApprovingPolicyID,
		d.ApprovingPolicyID == "",
		d.IsSuccessfulLogin == nil || *d.IsSuccessfulLogin != 1:
		t.Errorf("dimensions = %+v", d)
	}
	if at, err := time.Parse(time.RFC3339, d.Datetime); err != nil ||
		at.Sub(now).Abs() > 2*time.Second {
		t.Errorf("datetime = %q, want about %s", d.Datetime, now.Format(time.RFC3339))
	}
}

// recordAt injects events at base+offset seconds, one per spec: token, ip, allowed. The
// application of token T's events is "app-T", and an allowed event names the approving
// policy "policy-T", as an admitted login does.
func recordAt(srv *Server, base time.Time, specs ...eventSpec) {
	events := make([]LoginEvent, 0, len(specs))
	for i, spec := range specs {
		event := LoginEvent{
			Time: base.Add(spec.offset), RayID: fmt.Sprintf("%016x", i+1),
			TokenID: spec.token, AppID: "app-" + spec.token, Country: spec.country,
			IP: netip.MustParseAddr(spec.ip), Allowed: spec.allowed,
		}
		if spec.allowed {
			event.ApprovingPolicyID = "policy-" + spec.token
		}
		events = append(events, event)
	}
	srv.RecordLoginEvents(events...)
}

type eventSpec struct {
	offset  time.Duration
	token   string
	ip      string
	country string
	allowed bool
}

func TestGraphQLGroupsByTheRequestedDimensions(t *testing.T) {
	srv := startGraphQLWorld(t)
	base := srv.Clock().Now().Add(-time.Hour).Truncate(time.Second)
	recordAt(srv, base,
		eventSpec{0, "a", "192.0.2.1", "US", true},
		eventSpec{time.Second, "a", "192.0.2.1", "US", true},
		eventSpec{2 * time.Second, "a", "192.0.2.2", "FR", false},
		eventSpec{3 * time.Second, "b", "192.0.2.1", "US", true},
		eventSpec{3*time.Second + time.Millisecond, "b", "192.0.2.1", "US", true},
	)
	query := groupsQuery(`limit: 10, filter: {datetime_geq: $from, datetime_leq: $to},
    orderBy: [count_DESC]`, "count dimensions { serviceTokenId ipAddress }")
	rows := groupRows(t, postGraphQL(t, srv, gqlAllToken, query, window(srv)))
	got := map[string]int{}
	for _, row := range rows {
		got[row.Dimensions.ServiceTokenID+" "+row.Dimensions.IPAddress] = row.Count
	}
	want := map[string]int{"a 192.0.2.1": 2, "a 192.0.2.2": 1, "b 192.0.2.1": 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
	if rows[len(rows)-1].Count != 1 {
		t.Errorf("count_DESC put %d last, want the group of 1", rows[len(rows)-1].Count)
	}

	// By datetime, to the second: b's two events share a second.
	query = groupsQuery(`limit: 10, filter: {datetime_geq: $from, datetime_leq: $to},
    orderBy: [datetime_DESC]`, "count dimensions { datetime }")
	rows = groupRows(t, postGraphQL(t, srv, gqlAllToken, query, window(srv)))
	if len(rows) != 4 || rows[0].Count != 2 ||
		rows[0].Dimensions.Datetime != base.Add(3*time.Second).UTC().Format(time.RFC3339) {
		t.Errorf("by datetime DESC: %+v", rows)
	}
}

func TestGraphQLFilters(t *testing.T) {
	srv := startGraphQLWorld(t)
	base := srv.Clock().Now().Add(-2 * time.Hour).Truncate(time.Second)
	recordAt(srv, base,
		eventSpec{0, "a", "192.0.2.1", "US", true},
		eventSpec{time.Minute, "a", "192.0.2.2", "FR", false},
		eventSpec{2 * time.Minute, "b", "2001:db8::1", "DE", true},
		eventSpec{3 * time.Minute, "c", "192.0.2.1", "US", false},
	)
	minute := func(n int) string {
		return base.Add(time.Duration(n) * time.Minute).UTC().Format(time.RFC3339)
	}
	day := func(n int) string {
		return base.AddDate(0, 0, n).UTC().Format(time.DateOnly)
	}
	tests := []struct {
		filter string
		want   string // the rays of the matching events, in time order
	}{
		{`serviceTokenId: "a"`, "1 2"},
		{`serviceTokenId_neq: "a"`, "3 4"},
		{`serviceTokenId_in: ["b", "c", "nope"]`, "3 4"},
		{`serviceTokenId_notin: ["a", "b"]`, "4"},
		{`isSuccessfulLogin: 0`, "2 4"},
		{`isSuccessfulLogin_neq: 0`, "1 3"},
		{`ipAddress: "192.0.2.1"`, "1 4"},
		{`ipAddress: "2001:db8::1"`, "3"},
		{`country_in: ["FR", "DE"]`, "2 3"},
		{`cfRayId: "0000000000000002"`, "2"},
		{`identityProvider: "nonidentity"`, "1 2 3 4"},
		{`identityProvider_neq: "nonidentity"`, ""},
		{`OR: [{serviceTokenId: "b"}, {country: "FR"}]`, "2 3"},
		{`AND: [{isSuccessfulLogin: 1}, {ipAddress_neq: "192.0.2.1"}]`, "3"},
		{`datetime_gt: "` + minute(1) + `"`, "3 4"},
		{`datetime_lt: "` + minute(1) + `"`, "1"},
		{`datetime: "` + minute(2) + `"`, "3"},
		{`datetime_neq: "` + minute(2) + `"`, "1 2 4"},
		// The application filter (issue 7): each event's application is app-<token>.
		{`appId: "app-a"`, "1 2"},
		{`appId: "app-nope"`, ""},
		{`appId_neq: "app-a"`, "3 4"},
		{`appId_in: ["app-b", "app-c", "app-nope"]`, "3 4"},
		{`appId_notin: ["app-a", "app-c"]`, "3"},
		{`OR: [{appId: "app-c"}, {serviceTokenId: "b"}]`, "3 4"},
		{`AND: [{appId: "app-a"}, {isSuccessfulLogin: 0}]`, "2"},
		// Only an admitted login has an approving policy; a refused one has "".
		{`approvingPolicyId: "policy-a"`, "1"},
		{`approvingPolicyId_in: ["policy-a", "policy-b"]`, "1 3"},
		{`approvingPolicyId: ""`, "2 4"},
		{`approvingPolicyId_neq: ""`, "1 3"},
		{`approvingPolicyId_notin: ["policy-b", ""]`, "1"},
		{`country: "US"`, "1 4"},
		{`country_neq: "US"`, "2 3"},
		{`country_notin: ["US", "FR"]`, "3"},
		{`ipAddress_neq: "192.0.2.1"`, "2 3"},
		{`ipAddress_in: ["192.0.2.2", "2001:db8::1"]`, "2 3"},
		{`ipAddress_notin: ["192.0.2.1", "192.0.2.2"]`, "3"},
		{`cfRayId_in: ["0000000000000001", "0000000000000004"]`, "1 4"},
		{`cfRayId_neq: "0000000000000001"`, "2 3 4"},
		{`serviceTokenId_in: []`, ""},
		// A service-token login has no mTLS certificate and no existing JWT.
		{`mtlsStatus: ""`, "1 2 3 4"},
		{`mtlsStatus_neq: ""`, ""},
		{`hasExistingJWT: 0`, "1 2 3 4"},
		{`hasExistingJWT: 1`, ""},
		{`date_geq: "` + day(0) + `"`, "1 2 3 4"},
		{`date_lt: "` + day(0) + `"`, ""},
		{`date: "` + day(-1) + `"`, ""},
		{`date_neq: "` + day(-1) + `"`, "1 2 3 4"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			query := groupsQuery(`limit: 100, orderBy: [datetime_ASC], filter: {
        datetime_geq: $from, datetime_leq: $to, `+tt.filter+`}`,
				"dimensions { datetime cfRayId }")
			rows := groupRows(t, postGraphQL(t, srv, gqlAllToken, query, window(srv)))
			var rays []string
			for _, row := range rows {
				rays = append(rays, strings.TrimLeft(row.Dimensions.CfRayID, "0"))
			}
			if got := strings.Join(rays, " "); got != tt.want {
				t.Errorf("events %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGraphQLEnforcesTheDatasetLimits(t *testing.T) {
	srv := startGraphQLWorld(t)
	now := srv.Clock().Now()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name, arguments, want string
	}{
		{"limit", `limit: 10001, filter: {datetime_geq: "` + at(-time.Hour) +
			`", datetime_leq: "` + at(0) + `"}`, "over the maximum of 10000"},
		{"no end", `limit: 10, filter: {datetime_geq: "` + at(-time.Hour) + `"}`,
			"bound the time range on both sides"},
		{"no filter", `limit: 10`, "bound the time range on both sides"},
		{"eight days", `limit: 10, filter: {datetime_geq: "` + at(-8*24*time.Hour) +
			`", datetime_leq: "` + at(0) + `"}`, "longer than the maximum of 7 days"},
		{"too old", `limit: 10, filter: {datetime_geq: "` + at(-100*24*time.Hour) +
			`", datetime_leq: "` + at(-99*24*time.Hour) + `"}`, "retention of 90 days"},
		{"empty", `limit: 10, filter: {datetime_geq: "` + at(0) + `", datetime_lt: "` +
			at(0) + `"}`, "the time range is empty"},
		{"order by a dimension not asked for", `limit: 10, orderBy: [country_ASC], filter: {
      datetime_geq: "` + at(-time.Hour) + `", datetime_leq: "` + at(0) + `"}`,
			"country is not among the requested dimensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query := literalQuery(tt.arguments, "count dimensions { datetime }")
			answer := postGraphQL(t, srv, gqlAllToken, query,
				map[string]any{"account": srv.AccountID()})
			if len(answer.Errors) != 1 || !strings.Contains(answer.Errors[0].Message, tt.want) {
				t.Fatalf("errors = %+v, want one saying %q", answer.Errors, tt.want)
			}
			if answer.errorCode() != codeBadRequest || answer.status != http.StatusOK {
				t.Errorf("status %d, code %q", answer.status, answer.errorCode())
			}
			if string(answer.Data) != "null" {
				t.Errorf("data = %s, want null", answer.Data)
			}
		})
	}
}

func TestGraphQLChecksTheAPIToken(t *testing.T) {
	srv := startGraphQLWorld(t)
	query := groupsQuery(`limit: 1, filter: {datetime_geq: $from, datetime_leq: $to}`,
		"count")
	tests := []struct {
		name, token, account, code, message string
	}{
		{"no token", "", srv.AccountID(), codeAuthn, "authentication error"},
		{"unknown token", "not-a-token", srv.AccountID(), codeAuthn, "authentication error"},
		{"no logs:read", gqlTokensToken, srv.AccountID(), codeAuthz,
			"not authorized for that account"},
		{"another account", gqlAllToken, strings.Repeat("0", 32), codeAuthz,
			"not authorized for that account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := window(srv)
			vars["account"] = tt.account
			answer := postGraphQL(t, srv, tt.token, query, vars)
			if answer.status != http.StatusOK || answer.errorCode() != tt.code ||
				!strings.HasPrefix(answer.Errors[0].Message, tt.message) {
				t.Fatalf("status %d, errors %+v; want code %q", answer.status, answer.Errors,
					tt.code)
			}
			if string(answer.Data) != "null" {
				t.Errorf("data = %s, want null", answer.Data)
			}
		})
	}
}

func TestGraphQLReportsQueryErrorsInTheErrorsArray(t *testing.T) {
	srv := startGraphQLWorld(t)
	tests := []struct {
		name, query, want string
	}{
		{"syntax", `{ viewer { accounts(filter: {accountTag: "x"}) {`, "syntax error"},
		{"unknown dimension", groupsQuery(`limit: 1, filter: {datetime_geq: $from,
      datetime_leq: $to}`, "dimensions { colour }"), `Cannot query field "colour"`},
		{"unknown filter", groupsQuery(`limit: 1, filter: {datetime_geq: $from,
      datetime_leq: $to, colour: "red"}`, "count"), `"colour"`},
		{"variable used as two types", `query($x: string!) { viewer { accounts(filter:
      {accountTag: $x}) { accessLoginRequestsAdaptiveGroups(limit: 1, filter:
      {datetime_geq: $x, datetime_leq: $x, cfRayId: $x}) { count } } } }`,
			`Variable "$x" of type "string!" used in position expecting type "Time"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := postGraphQL(t, srv, gqlAllToken, tt.query, window(srv))
			var messages []string
			for _, err := range answer.Errors {
				messages = append(messages, err.Message)
			}
			if answer.status != http.StatusOK ||
				!strings.Contains(strings.Join(messages, "\n"), tt.want) {
				t.Fatalf("status %d, errors %+v; want one saying %q", answer.status,
					answer.Errors, tt.want)
			}
		})
	}
}

func TestGraphQLAnswersIntrospection(t *testing.T) {
	srv := startGraphQLWorld(t)
	answer := postGraphQL(t, srv, gqlAllToken,
		`{ __type(name: "AccessLoginRequestsDimensions") { fields { name } } }`, nil)
	var data struct {
		Type struct {
			Fields []struct{ Name string } `json:"fields"`
		} `json:"__type"`
	}
	if err := json.Unmarshal(answer.Data, &data); err != nil || len(answer.Errors) > 0 {
		t.Fatalf("introspection: %v %+v", err, answer.Errors)
	}
	var names []string
	for _, field := range data.Type.Fields {
		names = append(names, field.Name)
	}
	for _, want := range []string{"datetime", "serviceTokenId", "isSuccessfulLogin",
		"identityProvider", "hasGatewayEnabled"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("dimension %s missing from %v", want, names)
		}
	}
}

// TestGraphQLPagesByTime reads a range in pages of 7 rows the way the documentation
// tells clients to: datetime_geq moves to the last row's second, whose rows are read
// again on the next page so that none is lost.
func TestGraphQLPagesByTime(t *testing.T) {
	srv := startGraphQLWorld(t)
	base := srv.Clock().Now().Add(-3 * time.Hour).Truncate(time.Second)
	var specs []eventSpec
	for i := range 40 {
		specs = append(specs, eventSpec{offset: time.Duration(i/3) * time.Second,
			token: fmt.Sprint("t", i%3), ip: "192.0.2.9", country: "US", allowed: true})
	}
	recordAt(srv, base, specs...)
	vars := window(srv)
	query := groupsQuery(`limit: 7, filter: {datetime_geq: $from, datetime_leq: $to},
    orderBy: [datetime_ASC]`, "count dimensions { datetime serviceTokenId }")
	total := 0
	for page := 0; ; page++ {
		rows := groupRows(t, postGraphQL(t, srv, gqlAllToken, query, vars))
		if len(rows) < 7 {
			for _, row := range rows {
				total += row.Count
			}
			break
		}
		last := rows[len(rows)-1].Dimensions.Datetime
		for _, row := range rows {
			if row.Dimensions.Datetime != last {
				total += row.Count
			}
		}
		vars["from"] = last
		if page > 40 {
			t.Fatal("paging does not end")
		}
	}
	if total != 40 {
		t.Errorf("paging counted %d events, want 40", total)
	}
}

// TestGraphQLOrderDoesNotDependOnTheLog checks that the answer is the same whether the log
// is in time order (and read only as far as needed) or not.
func TestGraphQLOrderDoesNotDependOnTheLog(t *testing.T) {
	ordered, shuffled := startGraphQLWorld(t), startGraphQLWorld(t)
	base := ordered.Clock().Now().Add(-time.Hour).Truncate(time.Second)
	var events []LoginEvent
	for i := range 500 {
		events = append(events, LoginEvent{Time: base.Add(time.Duration(i/4) * time.Second),
			TokenID: fmt.Sprint("t", i%5), IP: netip.MustParseAddr("192.0.2.1"),
			Allowed: i%7 != 0, RayID: fmt.Sprintf("%016x", i)})
	}
	ordered.RecordLoginEvents(events...)
	mixed := append([]LoginEvent(nil), events...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(mixed), func(i, j int) {
		mixed[i], mixed[j] = mixed[j], mixed[i]
	})
	shuffled.RecordLoginEvents(mixed...)

	for _, order := range []string{"datetime_ASC", "datetime_DESC"} {
		query := groupsQuery(`limit: 20, filter: {datetime_geq: $from, datetime_leq: $to,
      isSuccessfulLogin: 1}, orderBy: [`+order+`]`,
			"count dimensions { datetime serviceTokenId }")
		vars := window(ordered)
		vars["account"] = ordered.AccountID()
		want := groupRows(t, postGraphQL(t, ordered, gqlAllToken, query, vars))
		vars["account"] = shuffled.AccountID()
		got := groupRows(t, postGraphQL(t, shuffled, gqlAllToken, query, vars))
		if len(want) != 20 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: shuffled log gives\n%+v\nordered log gives\n%+v", order, got, want)
		}
	}
}

func TestGraphQLRateLimit(t *testing.T) {
	world := gqlWorld()
	world.RateLimit = &RateLimit{Requests: 1, Window: "1h"}
	srv, err := Start(Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	query := groupsQuery(`limit: 1, filter: {datetime_geq: $from, datetime_leq: $to}`,
		"count")
	postGraphQL(t, srv, gqlAllToken, query, window(srv))
	answer := postGraphQL(t, srv, gqlAllToken, query, window(srv))
	if answer.status != http.StatusTooManyRequests || answer.header.Get("Retry-After") == "" ||
		answer.errorCode() != codeRateLimit {
		t.Errorf("second request: status %d, Retry-After %q, errors %+v", answer.status,
			answer.header.Get("Retry-After"), answer.Errors)
	}
}
