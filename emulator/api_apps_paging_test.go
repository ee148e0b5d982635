package emulator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/packages/pagination"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"

	"github.com/cfst/cfst/emulator"
)

// pagedIDs walks an auto-pager to its end and returns the ids it saw.
func pagedIDs[T any](t *testing.T, pager *pagination.V4PagePaginationArrayAutoPager[T],
	id func(T) string) []string {
	t.Helper()
	var ids []string
	for pager.Next() {
		ids = append(ids, id(pager.Current()))
	}
	if err := pager.Err(); err != nil {
		t.Fatalf("list: %v", err)
	}
	return ids
}

// seedAccessObjects makes n applications, reusable policies and groups in the test
// account, and n app-scoped policies on one more application, whose id it returns.
func seedAccessObjects(t *testing.T, srv *emulator.Server, n int) string {
	t.Helper()
	admin := "Bearer " + adminToken
	base := "/accounts/" + testAccount + "/access"
	rule := `"include":[{"any_valid_service_token":{}}]`
	create := func(path, body string) string {
		t.Helper()
		status, made := apiCall(t, srv, "POST", base+path, body, admin)
		if status != 201 {
			t.Fatalf("POST %s: %d %s", path, status, made.Raw)
		}
		return made.Get("result.id").String()
	}
	owner := create("/apps", `{"type":"self_hosted","domain":"owner.example.com"}`)
	for i := range n {
		create("/apps", fmt.Sprintf(`{"type":"self_hosted","domain":"app-%d.example.com"}`, i))
		create("/policies", fmt.Sprintf(`{"name":"p-%d","decision":"non_identity",%s}`, i, rule))
		create("/groups", fmt.Sprintf(`{"name":"g-%d",%s}`, i, rule))
		create("/apps/"+owner+"/policies", fmt.Sprintf(
			`{"name":"ap-%d","decision":"non_identity","precedence":%d,%s}`, i, i+1, rule))
	}
	return owner
}

// TestAccessObjectsPagingSDK pages through applications, app-scoped policies, reusable
// policies and groups with the SDK's auto-pager, which stops on an empty page.
func TestAccessObjectsPagingSDK(t *testing.T) {
	const n, perPage = 23, 5 // five pages, the last one short, then an empty one
	srv := startWorld(t, parseWorld(t, testWorld))
	owner := seedAccessObjects(t, srv, n)
	access, ctx := sdk(t, srv, adminToken, 0).ZeroTrust.Access, context.Background()
	account, per := cloudflare.F(testAccount), cloudflare.F(int64(perPage))

	lists := []struct {
		what string
		want int
		list func() []string
	}{
		{"applications", n + 1, func() []string {
			return pagedIDs(t, access.Applications.ListAutoPaging(ctx,
				zero_trust.AccessApplicationListParams{AccountID: account, PerPage: per}),
				func(a zero_trust.AccessApplicationListResponse) string { return a.ID })
		}},
		{"app-scoped policies", n, func() []string {
			return pagedIDs(t, access.Applications.Policies.ListAutoPaging(ctx, owner,
				zero_trust.AccessApplicationPolicyListParams{AccountID: account, PerPage: per}),
				func(p zero_trust.AccessApplicationPolicyListResponse) string { return p.ID })
		}},
		{"reusable policies", n, func() []string {
			return pagedIDs(t, access.Policies.ListAutoPaging(ctx,
				zero_trust.AccessPolicyListParams{AccountID: account, PerPage: per}),
				func(p zero_trust.AccessPolicyListResponse) string { return p.ID })
		}},
		{"groups", n, func() []string {
			return pagedIDs(t, access.Groups.ListAutoPaging(ctx,
				zero_trust.AccessGroupListParams{AccountID: account, PerPage: per}),
				func(g zero_trust.AccessGroupListResponse) string { return g.ID })
		}},
	}
	for _, tc := range lists {
		before := srv.APIRequestCount()
		ids := tc.list()
		distinct := map[string]bool{}
		for _, id := range ids {
			distinct[id] = true
		}
		if len(ids) != tc.want || len(distinct) != tc.want {
			t.Errorf("%s: paged through %d (%d distinct), want %d", tc.what, len(ids),
				len(distinct), tc.want)
		}
		pages := int64((tc.want + perPage - 1) / perPage)
		if requests := srv.APIRequestCount() - before; requests != pages+1 {
			t.Errorf("%s: paging took %d requests, want %d (%d pages and an empty one)",
				tc.what, requests, pages+1, pages)
		}
	}
}

