package emulator

import (
	"bytes"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/secret"
)

// World is the emulator's initial state: the account, its API tokens, service tokens,
// groups, reusable policies and applications, and the faults to inject. It is usually
// loaded from a YAML world file; worlds/default.yaml is a commented example.
//
// Absent ids are generated: UUIDs for tokens, groups, policies and applications, 32 hex
// digits for the account and zone, 64 hex digits for AUD tags, and client ids and secrets
// for service tokens. They are random unless Seed is set, in which case every generated
// value, secrets created later through the API included, is the same from run to run; an
// entity's values depend on the seed and its name only, so adding one changes no other.
type World struct {
	// Seed, when not 0, makes generated ids and secrets deterministic.
	Seed int64 `yaml:"seed,omitempty"`
	// AccountID and ZoneID are the ids the API answers to (32 hex digits).
	AccountID string `yaml:"account_id,omitempty"`
	ZoneID    string `yaml:"zone_id,omitempty"`
	// Team names the team domain, <team>.cloudflareaccess.com. Default "demo".
	Team string `yaml:"team,omitempty"`
	// Strict turns on strict service token authentication at the edge.
	Strict bool `yaml:"strict,omitempty"`
	// TokenLimit is the number of service tokens the account may hold. Default 50.
	TokenLimit int `yaml:"token_limit,omitempty"`
	// RateLimit, when set, answers 429 to API clients that send too many requests.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty"`
	// LoginEvents sets how service-token logins are reported.
	LoginEvents LoginEvents `yaml:"login_events,omitempty"`

	APITokens     []WorldAPIToken     `yaml:"api_tokens,omitempty"`
	ServiceTokens []WorldServiceToken `yaml:"service_tokens,omitempty"`
	Groups        []WorldGroup        `yaml:"groups,omitempty"`
	Policies      []WorldPolicy       `yaml:"policies,omitempty"`
	Applications  []WorldApp          `yaml:"applications,omitempty"`
	Faults        []Fault             `yaml:"faults,omitempty"`

	// file and root locate problems found after decoding; both are empty for a World
	// built in Go.
	file string
	root *yaml.Node
}

// RateLimit is a fixed-window request limit per API token, like Cloudflare's 1200 requests
// per 5 minutes.
type RateLimit struct {
	Requests int    `yaml:"requests"`
	Window   string `yaml:"window"`
}

// LoginEvents sets how the emulator reports service-token logins.
type LoginEvents struct {
	// Connection is the "connection" value of a service-token login record. Cloudflare
	// documents none; the default "nonidentity" is a guess (see the package doc).
	Connection string `yaml:"connection,omitempty"`
}

// WorldAPIToken is a Cloudflare API token: the bearer value and what it may do.
type WorldAPIToken struct {
	ID    string `yaml:"id,omitempty"`
	Name  string `yaml:"name,omitempty"`
	Value Secret `yaml:"value"`
	// Permissions lists Perm* values, or "all".
	Permissions []string `yaml:"permissions"`
}

// WorldServiceToken is a service token that exists when the emulator starts.
type WorldServiceToken struct {
	ID   string `yaml:"id,omitempty"`
	Name string `yaml:"name"`
	// Scope is "account" (the default) or "zone".
	Scope        string `yaml:"scope,omitempty"`
	ClientID     string `yaml:"client_id,omitempty"`
	ClientSecret Secret `yaml:"client_secret,omitempty"`
	// Duration is a Go duration such as "8760h", or "forever". Default "8760h".
	Duration string `yaml:"duration,omitempty"`
	// ExpiresAt is an RFC 3339 time, a duration relative to the start of the emulator
	// ("-48h" is in the past, "720h" or "+720h" in the future), or "expired" (a day ago).
	// Default: created_at + duration.
	ExpiresAt string `yaml:"expires_at,omitempty"`
	// LastSeenAt takes the same forms as ExpiresAt; empty means never seen.
	LastSeenAt string `yaml:"last_seen_at,omitempty"`
	// Enabled defaults to true.
	Enabled             *bool `yaml:"enabled,omitempty"`
	ClientSecretVersion int   `yaml:"client_secret_version,omitempty"`
	// PreviousClientSecret keeps working until PreviousClientSecretExpiresAt (same forms
	// as ExpiresAt), as after a rotation with a grace period.
	PreviousClientSecret          Secret `yaml:"previous_client_secret,omitempty"`
	PreviousClientSecretExpiresAt string `yaml:"previous_client_secret_expires_at,omitempty"`
}

// WorldGroup is an Access group. Rules may name service tokens and groups by name.
type WorldGroup struct {
	ID      string        `yaml:"id,omitempty"`
	Name    string        `yaml:"name"`
	Scope   string        `yaml:"scope,omitempty"`
	Include []access.Rule `yaml:"include"`
	Exclude []access.Rule `yaml:"exclude,omitempty"`
	Require []access.Rule `yaml:"require,omitempty"`
}

