package cloudflare

// This file reads service-token logins from the GraphQL Analytics API
// (POST /client/v4/graphql), dataset accessLoginRequestsAdaptiveGroups: the only place
// Cloudflare reports non-identity logins. Each row counts the logins that share the
// requested dimensions.
//
// The dataset answers at most MaxLoginGroups rows and MaxLoginWindow of time per query,
// so EachLoginGroup pages: by windows of at most 7 days; within a window, by moving the
// start past the last second read when rows are ordered by time, or by halving the
// window when rows are not. Rows are handed over page by page and never kept, so memory
// stays flat however many logins there are.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PermAnalyticsRead is the API-token permission that reads Access login analytics.
const PermAnalyticsRead = "Account Analytics Read"

// The dimensions of accessLoginRequestsAdaptiveGroups that cfst asks for.
const (
	LoginDimTime    = "datetime"
	LoginDimToken   = "serviceTokenId"
	LoginDimApp     = "appId"
	LoginDimAddress = "ipAddress"
	LoginDimCountry = "country"
	LoginDimAllowed = "isSuccessfulLogin"
	LoginDimRay     = "cfRayId"
)

var loginDimensions = []string{LoginDimTime, LoginDimToken, LoginDimApp, LoginDimAddress,
	LoginDimCountry, LoginDimAllowed, LoginDimRay}

// The dataset's limits per query.
const (
	MaxLoginGroups = 10000
	MaxLoginWindow = 7 * 24 * time.Hour
)

// LoginQuery selects login groups.
type LoginQuery struct {
	// Since and Until bound the logins, [Since, Until), to the second.
	Since, Until time.Time
	// Dimensions are the Login* dimensions rows are grouped by.
	Dimensions []string
	// TokenIDs, if set, keeps the logins of these service tokens (ids, not client ids).
	TokenIDs []string
	// Allowed, if set, keeps admitted (true) or refused (false) logins.
	Allowed *bool
	// PageSize is the number of rows asked for per query; 0 means MaxLoginGroups.
	PageSize int
}

// LoginGroup is one row: Count logins that share the requested dimensions. Fields of
// dimensions not requested are zero.
type LoginGroup struct {
	Count     int64
	Time      time.Time
	TokenID   string
	AppID     string
	IPAddress string
	Country   string
	RayID     string
	Allowed   bool
}