// TestAccessObjectsAuthErrorsSDK checks that applications, app-scoped policies, reusable
// policies and groups answer 403 code 10000 to a token without the permission, and 401
// code 10000 to an unknown token.
func TestAccessObjectsAuthErrorsSDK(t *testing.T) {
	srv := startWorld(t, parseWorld(t, testWorld))
	owner := seedAccessObjects(t, srv, 1)
	ctx, account := context.Background(), cloudflare.F(testAccount)
	include := cloudflare.F([]zero_trust.AccessRuleUnionParam{anyValidTokenRule()})
	appBody := zero_trust.AccessApplicationNewParamsBodySelfHostedApplication{
		Domain: cloudflare.F("new.example.com"),
		Type:   cloudflare.F(zero_trust.ApplicationTypeSelfHosted)}

	calls := map[string]func(access *zero_trust.AccessService) error{
		"create an application": func(access *zero_trust.AccessService) error {
			_, err := access.Applications.New(ctx, zero_trust.AccessApplicationNewParams{
				AccountID: account, Body: appBody})
			return err
		},
		"list applications": func(access *zero_trust.AccessService) error {
			_, err := access.Applications.List(ctx,
				zero_trust.AccessApplicationListParams{AccountID: account})
			return err
		},
		"create an app-scoped policy": func(access *zero_trust.AccessService) error {
			_, err := access.Applications.Policies.New(ctx, owner,
				zero_trust.AccessApplicationPolicyNewParams{AccountID: account},
				option.WithJSONSet("name", "p"), option.WithJSONSet("decision", "bypass"),
				option.WithJSONSet("include", []map[string]any{{"everyone": map[string]any{}}}))
			return err
		},
		"list app-scoped policies": func(access *zero_trust.AccessService) error {
			_, err := access.Applications.Policies.List(ctx, owner,
				zero_trust.AccessApplicationPolicyListParams{AccountID: account})
			return err
		},
		"create a reusable policy": func(access *zero_trust.AccessService) error {
			_, err := access.Policies.New(ctx, zero_trust.AccessPolicyNewParams{
				AccountID: account, Name: cloudflare.F("p"), Include: include,
				Decision: cloudflare.F(zero_trust.DecisionNonIdentity)})
			return err
		},
		"list reusable policies": func(access *zero_trust.AccessService) error {
			_, err := access.Policies.List(ctx,
				zero_trust.AccessPolicyListParams{AccountID: account})
			return err
		},
		"create a group": func(access *zero_trust.AccessService) error {
			_, err := access.Groups.New(ctx, zero_trust.AccessGroupNewParams{
				AccountID: account, Name: cloudflare.F("g"), Include: include})
			return err
		},
		"list groups": func(access *zero_trust.AccessService) error {
			_, err := access.Groups.List(ctx,
				zero_trust.AccessGroupListParams{AccountID: account})
			return err
		},
	}
	writes := map[string]bool{"create an application": true,
		"create an app-scoped policy": true, "create a reusable policy": true,
		"create a group": true}

	for what, call := range calls {
		t.Run(what, func(t *testing.T) {
			reader := sdk(t, srv, readerToken, 0).ZeroTrust.Access
			if err := call(reader); writes[what] {
				wantStatus(t, err, 403, 10000)
			} else if err != nil {
				t.Errorf("the read-only token was refused: %v", err)
			}
			wantStatus(t, call(sdk(t, srv, logsToken, 0).ZeroTrust.Access), 403, 10000)
			wantStatus(t, call(sdk(t, srv, "no-such-token", 0).ZeroTrust.Access), 401, 10000)
		})
	}
}
