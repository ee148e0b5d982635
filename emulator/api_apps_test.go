package emulator_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/shared"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"
	"github.com/tidwall/gjson"

	"github.com/cfst/cfst/emulator"
)

var audPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func anyValidTokenRule() zero_trust.AccessRuleUnionParam {
	empty := zero_trust.AnyValidServiceTokenRuleAnyValidServiceTokenParam{}
	return zero_trust.AnyValidServiceTokenRuleParam{AnyValidServiceToken: cloudflare.F(empty)}
}

func TestReusablePolicyAndApplicationSDK(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	access, ctx := cf.ZeroTrust.Access, context.Background()
	account := cloudflare.F(testAccount)

	policy, err := access.Policies.New(ctx, zero_trust.AccessPolicyNewParams{
		AccountID: account, Name: cloudflare.F("any token"),
		Decision: cloudflare.F(zero_trust.DecisionNonIdentity),
		Include:  cloudflare.F([]zero_trust.AccessRuleUnionParam{anyValidTokenRule()})})
	if err != nil {
		t.Fatalf("create reusable policy: %v", err)
	}
	if raw := policy.JSON.RawJSON(); !gjson.Get(raw, "reusable").Bool() ||
		gjson.Get(raw, "app_count").Int() != 0 {
		t.Errorf("new reusable policy = %s", raw)
	}

	links := []zero_trust.AccessApplicationNewParamsBodySelfHostedApplicationPolicyUnion{
		shared.UnionString(policy.ID)}
	app, err := access.Applications.New(ctx, zero_trust.AccessApplicationNewParams{
		AccountID: account,
		Body: zero_trust.AccessApplicationNewParamsBodySelfHostedApplication{
			Name: cloudflare.F("grafana"), Domain: cloudflare.F("grafana.example.com"),
			Type:     cloudflare.F(zero_trust.ApplicationTypeSelfHosted),
			Policies: cloudflare.F(links),
		}})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	raw := app.JSON.RawJSON()
	if !audPattern.MatchString(app.AUD) || gjson.Get(raw, "policies.0.id").String() != policy.ID ||
		gjson.Get(raw, "policies.0.precedence").Int() != 1 ||
		gjson.Get(raw, "destinations.0.uri").String() != "grafana.example.com" {
		t.Errorf("new application = %s", raw)
	}

	got, err := access.Policies.Get(ctx, policy.ID,
		zero_trust.AccessPolicyGetParams{AccountID: account})
	if err != nil || got.AppCount != 1 {
		t.Errorf("reusable policy after attaching: %v, %v; want app_count 1", got, err)
	}
	_, err = access.Policies.Delete(ctx, policy.ID, zero_trust.AccessPolicyDeleteParams{
		AccountID: account})
	wantStatus(t, err, 400, 12130)

	appPolicies := access.Applications.Policies.ListAutoPaging(ctx, app.ID,
		zero_trust.AccessApplicationPolicyListParams{AccountID: account})
	var listed []string
	for appPolicies.Next() {
		listed = append(listed, appPolicies.Current().ID)
	}
	if appPolicies.Err() != nil || len(listed) != 1 || listed[0] != policy.ID {
		t.Errorf("app policies = %v, %v; want the reusable one", listed, appPolicies.Err())
	}

	updated, err := access.Applications.Update(ctx, zero_trust.AppIDParam(app.ID),
		zero_trust.AccessApplicationUpdateParams{AccountID: account,
			Body: zero_trust.AccessApplicationUpdateParamsBodySelfHostedApplication{
				Name: cloudflare.F("grafana"), Domain: cloudflare.F("metrics.example.com/grafana"),
				Type: cloudflare.F(zero_trust.ApplicationTypeSelfHosted)}})
	if err != nil {
		t.Fatalf("update application: %v", err)
	}
	raw = updated.JSON.RawJSON()
	if gjson.Get(raw, "domain").String() != "metrics.example.com/grafana" ||
		gjson.Get(raw, "policies.#").Int() != 1 || updated.AUD != app.AUD {
		t.Errorf("updated application = %s", raw)
	}

	found := 0
	pager := access.Applications.ListAutoPaging(ctx, zero_trust.AccessApplicationListParams{
		AccountID: account, Domain: cloudflare.F("metrics.example.com/grafana")})
	for pager.Next() {
		found++
	}
	if pager.Err() != nil || found != 1 {
		t.Errorf("list by domain found %d (%v), want 1", found, pager.Err())
	}

	if _, err := access.Applications.Delete(ctx, zero_trust.AppIDParam(app.ID),
		zero_trust.AccessApplicationDeleteParams{AccountID: account}); err != nil {
		t.Fatalf("delete application: %v", err)
	}
	_, err = access.Applications.Get(ctx, zero_trust.AppIDParam(app.ID),
		zero_trust.AccessApplicationGetParams{AccountID: account})
	wantStatus(t, err, 404, 12135)
	if _, err := access.Policies.Delete(ctx, policy.ID, zero_trust.AccessPolicyDeleteParams{
		AccountID: account}); err != nil {
		t.Errorf("delete the policy once no application uses it: %v", err)
	}
}

