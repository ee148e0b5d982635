// Package cloudflare is cfst's client for the Cloudflare API v4: service tokens, Access
// applications, policies and groups, API-token verification and expiry alerts.
//
// It is built on the official SDK (github.com/cloudflare/cloudflare-go/v6), which handles
// authentication, the base URL and retries. This package bounds every operation by one
// time budget, stops retrying as soon as a wait would overrun that budget, and translates
// every failure into an *Error whose text a user can act on and which never contains the
// API token or a client secret.
package cloudflare

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	cfsdk "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/zero_trust"

	"github.com/cfst/cfst/internal/secret"
)

// DefaultBaseURL is the Cloudflare API v4.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 2
	DefaultRetryBackoff = time.Second
)

// The environment variables ConfigFromEnv reads. Hints name them, so users know what to set.
const (
	EnvAPIToken  = "CLOUDFLARE_API_TOKEN"
	EnvAccountID = "CLOUDFLARE_ACCOUNT_ID"
	EnvZoneID    = "CLOUDFLARE_ZONE_ID"
	EnvBaseURL   = "CLOUDFLARE_BASE_URL"
)

// Config configures a Client. At least one of AccountID and ZoneID is required. Service
// tokens live at account scope when AccountID is set and at zone scope otherwise;
// applications and groups are read from every scope that is set; reusable policies,
// refresh, rotate and alerts need an account.
type Config struct {
	APIToken  secret.Secret
	AccountID string
	ZoneID    string
	// BaseURL is the API root; empty means DefaultBaseURL. It must be https.
	BaseURL string
	// HTTPClient sends the requests; nil means a client that honours SSL_CERT_FILE and
	// follows no redirects.
	HTTPClient *http.Client
	// Timeout bounds each operation as a whole, retries and paging included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how often a failed request is retried; zero means DefaultMaxRetries
	// and a negative value means never.
	MaxRetries int
	// RetryBackoff is the wait before the first retry when the API names none; it doubles
	// on each retry. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// UserAgent, if set, replaces the SDK's User-Agent header.
	UserAgent string
}

// ConfigFromEnv reads the API token, account, zone and base URL from the environment
// through getenv (os.Getenv in production).
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		APIToken:  secret.New(strings.TrimSpace(getenv(EnvAPIToken))),
		AccountID: strings.TrimSpace(getenv(EnvAccountID)),
		ZoneID:    strings.TrimSpace(getenv(EnvZoneID)),
		BaseURL:   strings.TrimSpace(getenv(EnvBaseURL)),
	}
}

// Client performs cfst's operations against the Cloudflare API. It is safe for concurrent
// use.
type Client struct {
	sdk       *cfsdk.Client
	tokens    *zero_trust.AccessServiceTokenService
	accountID string
	zoneID    string
	host      string // of the base URL, for messages
	timeout   time.Duration
	backoff   time.Duration
	scrubber  *secret.Scrubber
	apps      appScopes
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	base, err := checkConfig(&cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		accountID: cfg.AccountID,
		zoneID:    cfg.ZoneID,
		host:      base.Host,
		timeout:   cfg.Timeout,
		backoff:   cfg.RetryBackoff,
		scrubber:  &secret.Scrubber{},
	}
	c.scrubber.Add(cfg.APIToken)
	opts := []option.RequestOption{
		// The SDK adds credentials from CLOUDFLARE_API_KEY and friends; cfst uses only
		// the API token it was given.
		option.WithHeaderDel("X-Auth-Key"),
		option.WithHeaderDel("X-Auth-Email"),
		option.WithHeaderDel("X-Auth-User-Service-Key"),
		option.WithBaseURL(base.String()),
		option.WithAPIToken(cfg.APIToken.Reveal()),
		option.WithHTTPClient(cfg.HTTPClient),
		option.WithMaxRetries(max(cfg.MaxRetries, 0)),
		option.WithRequestTimeout(cfg.Timeout),
		option.WithMiddleware(c.observe),
	}
	if cfg.UserAgent != "" {
		opts = append(opts, option.WithHeader("User-Agent", cfg.UserAgent))
	}
	c.sdk = cfsdk.NewClient(opts...)
	c.tokens = c.sdk.ZeroTrust.Access.ServiceTokens
	return c, nil
}

// checkConfig fills defaults into cfg and returns the parsed base URL.
func checkConfig(cfg *Config) (*url.URL, error) {
	if cfg.APIToken.IsZero() {
		return nil, configError("no API token",
			"set "+EnvAPIToken+"; create one at dash.cloudflare.com/profile/api-tokens")
	}
	if cfg.AccountID == "" && cfg.ZoneID == "" {
		return nil, configError("no account or zone", "set "+EnvAccountID+" (or "+EnvZoneID+")")
	}
	for _, id := range []string{cfg.AccountID, cfg.ZoneID} {
		if strings.ContainsAny(id, "/?#% ") {
			return nil, configError(fmt.Sprintf("invalid account or zone id %q", id),
				"use the 32-character id shown in the dashboard URL")
		}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return nil, configError(fmt.Sprintf("invalid API base URL %q", cfg.BaseURL),
			"set "+EnvBaseURL+" to an https URL such as "+DefaultBaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	return base, nil
}

// defaultHTTPClient returns a client whose TLS roots come from the system, which on Linux
// includes SSL_CERT_FILE and SSL_CERT_DIR. It follows no redirects: the API never
// redirects, and a redirect must not carry the API token elsewhere.
func defaultHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// AccountID is the configured account, or "".
func (c *Client) AccountID() string { return c.accountID }

// ZoneID is the configured zone, or "".
func (c *Client) ZoneID() string { return c.zoneID }

// Scope says where service tokens live: "account" or "zone".
func (c *Client) Scope() string {
	if c.accountID != "" {
		return scopeAccount
	}
	return scopeZone
}

const (
	scopeAccount = "account"
	scopeZone    = "zone"
)

// scopePath is the path prefix of the token scope: "accounts/<id>" or "zones/<id>".
func (c *Client) scopePath() string {
	if c.accountID != "" {
		return "accounts/" + c.accountID
	}
	return "zones/" + c.zoneID
}

// scopePaths lists every configured scope, account first.
func (c *Client) scopePaths() []string {
	var paths []string
	if c.accountID != "" {
		paths = append(paths, "accounts/"+c.accountID)
	}
	if c.zoneID != "" {
		paths = append(paths, "zones/"+c.zoneID)
	}
	return paths
}

// needAccount returns a config error when no account is configured, for what (such as
// "refresh") exists only at account scope.
func (c *Client) needAccount(what string) error {
	if c.accountID != "" {
		return nil
	}
	return configError(what+" needs an account, and only a zone is configured",
		what+" needs an account: set "+EnvAccountID)
}

// VerifyAPIToken asks the API whether the configured API token is valid and returns its
// status, such as "active".
func (c *Client) VerifyAPIToken(ctx context.Context) (status string, err error) {
	op := operation{name: "verify API token"}
	err = c.run(ctx, op, func(ctx context.Context) error {
		res, err := c.sdk.User.Tokens.Verify(ctx)
		if err != nil {
			return err
		}
		status = string(res.Status)
		return nil
	})
	return status, err
}
