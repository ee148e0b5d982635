package access

import "net/netip"

// CredentialState says what a request presented and whether it authenticated.
type CredentialState int

const (
	// NoCredentials: no service-token headers at all.
	NoCredentials CredentialState = iota
	// ValidToken: the client id and secret authenticate an enabled, unexpired token.
	ValidToken
	// InvalidToken: credentials were presented but do not authenticate (unknown client id,
	// wrong or expired secret, expired or disabled token).
	InvalidToken
)

// Request is what the edge knows about a request when it evaluates policies.
type Request struct {
	Credentials CredentialState
	TokenID     string // set when Credentials is ValidToken
	IP          netip.Addr
	Country     string // ISO 3166-1 alpha-2, empty when unknown
}

// Outcome is what the edge does with a request.
type Outcome string

// The outcomes of Evaluate.
const (
	Admitted        Outcome = "admitted"        // a Service Auth policy admitted the token
	Bypassed        Outcome = "bypassed"        // a Bypass policy let the request through
	LoginRedirect   Outcome = "login_redirect"  // 302 to the team's login page
	Forbidden       Outcome = "forbidden"       // 403 Forbidden page
	Unauthenticated Outcome = "unauthenticated" // 401
)

// Reason says why a request was not admitted, for people and for tests.
type Reason string

// The reasons a token is refused.
const (
	ReasonNone                 Reason = ""
	ReasonNoCredentials        Reason = "no_credentials"
	ReasonTokenInvalid         Reason = "token_invalid"
	ReasonOnlyIdentityPolicies Reason = "only_identity_policies"
	ReasonNoMatchingRule       Reason = "no_matching_rule"
	ReasonExcluded             Reason = "excluded"
	ReasonRequireNotMet        Reason = "require_not_met"
	ReasonBlocked              Reason = "blocked"
	ReasonNoPolicies           Reason = "no_policies"
	// ReasonNoServiceAuthPolicy: the application has policies, but neither Service Auth,
	// Bypass nor Allow ones (only Block), so nothing can ever admit a token.
	ReasonNoServiceAuthPolicy Reason = "no_service_auth_policy"
)

// Verdict is the result of evaluating an application's policies for one request.
type Verdict struct {
	Outcome Outcome
	// Status is the HTTP status the edge answers with when it does not forward the request:
	// 302, 401 or 403. It is 0 for Admitted and Bypassed.
	Status int
	// Policy is the policy that decided, when one did.
	Policy *Policy
	// Rule describes the rule that matched, such as "any valid service token".
	Rule   string
	Reason Reason
	// Detail is one line that explains the verdict to an operator.
	Detail string
}