func TestAppScopedPoliciesSDK(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	apps, ctx := cf.ZeroTrust.Access.Applications, context.Background()
	zone := cloudflare.F(testZone)

	app, err := apps.New(ctx, zero_trust.AccessApplicationNewParams{ZoneID: zone,
		Body: zero_trust.AccessApplicationNewParamsBodySelfHostedApplication{
			Domain: cloudflare.F("hooks.example.com"),
			Type:   cloudflare.F(zero_trust.ApplicationTypeSelfHosted)}})
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	// v6.10 models no rules for app-scoped policies, so they go in as extra JSON fields.
	rules := option.WithJSONSet("include",
		[]map[string]any{{"any_valid_service_token": map[string]any{}}})
	created, err := apps.Policies.New(ctx, app.ID, zero_trust.AccessApplicationPolicyNewParams{
		ZoneID: zone, Precedence: cloudflare.F(int64(5))}, option.WithJSONSet("name", "tokens"),
		option.WithJSONSet("decision", "non_identity"), rules)
	if err != nil {
		t.Fatalf("create app policy: %v", err)
	}
	if raw := created.JSON.RawJSON(); gjson.Get(raw, "precedence").Int() != 5 ||
		gjson.Get(raw, "reusable").Bool() {
		t.Errorf("new app policy = %s", raw)
	}

	updated, err := apps.Policies.Update(ctx, app.ID, created.ID,
		zero_trust.AccessApplicationPolicyUpdateParams{ZoneID: zone},
		option.WithJSONSet("name", "tokens, renamed"), option.WithJSONSet("decision", "bypass"),
		rules)
	if err != nil {
		t.Fatalf("update app policy: %v", err)
	}
	if updated.Name != "tokens, renamed" || updated.Precedence != 5 {
		t.Errorf("updated app policy = %s", updated.JSON.RawJSON())
	}
	got, err := apps.Policies.Get(ctx, app.ID, created.ID,
		zero_trust.AccessApplicationPolicyGetParams{ZoneID: zone})
	if err != nil || string(got.Decision) != "bypass" {
		t.Errorf("get app policy = %v, %v", got, err)
	}
	if _, err := apps.Policies.Delete(ctx, app.ID, created.ID,
		zero_trust.AccessApplicationPolicyDeleteParams{ZoneID: zone}); err != nil {
		t.Fatalf("delete app policy: %v", err)
	}
	_, err = apps.Policies.Get(ctx, app.ID, created.ID,
		zero_trust.AccessApplicationPolicyGetParams{ZoneID: zone})
	wantStatus(t, err, 404, 12135)
	_, err = apps.Get(ctx, zero_trust.AppIDParam(app.ID), zero_trust.AccessApplicationGetParams{
		AccountID: cloudflare.F(testAccount)})
	wantStatus(t, err, 404, 12135)
}

