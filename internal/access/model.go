// Package access decides which Cloudflare Access application covers a request and whether
// its policies admit a service token. The emulator's edge and cfst's own analysis (apps,
// doctor, test hints) both call it, so what cfst predicts and what the emulator does cannot
// drift apart.
//
// The types mirror the JSON of the Cloudflare API v4, so API responses decode into them
// directly and the emulator serves them as they are.
package access

// Decision is a policy's action. The dashboard calls non_identity "Service Auth" and deny
// "Block".
type Decision string

// The decisions Cloudflare defines.
const (
	DecisionAllow       Decision = "allow"
	DecisionDeny        Decision = "deny"
	DecisionNonIdentity Decision = "non_identity"
	DecisionBypass      Decision = "bypass"
)

// Rule is one selector of a policy or group. Exactly one field is set; on the wire it is an
// object with a single key, such as {"any_valid_service_token":{}}.
type Rule struct {
	ServiceToken         *ServiceTokenRule `json:"service_token,omitempty" yaml:"service_token,omitempty"`
	AnyValidServiceToken *Empty            `json:"any_valid_service_token,omitempty" yaml:"any_valid_service_token,omitempty"`
	Group                *GroupRule        `json:"group,omitempty" yaml:"group,omitempty"`
	Everyone             *Empty            `json:"everyone,omitempty" yaml:"everyone,omitempty"`
	IP                   *IPRule           `json:"ip,omitempty" yaml:"ip,omitempty"`
	Geo                  *GeoRule          `json:"geo,omitempty" yaml:"geo,omitempty"`
	Email                *EmailRule        `json:"email,omitempty" yaml:"email,omitempty"`
	EmailDomain          *EmailDomainRule  `json:"email_domain,omitempty" yaml:"email_domain,omitempty"`
	Certificate          *Empty            `json:"certificate,omitempty" yaml:"certificate,omitempty"`
}

// Empty is the value of selectors that take no arguments.
type Empty struct{}

// ServiceTokenRule admits one service token, by its id (not its client id).
type ServiceTokenRule struct {
	TokenID string `json:"token_id" yaml:"token_id"`
}

// GroupRule refers to an Access group by id.
type GroupRule struct {
	ID string `json:"id" yaml:"id"`
}

// IPRule matches a client address or CIDR range.
type IPRule struct {
	IP string `json:"ip" yaml:"ip"`
}

// GeoRule matches the client's country, as an ISO 3166-1 alpha-2 code.
type GeoRule struct {
	CountryCode string `json:"country_code" yaml:"country_code"`
}

// EmailRule matches an identity's email; a service token never has one.
type EmailRule struct {
	Email string `json:"email" yaml:"email"`
}

// EmailDomainRule matches an identity's email domain; a service token never has one.
type EmailDomainRule struct {
	Domain string `json:"domain" yaml:"domain"`
}

// Policy is an Access policy, app-scoped or reusable. Precedence orders the policies of one
// application; it is unique within the application.
type Policy struct {
	ID         string   `json:"id" yaml:"id"`
	Name       string   `json:"name" yaml:"name"`
	Decision   Decision `json:"decision" yaml:"decision"`
	Precedence int      `json:"precedence,omitempty" yaml:"precedence,omitempty"`
	Include    []Rule   `json:"include" yaml:"include"`
	Exclude    []Rule   `json:"exclude" yaml:"exclude"`
	Require    []Rule   `json:"require" yaml:"require"`
	Reusable   bool     `json:"reusable" yaml:"reusable"`
}

// Group is an Access group: a named set of rules that policies refer to.
type Group struct {
	ID      string `json:"id" yaml:"id"`
	Name    string `json:"name" yaml:"name"`
	Include []Rule `json:"include" yaml:"include"`
	Exclude []Rule `json:"exclude" yaml:"exclude"`
	Require []Rule `json:"require" yaml:"require"`
}

// Destination is one public hostname and path an application covers, such as
// "app.example.com/admin/*". Private destinations are not modelled.
type Destination struct {
	Type string `json:"type" yaml:"type"`
	URI  string `json:"uri" yaml:"uri"`
}

// Application is a self-hosted Access application.
type Application struct {
	ID                          string        `json:"id" yaml:"id"`
	Name                        string        `json:"name" yaml:"name"`
	Type                        string        `json:"type" yaml:"type"`
	Domain                      string        `json:"domain" yaml:"domain"`
	Destinations                []Destination `json:"destinations,omitempty" yaml:"destinations,omitempty"`
	SelfHostedDomains           []string      `json:"self_hosted_domains,omitempty" yaml:"self_hosted_domains,omitempty"`
	AUD                         string        `json:"aud" yaml:"aud"`
	Policies                    []Policy      `json:"policies" yaml:"policies"`
	ReadServiceTokensFromHeader string        `json:"read_service_tokens_from_header,omitempty" yaml:"read_service_tokens_from_header,omitempty"`
	ServiceAuth401Redirect      bool          `json:"service_auth_401_redirect,omitempty" yaml:"service_auth_401_redirect,omitempty"`
	SessionDuration             string        `json:"session_duration,omitempty" yaml:"session_duration,omitempty"`
}