// EachLoginGroup calls each for every row of q, in time order when q asks for
// LoginDimTime. Rows of different pages may share dimensions when q does not ask for the
// time: callers add their counts up.
func (c *Client) EachLoginGroup(ctx context.Context, q LoginQuery,
	each func(LoginGroup) error) error {
	if err := c.checkLoginQuery(q); err != nil {
		return err
	}
	since, until := toSeconds(q.Since, q.Until)
	byTime := slices.Contains(q.Dimensions, LoginDimTime)
	for start := since; start.Before(until); start = start.Add(MaxLoginWindow) {
		window := loginWindow{from: start, to: minTime(start.Add(MaxLoginWindow), until)}
		var err error
		if byTime {
			err = c.pageByTime(ctx, q, window, each)
		} else {
			err = c.pageBySplitting(ctx, q, window, each)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) checkLoginQuery(q LoginQuery) error {
	if err := c.needAccount("usage"); err != nil {
		return err
	}
	for _, dim := range q.Dimensions {
		if !slices.Contains(loginDimensions, dim) {
			return configError(fmt.Sprintf("unknown login dimension %q", dim), "")
		}
	}
	if len(q.Dimensions) == 0 {
		return configError("a login query needs at least one dimension", "")
	}
	return nil
}

// toSeconds widens [since, until) to whole seconds, the dataset's resolution.
func toSeconds(since, until time.Time) (time.Time, time.Time) {
	until = until.UTC()
	if truncated := until.Truncate(time.Second); !truncated.Equal(until) {
		until = truncated.Add(time.Second)
	}
	return since.UTC().Truncate(time.Second), until
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// loginWindow is [from, to) in whole seconds.
type loginWindow struct{ from, to time.Time }

func (q LoginQuery) pageSize() int {
	if q.PageSize > 0 && q.PageSize < MaxLoginGroups {
		return q.PageSize
	}
	return MaxLoginGroups
}

// pageByTime reads a window in time order: when a page is full, its last second may be
// cut off, so the next page starts at that second and the page ends before it.
func (c *Client) pageByTime(ctx context.Context, q LoginQuery, w loginWindow,
	each func(LoginGroup) error) error {
	for {
		rows, err := c.loginPage(ctx, q, w, "datetime_ASC")
		if err != nil {
			return err
		}
		if len(rows) < q.pageSize() {
			return emit(rows, each)
		}
		last := rows[len(rows)-1].Time
		if !last.After(w.from) {
			return &Error{Kind: KindInvalid, Op: "read login events", Message: fmt.Sprintf(
				"more than %d login groups in the second at %s", q.pageSize(),
				last.Format(time.RFC3339)), Hint: "ask for fewer dimensions"}
		}
		complete := slices.IndexFunc(rows, func(g LoginGroup) bool { return g.Time.Equal(last) })
		if err := emit(rows[:complete], each); err != nil {
			return err
		}
		w.from = last
	}
}

// pageBySplitting reads a window whose rows are not ordered by time: a full page may
// miss rows, so the window is halved until each half fits in a page.
func (c *Client) pageBySplitting(ctx context.Context, q LoginQuery, w loginWindow,
	each func(LoginGroup) error) error {
	rows, err := c.loginPage(ctx, q, w, "")
	if err != nil {
		return err
	}
	if len(rows) < q.pageSize() {
		return emit(rows, each)
	}
	span := w.to.Sub(w.from)
	if span <= time.Second {
		return &Error{Kind: KindInvalid, Op: "read login events", Message: fmt.Sprintf(
			"more than %d login groups in one second", q.pageSize()),
			Hint: "ask for fewer dimensions"}
	}
	middle := w.from.Add((span / 2).Truncate(time.Second))
	if err := c.pageBySplitting(ctx, q, loginWindow{w.from, middle}, each); err != nil {
		return err
	}
	return c.pageBySplitting(ctx, q, loginWindow{middle, w.to}, each)
}

func emit(rows []LoginGroup, each func(LoginGroup) error) error {
	for _, row := range rows {
		if err := each(row); err != nil {
			return err
		}
	}
	return nil
}

// loginPage sends one query for window w.
func (c *Client) loginPage(ctx context.Context, q LoginQuery, w loginWindow, order string,
) ([]LoginGroup, error) {
	vars := map[string]any{"account": c.accountID, "from": formatTime(w.from),
		"to": formatTime(w.to)}
	filter := []string{"datetime_geq: $from", "datetime_lt: $to"}
	decls := []string{"$account: string!", "$from: Time!", "$to: Time!"}
	if len(q.TokenIDs) > 0 {
		vars["tokens"] = q.TokenIDs
		filter, decls = append(filter, "serviceTokenId_in: $tokens"),
			append(decls, "$tokens: [string!]")
	}
	if q.Allowed != nil {
		vars["allowed"] = map[bool]int{false: 0, true: 1}[*q.Allowed]
		filter, decls = append(filter, "isSuccessfulLogin: $allowed"),
			append(decls, "$allowed: uint8")
	}
	orderBy := ""
	if order != "" {
		orderBy = ", orderBy: [" + order + "]"
	}
	query := fmt.Sprintf(`query cfstLogins(%s) { viewer { accounts(filter: {accountTag:
  $account}) { groups: accessLoginRequestsAdaptiveGroups(limit: %d, filter: {%s}%s) {
  count dimensions { %s } } } } }`, strings.Join(decls, ", "), q.pageSize(),
		strings.Join(filter, ", "), orderBy, strings.Join(q.Dimensions, " "))
	var data struct {
		Viewer struct {
			Accounts []struct {
				Groups []loginGroupWire `json:"groups"`
			} `json:"accounts"`
		} `json:"viewer"`
	}
	op := operation{name: "read login events", permission: PermAnalyticsRead}
	if err := c.graphql(ctx, op, query, vars, &data); err != nil {
		return nil, err
	}
	if len(data.Viewer.Accounts) != 1 {
		return nil, c.unreadable("login events")
	}
	groups := data.Viewer.Accounts[0].Groups
	rows := make([]LoginGroup, 0, len(groups))
	for _, wire := range groups {
		rows = append(rows, wire.group())
	}
	return rows, nil
}

// loginGroupWire is a row as the API sends it.
type loginGroupWire struct {
	Count      json.Number `json:"count"`
	Dimensions struct {
		Datetime          string `json:"datetime"`
		ServiceTokenID    string `json:"serviceTokenId"`
		AppID             string `json:"appId"`
		IPAddress         string `json:"ipAddress"`
		Country           string `json:"country"`
		CfRayID           string `json:"cfRayId"`
		IsSuccessfulLogin int    `json:"isSuccessfulLogin"`
	} `json:"dimensions"`
}

func (w loginGroupWire) group() LoginGroup {
	d := w.Dimensions
	count, _ := strconv.ParseInt(w.Count.String(), 10, 64)
	at, _ := time.Parse(time.RFC3339, d.Datetime)
	return LoginGroup{Count: count, Time: at, TokenID: d.ServiceTokenID, AppID: d.AppID,
		IPAddress: d.IPAddress, Country: d.Country, RayID: d.CfRayID,
		Allowed: d.IsSuccessfulLogin == 1}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// LoginKey names logins that LoginTimes looks for: those of a token, from one address
// when IPAddress is set.
type LoginKey struct {
	TokenID   string
	IPAddress string
}

// loginKeysPerQuery is how many keys one request asks about, each as an aliased field.
const loginKeysPerQuery = 25

// LoginTimes returns, for each key that has logins in [since, until), the time of its
// last login, or of its first when first is set. Keys without logins are absent.
func (c *Client) LoginTimes(ctx context.Context, since, until time.Time, keys []LoginKey,
	first bool) (map[LoginKey]time.Time, error) {
	if err := c.needAccount("usage"); err != nil {
		return nil, err
	}
	since, until = toSeconds(since, until)
	windows := []loginWindow{}
	for start := since; start.Before(until); start = start.Add(MaxLoginWindow) {
		windows = append(windows, loginWindow{start, minTime(start.Add(MaxLoginWindow), until)})
	}
	if !first {
		slices.Reverse(windows) // the last login is in the latest window that has one
	}
	found := map[LoginKey]time.Time{}
	for _, w := range windows {
		missing := slices.DeleteFunc(slices.Clone(keys), func(k LoginKey) bool {
			_, ok := found[k]
			return ok
		})
		for batch := range slices.Chunk(missing, loginKeysPerQuery) {
			if err := c.loginTimes(ctx, w, batch, first, found); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

func (c *Client) loginTimes(ctx context.Context, w loginWindow, keys []LoginKey, first bool,
	found map[LoginKey]time.Time) error {
	vars := map[string]any{"account": c.accountID, "from": formatTime(w.from),
		"to": formatTime(w.to)}
	decls := []string{"$account: string!", "$from: Time!", "$to: Time!"}
	order := "datetime_DESC"
	if first {
		order = "datetime_ASC"
	}
	var fields strings.Builder
	for i, key := range keys {
		filter := fmt.Sprintf("datetime_geq: $from, datetime_lt: $to, serviceTokenId: $t%d", i)
		vars[fmt.Sprint("t", i)] = key.TokenID
		decls = append(decls, fmt.Sprintf("$t%d: string!", i))
		if key.IPAddress != "" {
			filter += fmt.Sprintf(", ipAddress: $a%d", i)
			vars[fmt.Sprint("a", i)] = key.IPAddress
			decls = append(decls, fmt.Sprintf("$a%d: string!", i))
		}
		fmt.Fprintf(&fields, "k%d: accessLoginRequestsAdaptiveGroups(limit: 1, orderBy: [%s], "+
			"filter: {%s}) { dimensions { datetime } }\n", i, order, filter)
	}
	query := fmt.Sprintf("query cfstLoginTimes(%s) { viewer { accounts(filter: {accountTag: "+
		"$account}) {\n%s} } }", strings.Join(decls, ", "), fields.String())
	var data struct {
		Viewer struct {
			Accounts []map[string][]loginGroupWire `json:"accounts"`
		} `json:"viewer"`
	}
	op := operation{name: "read login events", permission: PermAnalyticsRead}
	if err := c.graphql(ctx, op, query, vars, &data); err != nil {
		return err
	}
	if len(data.Viewer.Accounts) != 1 {
		return c.unreadable("login events")
	}
	for i, key := range keys {
		if rows := data.Viewer.Accounts[0][fmt.Sprint("k", i)]; len(rows) > 0 {
			found[key] = rows[0].group().Time
		}
	}
	return nil
}

// graphqlError is one entry of a GraphQL answer's errors.
type graphqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// graphql sends one query within the client's time budget and decodes its data into v.
// Errors in the answer's errors array become an *Error: "authn" an auth error, "authz"
// (Cloudflare's "not authorized for that account") a missing permission, any other a
// refused request.
func (c *Client) graphql(ctx context.Context, op operation, query string, vars map[string]any,
	v any) error {
	return c.run(ctx, op, func(ctx context.Context) error {
		var answer struct {
			Data   json.RawMessage `json:"data"`
			Errors []graphqlError  `json:"errors"`
		}
		body := map[string]any{"query": query, "variables": vars}
		if err := c.sdk.Execute(ctx, http.MethodPost, "graphql", body, &answer); err != nil {
			return err
		}
		if len(answer.Errors) > 0 {
			return c.graphqlFailure(op, answer.Errors[0])
		}
		return c.decodeResult(answer.Data, v)
	})
}

func (c *Client) graphqlFailure(op operation, first graphqlError) *Error {
	e := &Error{Status: http.StatusOK, Op: op.name}
	switch first.Extensions.Code {
	case "authn":
		e.Kind, e.Message, e.Hint = KindAuth, "the API token was rejected", hintAPIToken
	case "authz":
		c.describePermission(e, op)
	default:
		e.Kind = KindInvalid
		e.Message = "the analytics API refused the query: " +
			cleanDetail(c.scrubber.Scrub(first.Message), 0)
	}
	return e
}