func TestGroupsSDK(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	cf := sdk(t, srv, adminToken, 0)
	access, ctx := cf.ZeroTrust.Access, context.Background()
	account := cloudflare.F(testAccount)

	token, err := access.ServiceTokens.New(ctx, zero_trust.AccessServiceTokenNewParams{
		AccountID: account, Name: cloudflare.F("backup")})
	if err != nil {
		t.Fatal(err)
	}
	tokenRule := zero_trust.ServiceTokenRuleParam{ServiceToken: cloudflare.F(
		zero_trust.ServiceTokenRuleServiceTokenParam{TokenID: cloudflare.F(token.ID)})}
	group, err := access.Groups.New(ctx, zero_trust.AccessGroupNewParams{AccountID: account,
		Name:    cloudflare.F("machines"),
		Include: cloudflare.F([]zero_trust.AccessRuleUnionParam{tokenRule})})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	if gjson.Get(group.JSON.RawJSON(), "include.0.service_token.token_id").String() != token.ID {
		t.Errorf("new group = %s", group.JSON.RawJSON())
	}
	groupRule := zero_trust.GroupRuleParam{Group: cloudflare.F(
		zero_trust.GroupRuleGroupParam{ID: cloudflare.F(group.ID)})}
	if _, err := access.Policies.New(ctx, zero_trust.AccessPolicyNewParams{AccountID: account,
		Name: cloudflare.F("machines"), Decision: cloudflare.F(zero_trust.DecisionNonIdentity),
		Include: cloudflare.F([]zero_trust.AccessRuleUnionParam{groupRule})}); err != nil {
		t.Fatalf("create a policy that uses the group: %v", err)
	}

	updated, err := access.Groups.Update(ctx, group.ID, zero_trust.AccessGroupUpdateParams{
		AccountID: account, Name: cloudflare.F("all machines"),
		Include: cloudflare.F([]zero_trust.AccessRuleUnionParam{anyValidTokenRule()})})
	if err != nil || updated.Name != "all machines" {
		t.Fatalf("update group = %v, %v", updated, err)
	}
	_, err = access.Groups.Update(ctx, group.ID, zero_trust.AccessGroupUpdateParams{
		AccountID: account, Name: cloudflare.F("loop"),
		Include: cloudflare.F([]zero_trust.AccessRuleUnionParam{groupRule})})
	wantStatus(t, err, 400, 12130)

	listed := 0
	pager := access.Groups.ListAutoPaging(ctx,
		zero_trust.AccessGroupListParams{AccountID: account})
	for pager.Next() {
		listed++
	}
	if pager.Err() != nil || listed != 1 {
		t.Errorf("groups listed: %d (%v), want 1", listed, pager.Err())
	}
	_, err = access.Groups.Delete(ctx, group.ID,
		zero_trust.AccessGroupDeleteParams{AccountID: account})
	wantStatus(t, err, 400, 12130) // a policy still uses it
	got, err := access.Groups.Get(ctx, group.ID, zero_trust.AccessGroupGetParams{
		AccountID: account})
	if err != nil || got.Name != "all machines" {
		t.Errorf("get group = %v, %v", got, err)
	}
	_, err = access.Groups.Get(ctx, group.ID, zero_trust.AccessGroupGetParams{
		ZoneID: cloudflare.F(testZone)})
	wantStatus(t, err, 404, 12135)
}

func TestReusablePolicyListAndUpdateSDK(t *testing.T) {
	srv := startWorld(t, emulator.DefaultWorld())
	cf := sdk(t, srv, srv.APIToken(), 0)
	policies, ctx := cf.ZeroTrust.Access.Policies, context.Background()
	account := cloudflare.F(srv.AccountID())
	var names []string
	counts := map[string]int64{}
	pager := policies.ListAutoPaging(ctx, zero_trust.AccessPolicyListParams{AccountID: account})
	for pager.Next() {
		names = append(names, pager.Current().Name)
		counts[pager.Current().Name] = pager.Current().AppCount
	}
	if pager.Err() != nil || len(names) != 2 || counts["service-tokens"] != 6 ||
		counts["household-login"] != 3 {
		t.Fatalf("default policies = %v %v (%v)", names, counts, pager.Err())
	}
	first, _ := policies.List(ctx, zero_trust.AccessPolicyListParams{AccountID: account})
	id := first.Result[0].ID
	updated, err := policies.Update(ctx, id, zero_trust.AccessPolicyUpdateParams{
		AccountID: account, Name: cloudflare.F("tokens, bypassing"),
		Decision: cloudflare.F(zero_trust.DecisionBypass),
		Include:  cloudflare.F([]zero_trust.AccessRuleUnionParam{anyValidTokenRule()})})
	if err != nil || updated.Name != "tokens, bypassing" || updated.Decision != "bypass" {
		t.Fatalf("update reusable policy = %v, %v", updated, err)
	}
	if hosts := srv.Hostnames(); len(hosts) != 7 {
		t.Errorf("hostnames = %v, want the 7 of the default world", hosts)
	}
}

