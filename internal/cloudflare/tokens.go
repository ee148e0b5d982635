package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	cfsdk "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"

	"github.com/cfst/cfst/internal/secret"
)

// The API-token permissions service-token operations need.
const (
	PermTokensRead  = "Access: Service Tokens Read"
	PermTokensWrite = "Access: Service Tokens Write"
)

// DurationForever is the duration of a token that never expires.
const DurationForever = "forever"

// Token is a service token as the API describes it. It never holds the client secret.
type Token struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
	// Duration is the lifetime the token was given, such as "8760h" or "forever".
	Duration  string    `json:"duration"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Forever is set for tokens that never expire; ExpiresAt is then meaningless.
	Forever    bool      `json:"forever"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	// Enabled is false for a disabled token. The API omits the field for enabled ones.
	Enabled bool `json:"enabled"`
	// SecretVersion counts rotations, starting at 1.
	SecretVersion int `json:"client_secret_version,omitempty"`
	// PreviousSecretExpiresAt ends the grace period of the secret before the last
	// rotation.
	PreviousSecretExpiresAt time.Time `json:"previous_client_secret_expires_at,omitzero"`
	// Scope is "account" or "zone".
	Scope string `json:"scope"`
}

// NewSecret is a token together with the client secret that create and rotate return.
// The API shows the secret only then.
type NewSecret struct {
	Token
	ClientSecret secret.Secret `json:"client_secret"`
}

// ListOptions filters ListTokens.
type ListOptions struct {
	// Name keeps tokens with exactly this name.
	Name string
	// Search is passed to the API's search parameter.
	Search string
	// PerPage is the page size; zero means 100.
	PerPage int
}

// TokenUpdate says which fields UpdateToken changes; nil fields stay as they are.
type TokenUpdate struct {
	Name     *string
	Duration *string
	Enabled  *bool
	// PreviousSecretExpiresAt moves the end of the grace period of the previous secret;
	// a time in the past ends it at once.
	PreviousSecretExpiresAt *time.Time
}

// ListTokens returns every service token, reading all pages.
func (c *Client) ListTokens(ctx context.Context, opts ListOptions) ([]Token, error) {
	op := operation{name: "list service tokens", permission: PermTokensRead}
	var tokens []Token
	err := c.run(ctx, op, func(ctx context.Context) (err error) {
		tokens, err = c.listTokens(ctx, opts)
		return err
	})
	return tokens, err
}

func (c *Client) listTokens(ctx context.Context, opts ListOptions) ([]Token, error) {
	query := url.Values{}
	if opts.Name != "" {
		query.Set("name", opts.Name)
	}
	if opts.Search != "" {
		query.Set("search", opts.Search)
	}
	var tokens []Token
	err := c.listAll(ctx, c.scopePath()+"/access/service_tokens", query, opts.PerPage,
		func(raw json.RawMessage) error {
			tok, _, err := c.decodeToken(string(raw))
			if err == nil && (opts.Name == "" || tok.Name == opts.Name) {
				tokens = append(tokens, tok)
			}
			return err
		})
	return tokens, err
}

// GetToken returns the token with this id.
func (c *Client) GetToken(ctx context.Context, id string) (Token, error) {
	op := operation{name: "get service token", permission: PermTokensRead,
		subject: fmt.Sprintf("service token %q", id)}
	var tok Token
	err := c.run(ctx, op, func(ctx context.Context) (err error) {
		tok, err = c.getToken(ctx, id)
		return err
	})
	return tok, err
}

func (c *Client) getToken(ctx context.Context, id string) (Token, error) {
	res, err := c.tokens.Get(ctx, url.PathEscape(id), zero_trust.AccessServiceTokenGetParams{
		AccountID: cfsdk.F(c.accountID), ZoneID: cfsdk.F(c.tokenZone())})
	if err != nil {
		return Token{}, err
	}
	tok, _, err := c.decodeToken(res.JSON.RawJSON())
	return tok, err
}

// CreateToken creates a token. An empty duration means the API's default, 8760h.
func (c *Client) CreateToken(ctx context.Context, name, duration string) (NewSecret, error) {
	op := operation{name: "create service token", permission: PermTokensWrite}
	var created NewSecret
	err := c.run(ctx, op, func(ctx context.Context) error {
		params := zero_trust.AccessServiceTokenNewParams{AccountID: cfsdk.F(c.accountID),
			ZoneID: cfsdk.F(c.tokenZone()), Name: cfsdk.F(name)}
		if duration != "" {
			params.Duration = cfsdk.F(duration)
		}
		res, err := c.tokens.New(ctx, params)
		if err != nil {
			return err
		}
		created, err = c.decodeNewSecret(res.JSON.RawJSON())
		return err
	})
	return created, err
}