// WorldPolicy is a reusable policy (under policies:) or the inline policy of one
// application. Rules may name service tokens and groups by name instead of id.
type WorldPolicy struct {
	ID              string          `yaml:"id,omitempty"`
	Name            string          `yaml:"name,omitempty"`
	Decision        access.Decision `yaml:"decision,omitempty"`
	Include         []access.Rule   `yaml:"include,omitempty"`
	Exclude         []access.Rule   `yaml:"exclude,omitempty"`
	Require         []access.Rule   `yaml:"require,omitempty"`
	SessionDuration string          `yaml:"session_duration,omitempty"`
}

// WorldAppPolicy is one entry of an application's policies: a reference to a reusable
// policy (by name or id; a bare string is short for {ref: ...}) or an inline policy.
type WorldAppPolicy struct {
	Ref string `yaml:"ref,omitempty"`
	// Precedence defaults to the entry's position, starting at 1.
	Precedence  int `yaml:"precedence,omitempty"`
	WorldPolicy `yaml:",inline"`
}

// WorldApp is a self-hosted Access application and the origin behind it.
type WorldApp struct {
	ID    string `yaml:"id,omitempty"`
	Name  string `yaml:"name"`
	Scope string `yaml:"scope,omitempty"`
	// Domain is the primary hostname and optional path, such as "app.example.com/admin".
	Domain string `yaml:"domain"`
	// Destinations are further public hostnames and paths; the domain is always covered.
	Destinations                []string         `yaml:"destinations,omitempty"`
	AUD                         string           `yaml:"aud,omitempty"`
	Policies                    []WorldAppPolicy `yaml:"policies,omitempty"`
	ReadServiceTokensFromHeader string           `yaml:"read_service_tokens_from_header,omitempty"`
	ServiceAuth401Redirect      bool             `yaml:"service_auth_401_redirect,omitempty"`
	SessionDuration             string           `yaml:"session_duration,omitempty"`
	// Origin says what answers behind Access: "ok" (the default, an echo), "down" (502),
	// "tunnel-down" (530, error 1033), "slow:<duration>", "status:<code>", or an http(s)
	// URL to proxy to.
	Origin string `yaml:"origin,omitempty"`
}

// Secret is a credential in a world: it prints as "[redacted]" through fmt, JSON and
// YAML encoders, and is read with Reveal.
type Secret struct{ secret.Secret }

// NewSecret wraps value.
func NewSecret(value string) Secret { return Secret{secret.New(value)} }

// UnmarshalYAML reads a secret from a YAML string.
func (s *Secret) UnmarshalYAML(node *yaml.Node) error {
	switch {
	case node.ShortTag() == "!!null":
		s.Secret = secret.Secret{}
	case node.Kind != yaml.ScalarNode:
		msg := fmt.Sprintf("line %d: want a string", node.Line)
		return &yaml.TypeError{Errors: []string{msg}}
	default:
		s.Secret = secret.New(node.Value)
	}
	return nil
}

// UnmarshalYAML accepts a bare string as a reference to a reusable policy.
func (p *WorldAppPolicy) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		*p = WorldAppPolicy{Ref: node.Value}
		return nil
	}
	type plain WorldAppPolicy
	return node.Decode((*plain)(p))
}

// yamlFieldsChecked marks a yaml.Unmarshaler whose mapping form checkKnownFields may walk.
func (p *WorldAppPolicy) yamlFieldsChecked() {}

// LoadWorld reads and validates a world file.
func LoadWorld(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world file: %w", err)
	}
	return ParseWorld(path, data)
}

// ParseWorld decodes and validates a world from YAML. name is the file name used in
// errors, which are one line: "<name>:<line>: <field>: <problem>".
func ParseWorld(name string, data []byte) (*World, error) {
	w := &World{file: name}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(name, err)
	}
	if len(root.Content) == 0 {
		return w, w.Validate()
	}
	w.root = &root
	if err := checkKnownFields(root.Content[0], worldType, nil); err != nil {
		return nil, w.locate(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(w); err != nil {
		return nil, w.decodeError(err)
	}
	return w, w.Validate()
}

// TeamDomain is the team's Access domain, <team>.cloudflareaccess.com.
func (w *World) TeamDomain() string {
	team := w.Team
	if team == "" {
		team = defaultTeam
	}
	return team + ".cloudflareaccess.com"
}

// Validate fills in what the world leaves out (ids, AUD tags, defaults), resolves
// references by name to ids, and reports the first problem. A World must not be validated
// by two goroutines at once.
func (w *World) Validate() error {
	w.complete()
	if err := w.check(); err != nil {
		return w.locate(err)
	}
	return nil
}