func TestApplicationInlinePolicies(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	admin := "Bearer " + adminToken
	apps := "/accounts/" + testAccount + "/access/apps"
	rule := `"include":[{"any_valid_service_token":{}}]`
	status, app := apiCall(t, srv, "POST", apps, `{"type":"self_hosted","name":"api",`+
		`"domain":"api.example.com","policies":[`+
		`{"name":"tokens","decision":"non_identity",`+rule+`},`+
		`{"name":"people","decision":"allow","precedence":5,"include":[{"everyone":{}}]}]}`, admin)
	if status != 201 || app.Get("result.policies.#").Int() != 2 ||
		app.Get("result.policies.1.precedence").Int() != 5 ||
		app.Get("result.policies.0.reusable").Bool() {
		t.Fatalf("create with inline policies: %d %s", status, app.Raw)
	}
	appPath := apps + "/" + app.Get("result.id").String()
	keep := app.Get("result.policies.0.id").String()
	drop := app.Get("result.policies.1.id").String()

	status, listed := apiCall(t, srv, "GET", appPath+"/policies", "", admin)
	if status != 200 || listed.Get("result.#").Int() != 2 {
		t.Errorf("app policies: %d %s", status, listed.Raw)
	}
	status, updated := apiCall(t, srv, "PUT", appPath, `{"type":"self_hosted",`+
		`"domain":"api.example.com","policies":[{"id":"`+keep+`","name":"tokens, renamed",`+
		`"decision":"non_identity",`+rule+`}]}`, admin)
	if status != 200 || updated.Get("result.policies.#").Int() != 1 ||
		updated.Get("result.policies.0.name").String() != "tokens, renamed" {
		t.Errorf("update with one inline policy: %d %s", status, updated.Raw)
	}
	if status, _ := apiCall(t, srv, "GET", appPath+"/policies/"+drop, "", admin); status != 404 {
		t.Errorf("the dropped app policy is still there: %d", status)
	}
	status, kept := apiCall(t, srv, "PUT", appPath,
		`{"type":"self_hosted","domain":"api.example.com","name":"api v2"}`, admin)
	if status != 200 || kept.Get("result.policies.0.id").String() != keep {
		t.Errorf("a PUT without policies dropped them: %d %s", status, kept.Raw)
	}

	status, reusable := apiCall(t, srv, "POST", "/accounts/"+testAccount+"/access/policies",
		`{"name":"shared","decision":"non_identity",`+rule+`}`, admin)
	if status != 201 {
		t.Fatalf("create reusable: %d %s", status, reusable.Raw)
	}
	shared := reusable.Get("result.id").String()
	status, mixed := apiCall(t, srv, "PUT", appPath, `{"type":"self_hosted",`+
		`"domain":"api.example.com","policies":["`+shared+`",{"id":"`+keep+`"}]}`, admin)
	if status != 400 {
		t.Errorf("mixing reusable and app-scoped policies: %d %s", status, mixed.Raw)
	}
	status, linked := apiCall(t, srv, "PUT", appPath, `{"type":"self_hosted",`+
		`"domain":"api.example.com","policies":[{"id":"`+shared+`","precedence":3}]}`, admin)
	if status != 200 || linked.Get("result.policies.0.precedence").Int() != 3 ||
		!linked.Get("result.policies.0.reusable").Bool() {
		t.Errorf("link a reusable policy: %d %s", status, linked.Raw)
	}
	for _, method := range []string{"PUT", "DELETE"} {
		status, _ := apiCall(t, srv, method, appPath+"/policies/"+shared,
			`{"name":"x","decision":"allow",`+rule+`}`, admin)
		if status != 400 {
			t.Errorf("%s a reusable policy through the app: %d, want 400", method, status)
		}
	}
	status, _ = apiCall(t, srv, "POST", appPath+"/policies",
		`{"name":"own","decision":"allow",`+rule+`}`, admin)
	if status != 400 {
		t.Errorf("an app-scoped policy beside reusable ones: %d, want 400", status)
	}
}
