package emulator

// The GraphQL Analytics API at POST /client/v4/graphql, serving Cloudflare's
// accessLoginRequestsAdaptiveGroups dataset from the login events the edge records (see
// events.go). It runs on github.com/graph-gophers/graphql-go: queries are parsed,
// validated against the schema in graphql_schema.go (introspection included) and
// executed, as a GraphQL server does.
//
// Shape of the answers, as Cloudflare sends them: HTTP 200 with {"data": ..., "errors":
// null} on success, and errors in the standard "errors" array, each with a message, a path
// when a field failed, and extensions.code. Where Cloudflare documents nothing the
// emulator chooses, as follows.
//
//   - Authentication. The same API tokens as the REST API. A missing or unknown token
//     gives HTTP 200 with one error, extensions.code "authn"; a token without the
//     logs:read permission, or an accountTag other than the emulator's account, gives the
//     error Cloudflare is seen to send, "not authorized for that account" with code
//     "authz", at the path of accounts. The rate limit and injected faults answer as
//     on the REST API (429 with Retry-After, or the fault's status).
//   - Grouping. Each row counts the events that share the requested dimensions, as
//     adaptive groups do; datetime is to the second. The emulator does not sample.
//   - Limits. limit may not exceed 10,000, a query must bound datetime (or date) on both
//     sides, span at most 7 days, and start at most 90 days ago: clients page through
//     longer ranges by time. These are the limits Cloudflare reports for the dataset.
//   - Variable types. Cloudflare accepts a variable declared string (or String) where a
//     Time is expected, as its own tutorial does ($datetimeStart: string), and Int where
//     uint64 is; graphql-go, like the GraphQL specification, refuses. The emulator
//     accepts them too, by giving such a variable the expected type and validating again.
//     No other rule is relaxed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// needLogsRead is the permission the Analytics API asks for.
var needLogsRead = []string{PermLogsRead}

// Error codes in extensions.code.
const (
	codeAuthn      = "authn"
	codeAuthz      = "authz"
	codeBadRequest = "bad_request"
	codeRateLimit  = "rate_limited"
)

// analyticsSchema is parsed once; resolvers find their server in the context.
var analyticsSchema = sync.OnceValue(func() *graphql.Schema {
	return graphql.MustParseSchema(graphqlSchema(), &gqlRoot{},
		graphql.UseFieldResolvers(), graphql.MaxDepth(12), graphql.MaxQueryLength(64<<10))
})

// graphqlRoutes registers the Analytics API.
func (s *Server) graphqlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /graphql", s.serveGraphQL)
}

// graphqlRequest is the body of a GraphQL request.
type graphqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// graphqlResponse is the body of every answer. Errors is null, not [], on success.
type graphqlResponse struct {
	Data   json.RawMessage         `json:"data"`
	Errors []*gqlerrors.QueryError `json:"errors"`
}

// callInfo is what resolvers learn about the request.
type callInfo struct {
	server    *Server
	permitted bool
	now       time.Time
}

type callInfoKey struct{}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	info := callInfo{server: s, permitted: true, now: s.clock.Now()}
	if _, err := s.admit(r, "", needLogsRead); err != nil {
		apiErr := asAPIError(err)
		switch apiErr.status {
		case http.StatusForbidden:
			info.permitted = false
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(apiErr.retryAfter))
			writeGraphQLError(w, http.StatusTooManyRequests, codeRateLimit, apiErr.Message)
			return
		default:
			writeGraphQLError(w, http.StatusOK, codeAuthn, "authentication error: "+
				strings.ToLower(apiErr.Message))
			return
		}
	}
	var req graphqlRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
		writeGraphQLError(w, http.StatusBadRequest, codeBadRequest,
			"the body must be JSON with a query: {\"query\": \"...\", \"variables\": {...}}")
		return
	}
	ctx := context.WithValue(r.Context(), callInfoKey{}, info)
	resp := execLenient(ctx, req)
	writeJSON(w, http.StatusOK, graphqlResponse{Data: resp.Data, Errors: resp.Errors})
}

func writeGraphQLError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, graphqlResponse{Data: json.RawMessage("null"),
		Errors: []*gqlerrors.QueryError{{Message: message,
			Extensions: map[string]any{"code": code}}}})
}

// execLenient executes the request, first giving variables Cloudflare would coerce the
// type they are used as (see the comment at the top of this file).
func execLenient(ctx context.Context, req graphqlRequest) *graphql.Response {
	query := req.Query
	for range 3 {
		resp := analyticsSchema().Exec(ctx, query, req.OperationName, req.Variables)
		retyped, ok := retypeVariables(query, resp.Errors)
		if !ok {
			return resp
		}
		query = retyped
	}
	return analyticsSchema().Exec(ctx, query, req.OperationName, req.Variables)
}

var misplacedVariable = regexp.MustCompile(
	`^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" of type "([^"]+)" used in position expecting type "([^"]+)"\.$`)

// coercible maps a declared type to the types Cloudflare accepts it as.
var coercible = map[string][]string{
	"String": {"string", "Time", "Date"}, "string": {"Time", "Date"},
	"Int": {"uint8", "uint64"}, "uint8": {"uint64"},
}