// UpdateToken changes the fields update sets and returns the token as it is now. Cloudflare
// documents PUT with the name included, so when update leaves the name alone the current
// one is read first and sent back.
func (c *Client) UpdateToken(ctx context.Context, id string, update TokenUpdate) (Token, error) {
	op := operation{name: "update service token", permission: PermTokensWrite,
		subject: fmt.Sprintf("service token %q", id)}
	var tok Token
	err := c.run(ctx, op, func(ctx context.Context) (err error) {
		tok, err = c.updateToken(ctx, id, update)
		return err
	})
	return tok, err
}

func (c *Client) updateToken(ctx context.Context, id string, update TokenUpdate) (Token, error) {
	params := zero_trust.AccessServiceTokenUpdateParams{AccountID: cfsdk.F(c.accountID),
		ZoneID: cfsdk.F(c.tokenZone())}
	if update.Name != nil {
		params.Name = cfsdk.F(*update.Name)
	} else {
		current, err := c.getToken(ctx, id)
		if err != nil {
			return Token{}, err
		}
		params.Name = cfsdk.F(current.Name)
	}
	if update.Duration != nil {
		params.Duration = cfsdk.F(*update.Duration)
	}
	if update.PreviousSecretExpiresAt != nil {
		params.PreviousClientSecretExpiresAt = cfsdk.F(update.PreviousSecretExpiresAt.UTC())
	}
	var opts []option.RequestOption
	if update.Enabled != nil {
		// SDK v6.10.0 does not model "enabled" yet.
		opts = append(opts, option.WithJSONSet("enabled", *update.Enabled))
	}
	res, err := c.tokens.Update(ctx, url.PathEscape(id), params, opts...)
	if err != nil {
		return Token{}, err
	}
	tok, _, err := c.decodeToken(res.JSON.RawJSON())
	return tok, err
}

// DeleteToken deletes a token; services that use it lose access at once.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	op := operation{name: "delete service token", permission: PermTokensWrite,
		subject: fmt.Sprintf("service token %q", id)}
	return c.run(ctx, op, func(ctx context.Context) error {
		_, err := c.tokens.Delete(ctx, url.PathEscape(id),
			zero_trust.AccessServiceTokenDeleteParams{AccountID: cfsdk.F(c.accountID),
				ZoneID: cfsdk.F(c.tokenZone())})
		return err
	})
}

// RefreshToken extends a token's expiry, keeping its secret. It needs an account.
func (c *Client) RefreshToken(ctx context.Context, id string) (Token, error) {
	if err := c.needAccount("refresh"); err != nil {
		return Token{}, err
	}
	op := operation{name: "refresh service token", permission: PermTokensWrite,
		subject: fmt.Sprintf("service token %q", id)}
	var tok Token
	err := c.run(ctx, op, func(ctx context.Context) error {
		res, err := c.tokens.Refresh(ctx, url.PathEscape(id),
			zero_trust.AccessServiceTokenRefreshParams{AccountID: cfsdk.F(c.accountID)})
		if err != nil {
			return err
		}
		tok, _, err = c.decodeToken(res.JSON.RawJSON())
		return err
	})
	return tok, err
}

// RotateToken gives a token a new secret. The previous secret keeps working until
// previousExpiresAt; the zero time ends it at once. It needs an account.
func (c *Client) RotateToken(ctx context.Context, id string, previousExpiresAt time.Time,
) (NewSecret, error) {
	if err := c.needAccount("rotate"); err != nil {
		return NewSecret{}, err
	}
	op := operation{name: "rotate service token", permission: PermTokensWrite,
		subject: fmt.Sprintf("service token %q", id)}
	var rotated NewSecret
	err := c.run(ctx, op, func(ctx context.Context) error {
		params := zero_trust.AccessServiceTokenRotateParams{AccountID: cfsdk.F(c.accountID)}
		if !previousExpiresAt.IsZero() {
			params.PreviousClientSecretExpiresAt = cfsdk.F(previousExpiresAt.UTC())
		}
		res, err := c.tokens.Rotate(ctx, url.PathEscape(id), params)
		if err != nil {
			return err
		}
		rotated, err = c.decodeNewSecret(res.JSON.RawJSON())
		return err
	})
	return rotated, err
}

// ResolveToken finds the token a user means by ref: its id (a UUID), its client id
// (ending in ".access"), or its name. A name that several tokens share is an error of
// KindAmbiguous that lists their ids.
func (c *Client) ResolveToken(ctx context.Context, ref string) (Token, error) {
	ref = strings.TrimSpace(ref)
	op := operation{name: "find service token", permission: PermTokensRead,
		subject: fmt.Sprintf("service token %q", ref)}
	var tok Token
	err := c.run(ctx, op, func(ctx context.Context) (err error) {
		switch {
		case uuidPattern.MatchString(ref):
			tok, err = c.getToken(ctx, ref)
		case isClientID(ref):
			tok, err = c.tokenByClientID(ctx, ref)
		default:
			tok, err = c.tokenByName(ctx, ref)
		}
		return err
	})
	return tok, err
}

