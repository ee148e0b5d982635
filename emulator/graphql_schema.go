package emulator

// The GraphQL schema of the emulator's Analytics API: the part of Cloudflare's schema that
// serves accessLoginRequestsAdaptiveGroups. Type names follow Cloudflare's: its scalars are
// lowercase (string, uint8, uint64) beside Time and Date, and counts are uint64.
//
// The filter input is built from one table (loginDimensions), so every dimension can be
// filtered on with the same operators: the bare name for equality, _neq, _in and _notin for
// text, and _gt, _geq, _lt, _leq for datetime and date. AND and OR take lists of filters.

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Limits of accessLoginRequestsAdaptiveGroups. Cloudflare caps adaptive datasets at 10,000
// rows per query and this dataset at 7 days per query (its settings node reports
// maxDuration 7d, notOlderThan 90d), so a client reads a long range in pages: by time
// window, and within a window by moving datetime_geq past the last row it got.
const (
	maxGroupsLimit   = 10000
	maxQueryDuration = 7 * 24 * time.Hour
	maxQueryAge      = 90 * 24 * time.Hour
)

// identityProviderNonIdentity is the identityProvider of every service-token login.
const identityProviderNonIdentity = "nonidentity"

// dimKind is the GraphQL type of a dimension, which decides its filter operators.
type dimKind int

const (
	dimText dimKind = iota // string
	dimFlag                // uint8, 0 or 1
	dimTime                // Time, to the second
	dimDate                // Date
)

// loginDimension is one dimension of accessLoginRequestsAdaptiveGroups.
type loginDimension struct {
	name string
	kind dimKind
}

// loginDimensions are the dimensions the emulator serves, in Cloudflare's names. Those the
// emulator has no data for (userUuid, deviceId, the mTLS fields, WARP and Gateway) are
// the values a service-token login has: empty strings and 0.
var loginDimensions = []loginDimension{
	{"datetime", dimTime}, {"date", dimDate},
	{"isSuccessfulLogin", dimFlag}, {"hasExistingJWT", dimFlag},
	{"hasWarpEnabled", dimFlag}, {"hasGatewayEnabled", dimFlag},
	{"serviceTokenId", dimText}, {"appId", dimText}, {"approvingPolicyId", dimText},
	{"cfRayId", dimText}, {"ipAddress", dimText}, {"country", dimText},
	{"identityProvider", dimText}, {"userUuid", dimText}, {"deviceId", dimText},
	{"mtlsStatus", dimText}, {"mtlsCertSerialId", dimText}, {"mtlsCommonName", dimText},
}

// filterOperators lists the operator suffixes of each kind; "" is equality.
var filterOperators = map[dimKind][]string{
	dimText: {"", "_neq", "_in", "_notin"},
	dimFlag: {"", "_neq"},
	dimTime: {"", "_neq", "_gt", "_geq", "_lt", "_leq"},
	dimDate: {"", "_neq", "_gt", "_geq", "_lt", "_leq"},
}

var scalarOf = map[dimKind]string{dimText: "string", dimFlag: "uint8", dimTime: "Time",
	dimDate: "Date"}

// graphqlSchema returns the schema in GraphQL SDL.
func graphqlSchema() string {
	var sdl strings.Builder
	sdl.WriteString(`schema { query: Query }

"A text value. Cloudflare's schema names its string scalar in lowercase."
scalar string
"An unsigned 8-bit integer; flags are 0 or 1."
scalar uint8
"An unsigned 64-bit integer."
scalar uint64
"An instant, RFC 3339, to the second."
scalar Time
"A calendar day, YYYY-MM-DD, UTC."
scalar Date

type Query { viewer: Viewer! }

type Viewer { accounts(filter: AccountFilter!): [Account!]! }

input AccountFilter { accountTag: string }

type Account {
  "Service-token and other non-identity Access logins, grouped by the dimensions asked for."
  accessLoginRequestsAdaptiveGroups(limit: uint64!, filter: AccessLoginRequestsFilter,
    orderBy: [AccessLoginRequestsOrderBy!]): [AccessLoginRequestsGroup!]!
}

type AccessLoginRequestsGroup {
  "The number of login events in the group."
  count: uint64!
  dimensions: AccessLoginRequestsDimensions!
}
`)
	sdl.WriteString("\ntype AccessLoginRequestsDimensions {\n")
	for _, dim := range loginDimensions {
		fmt.Fprintf(&sdl, "  %s: %s!\n", dim.name, scalarOf[dim.kind])
	}
	sdl.WriteString("}\n\ninput AccessLoginRequestsFilter {\n")
	sdl.WriteString("  AND: [AccessLoginRequestsFilter!]\n  OR: [AccessLoginRequestsFilter!]\n")
	for _, dim := range loginDimensions {
		for _, op := range filterOperators[dim.kind] {
			typ := scalarOf[dim.kind]
			if op == "_in" || op == "_notin" {
				typ = "[" + typ + "!]"
			}
			fmt.Fprintf(&sdl, "  %s%s: %s\n", dim.name, op, typ)
		}
	}
	sdl.WriteString("}\n\nenum AccessLoginRequestsOrderBy {\n  count_ASC\n  count_DESC\n")
	for _, dim := range loginDimensions {
		fmt.Fprintf(&sdl, "  %s_ASC\n  %s_DESC\n", dim.name, dim.name)
	}
	sdl.WriteString("}\n")
	return sdl.String()
}