// retypeVariables rewrites the declaration of every variable that only a coercion keeps
// from validating. It reports false when errs hold any other problem, or none.
func retypeVariables(query string, errs []*gqlerrors.QueryError) (string, bool) {
	if len(errs) == 0 {
		return "", false
	}
	types := map[string]string{}
	var locations []gqlerrors.Location
	for _, err := range errs {
		m := misplacedVariable.FindStringSubmatch(err.Message)
		if err.Rule != "VariablesInAllowedPositionRule" || m == nil || len(err.Locations) == 0 {
			return "", false
		}
		declared, expected := strings.TrimSuffix(m[2], "!"), strings.TrimSuffix(m[3], "!")
		if !slices.Contains(coercible[declared], expected) {
			return "", false
		}
		if previous, seen := types[m[1]]; seen && previous != expected {
			return "", false // used as two different types
		} else if !seen {
			locations = append(locations, err.Locations[0])
		}
		types[m[1]] = expected
	}
	for i := len(locations) - 1; i >= 0; i-- {
		var ok bool
		if query, ok = retypeAt(query, locations[i], types); !ok {
			return "", false
		}
	}
	return query, true
}

var variableDeclaration = regexp.MustCompile(
	`^\$([_A-Za-z][_0-9A-Za-z]*)\s*:\s*([_A-Za-z][_0-9A-Za-z]*)`)

// retypeAt rewrites the variable declaration at loc ("$name: Type") to the type types
// names for it, keeping a non-null marker.
func retypeAt(query string, loc gqlerrors.Location, types map[string]string) (string, bool) {
	start, ok := offsetOf(query, loc)
	if !ok {
		return "", false
	}
	m := variableDeclaration.FindStringSubmatchIndex(query[start:])
	if m == nil {
		return "", false
	}
	name := query[start+m[2] : start+m[3]]
	expected, ok := types[name]
	if !ok {
		return "", false
	}
	return query[:start+m[4]] + expected + query[start+m[5]:], true
}

// offsetOf converts a 1-based line and column (in characters) to a byte offset.
func offsetOf(text string, loc gqlerrors.Location) (int, bool) {
	line, column := 1, 1
	for offset, r := range text {
		if line == loc.Line && column == loc.Column {
			return offset, true
		}
		column++
		if r == '\n' {
			line, column = line+1, 1
		}
	}
	return 0, false
}

// gqlError is a resolver error with extensions.code.
type gqlError struct {
	message, code string
}

func (e *gqlError) Error() string { return e.message }

// Extensions gives the error its code, which graphql-go copies into the answer.
func (e *gqlError) Extensions() map[string]any { return map[string]any{"code": e.code} }

func errNotAuthorized() error {
	return &gqlError{message: "not authorized for that account", code: codeAuthz}
}

func errBadQuery(format string, args ...any) error {
	return &gqlError{message: fmt.Sprintf(format, args...), code: codeBadRequest}
}

// gqlRoot is the Query type.
type gqlRoot struct{}

// Viewer resolves viewer.
func (*gqlRoot) Viewer(ctx context.Context) *gqlViewer {
	info, _ := ctx.Value(callInfoKey{}).(callInfo)
	return &gqlViewer{info: info}
}

// gqlViewer is the Viewer type.
type gqlViewer struct{ info callInfo }

type accountsArgs struct {
	Filter struct{ AccountTag *gqlString }
}

// Accounts resolves accounts(filter: {accountTag}): the emulator's one account.
func (v *gqlViewer) Accounts(args accountsArgs) ([]*gqlAccount, error) {
	tag := args.Filter.AccountTag
	if !v.info.permitted || v.info.server == nil || tag == nil ||
		string(*tag) != v.info.server.AccountID() {
		return nil, errNotAuthorized()
	}
	return []*gqlAccount{{info: v.info}}, nil
}

// gqlAccount is the Account type.
type gqlAccount struct{ info callInfo }

type groupsArgs struct {
	Limit   gqlUint64
	Filter  loginFilter
	OrderBy *[]string
}

// AccessLoginRequestsAdaptiveGroups resolves the dataset.
func (a *gqlAccount) AccessLoginRequestsAdaptiveGroups(ctx context.Context, args groupsArgs,
) ([]*gqlGroup, error) {
	dims := selectedDimensions(graphql.SelectedFieldNames(ctx))
	var orderBy []string
	if args.OrderBy != nil {
		orderBy = *args.OrderBy
	}
	order, err := parseOrder(orderBy, dims)
	if err != nil {
		return nil, errBadQuery("%s", err)
	}
	if args.Limit > maxGroupsLimit {
		return nil, errBadQuery("limit %d is over the maximum of %d: page through the "+
			"time range instead", args.Limit, maxGroupsLimit)
	}
	timeRange, err := checkTimeRange(args.Filter.timeRange(), a.info.now)
	if err != nil {
		return nil, err
	}
	table, predicate := a.info.server.events.queryTable(&args.Filter)
	groups := table.groups(groupQuery{limit: int(args.Limit), dims: dims, order: order,
		timeRange: timeRange, predicate: predicate})
	return table.output(groups, dims), nil
}

// checkTimeRange enforces the dataset's limits on the time range of a query.
func checkTimeRange(r timeRange, now time.Time) (timeRange, error) {
	switch {
	case !r.hasFrom || !r.hasTo:
		return r, errBadQuery("the filter must bound the time range on both sides, " +
			"such as datetime_geq and datetime_leq")
	case r.to < r.from:
		return r, errBadQuery("the time range is empty: %s is after %s", r.fromText, r.toText)
	case time.Duration(r.to-r.from)*time.Second > maxQueryDuration:
		return r, errBadQuery("the time range from %s to %s is longer than the maximum "+
			"of 7 days: page through it", r.fromText, r.toText)
	case r.from < now.Add(-maxQueryAge).Unix():
		return r, errBadQuery("the time range starts at %s, before the dataset's "+
			"retention of 90 days", r.fromText)
	}
	return r, nil
}