var uuidPattern = regexp.MustCompile(
	`^(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// isClientID reports whether ref looks like a client id: "<hex>.access", sometimes
// followed by a domain ("<hex>.access.example.com").
func isClientID(ref string) bool {
	return strings.HasSuffix(ref, ".access") || strings.Contains(ref, ".access.")
}

func (c *Client) tokenByClientID(ctx context.Context, clientID string) (Token, error) {
	tokens, err := c.listTokens(ctx, ListOptions{})
	if err != nil {
		return Token{}, err
	}
	for _, tok := range tokens {
		if tok.ClientID == clientID {
			return tok, nil
		}
	}
	return Token{}, &Error{Kind: KindNotFound, Hint: hintList,
		Message: fmt.Sprintf("no service token has client id %q", clientID)}
}

func (c *Client) tokenByName(ctx context.Context, name string) (Token, error) {
	tokens, err := c.listTokens(ctx, ListOptions{Name: name})
	if err != nil {
		return Token{}, err
	}
	switch len(tokens) {
	case 0:
		return Token{}, &Error{Kind: KindNotFound, Hint: hintList,
			Message: fmt.Sprintf("no service token is named %q", name)}
	case 1:
		return tokens[0], nil
	}
	ids := make([]string, 0, len(tokens))
	for _, tok := range tokens {
		ids = append(ids, tok.ID)
	}
	return Token{}, &Error{Kind: KindAmbiguous,
		Message: fmt.Sprintf("name %q matches %d tokens: %s", name, len(ids),
			strings.Join(ids, ", ")),
		Hint: "pass the token's id or client id instead of its name"}
}

// tokenZone is the zone id service-token calls use: empty when they use the account.
func (c *Client) tokenZone() string {
	if c.accountID != "" {
		return ""
	}
	return c.zoneID
}

// tokenWire is a service token as the API sends it, with fields SDK v6.10.0 drops.
type tokenWire struct {
	ID                      string   `json:"id"`
	Name                    string   `json:"name"`
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	Duration                string   `json:"duration"`
	ExpiresAt               wireTime `json:"expires_at"`
	CreatedAt               wireTime `json:"created_at"`
	UpdatedAt               wireTime `json:"updated_at"`
	LastSeenAt              wireTime `json:"last_seen_at"`
	Enabled                 *bool    `json:"enabled"`
	ClientSecretVersion     float64  `json:"client_secret_version"`
	PreviousSecretExpiresAt wireTime `json:"previous_client_secret_expires_at"`
}

// decodeToken decodes one token. The secret, if the JSON has one, is returned wrapped.
// A decoding error says nothing about the JSON, which may hold a secret.
func (c *Client) decodeToken(raw string) (Token, secret.Secret, error) {
	var w tokenWire
	if err := json.Unmarshal([]byte(raw), &w); err != nil || w.ID == "" {
		return Token{}, secret.Secret{}, c.unreadable("service token")
	}
	tok := Token{
		ID: w.ID, Name: w.Name, ClientID: w.ClientID, Duration: w.Duration,
		ExpiresAt: w.ExpiresAt.Time, Forever: w.Duration == DurationForever,
		CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time, LastSeenAt: w.LastSeenAt.Time,
		Enabled:                 w.Enabled == nil || *w.Enabled,
		SecretVersion:           int(w.ClientSecretVersion),
		PreviousSecretExpiresAt: w.PreviousSecretExpiresAt.Time,
		Scope:                   c.Scope(),
	}
	return tok, secret.New(w.ClientSecret), nil
}

// decodeNewSecret decodes a create or rotate answer, which must carry a secret.
func (c *Client) decodeNewSecret(raw string) (NewSecret, error) {
	tok, sec, err := c.decodeToken(raw)
	if err != nil {
		return NewSecret{}, err
	}
	if sec.IsZero() {
		return NewSecret{}, &Error{Kind: KindServer, Hint: hintStatus,
			Message: "the API returned no client secret for token " + tok.ID}
	}
	c.scrubber.Add(sec)
	return NewSecret{Token: tok, ClientSecret: sec}, nil
}

// wireTime is an RFC 3339 time that may also be null or "".
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(data []byte) error {
	var text *string
	if err := json.Unmarshal(data, &text); err != nil {
		return err
	}
	if text == nil || *text == "" {
		t.Time = time.Time{}
		return nil
	}
	parsed, err := time.Parse(time.RFC3339Nano, *text)
	t.Time = parsed
	return err
}