// gqlString is the string scalar.
type gqlString string

// ImplementsGraphQLType maps gqlString to the string scalar.
func (gqlString) ImplementsGraphQLType(name string) bool { return name == "string" }

// UnmarshalGraphQL reads a string input.
func (s *gqlString) UnmarshalGraphQL(input any) error {
	text, ok := input.(string)
	if !ok {
		return fmt.Errorf("want a string, got %v", input)
	}
	*s = gqlString(text)
	return nil
}

// gqlUint8 is the uint8 scalar.
type gqlUint8 uint8

// ImplementsGraphQLType maps gqlUint8 to the uint8 scalar.
func (gqlUint8) ImplementsGraphQLType(name string) bool { return name == "uint8" }

// UnmarshalGraphQL reads a number from 0 to 255.
func (u *gqlUint8) UnmarshalGraphQL(input any) error {
	n, err := wholeNumber(input, math.MaxUint8)
	*u = gqlUint8(n)
	return err
}

// gqlUint64 is the uint64 scalar.
type gqlUint64 uint64

// ImplementsGraphQLType maps gqlUint64 to the uint64 scalar.
func (gqlUint64) ImplementsGraphQLType(name string) bool { return name == "uint64" }

// UnmarshalGraphQL reads a non-negative whole number.
func (u *gqlUint64) UnmarshalGraphQL(input any) error {
	n, err := wholeNumber(input, math.MaxInt64)
	*u = gqlUint64(n)
	return err
}

// wholeNumber reads a GraphQL number input (int32 from a literal, float64 or a string
// from JSON variables) as an integer from 0 to most.
func wholeNumber(input any, most uint64) (uint64, error) {
	var n float64
	switch v := input.(type) {
	case int32:
		n = float64(v)
	case int64:
		n = float64(v)
	case float64:
		n = v
	case string:
		if _, err := fmt.Sscan(v, &n); err != nil {
			return 0, fmt.Errorf("want a whole number, got %q", v)
		}
	default:
		return 0, fmt.Errorf("want a whole number, got %v", input)
	}
	if n < 0 || n != math.Trunc(n) || n > float64(most) {
		return 0, fmt.Errorf("want a whole number from 0 to %d, got %v", most, input)
	}
	return uint64(n), nil
}

// gqlTime is the Time scalar: RFC 3339 in, RFC 3339 in UTC to the second out.
type gqlTime struct{ time.Time }

// ImplementsGraphQLType maps gqlTime to the Time scalar.
func (gqlTime) ImplementsGraphQLType(name string) bool { return name == "Time" }

// UnmarshalGraphQL reads an RFC 3339 time.
func (t *gqlTime) UnmarshalGraphQL(input any) error {
	text, ok := input.(string)
	if !ok {
		return fmt.Errorf("want an RFC 3339 time, got %v", input)
	}
	parsed, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2026-12-03T10:00:00Z, got %q", text)
	}
	t.Time = parsed
	return nil
}

// MarshalJSON writes the time in UTC to the second, as Cloudflare does.
func (t gqlTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Truncate(time.Second).Format(time.RFC3339))
}

// gqlDate is the Date scalar.
type gqlDate struct{ time.Time }

// ImplementsGraphQLType maps gqlDate to the Date scalar.
func (gqlDate) ImplementsGraphQLType(name string) bool { return name == "Date" }

// UnmarshalGraphQL reads a YYYY-MM-DD date.
func (d *gqlDate) UnmarshalGraphQL(input any) error {
	text, ok := input.(string)
	if !ok {
		return fmt.Errorf("want a date such as 2026-12-03, got %v", input)
	}
	parsed, err := time.Parse(time.DateOnly, text)
	if err != nil {
		return fmt.Errorf("want a date such as 2026-12-03, got %q", text)
	}
	d.Time = parsed
	return nil
}

// MarshalJSON writes the date as YYYY-MM-DD.
func (d gqlDate) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.UTC().Format(time.DateOnly))
}
