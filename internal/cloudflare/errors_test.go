package cloudflare

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/secret"
)

// TestErrorKinds provokes each kind of error through the emulator.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	ctx := t.Context()
	missingID := "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name     string
		edit     func(*Config)
		call     func(*Client) error
		want     Kind
		wantText string // in Error()
		wantHint string // "" when the error needs no hint
	}{{
		name: "unknown API token",
		edit: func(cfg *Config) { cfg.APIToken = secret.New("not-a-known-token") },
		call: listTokens, want: KindAuth, wantText: "API token was rejected",
		wantHint: EnvAPIToken,
	}, {
		name: "malformed API token",
		edit: func(cfg *Config) { cfg.APIToken = secret.New("two words") },
		call: listTokens, want: KindAuth, wantHint: "dash.cloudflare.com/profile/api-tokens",
	}, {
		name: "read-only API token creating",
		edit: func(cfg *Config) { cfg.APIToken = secret.New(readerAPIToken) },
		call: func(c *Client) error {
			_, err := c.CreateToken(ctx, "x", "")
			return err
		},
		want: KindPermission, wantText: `"Access: Service Tokens Write"`,
		wantHint: `add "Access: Service Tokens Write" for the account`,
	}, {
		name: "apps API token listing groups",
		edit: func(cfg *Config) { cfg.APIToken = secret.New(appsAPIToken) },
		call: func(c *Client) error {
			_, err := c.ListGroups(ctx)
			return err
		},
		want: KindPermission, wantText: PermGroupsRead,
	}, {
		name: "unknown token id",
		call: func(c *Client) error { return c.DeleteToken(ctx, missingID) },
		want: KindNotFound, wantText: `service token "` + missingID + `" not found`,
		wantHint: "cfst list",
	}, {
		name: "unknown account",
		edit: func(cfg *Config) { cfg.AccountID = "ffffffffffffffffffffffffffffffff" },
		call: listTokens, want: KindUnknownAccount,
		wantText: `account "ffffffffffffffffffffffffffffffff"`, wantHint: EnvAccountID,
	}, {
		name: "unknown zone",
		edit: func(cfg *Config) { cfg.AccountID, cfg.ZoneID = "", strings.Repeat("e", 32) },
		call: listTokens, want: KindUnknownAccount, wantHint: EnvZoneID,
	}, {
		name: "invalid duration",
		call: func(c *Client) error {
			_, err := c.CreateToken(ctx, "x", "3d")
			return err
		},
		want: KindInvalid, wantText: "the API refused the request: duration",
	}, {
		name: "no route",
		edit: func(cfg *Config) { cfg.BaseURL = strings.Replace(cfg.BaseURL, "/v4", "/v0", 1) },
		call: listTokens, want: KindInvalid, wantText: "has no route", wantHint: EnvBaseURL,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv, tc.edit)
			e := requireKind(t, tc.call(c), tc.want, srv.APIToken(), readerAPIToken)
			if !strings.Contains(e.Error(), tc.wantText) {
				t.Errorf("error %q lacks %q", e, tc.wantText)
			}
			if !strings.Contains(e.Hint, tc.wantHint) || tc.wantHint != "" && e.Hint == "" {
				t.Errorf("hint %q lacks %q", e.Hint, tc.wantHint)
			}
		})
	}
}

func listTokens(c *Client) error {
	_, err := c.ListTokens(context.Background(), ListOptions{})
	return err
}

func TestTokenLimit(t *testing.T) {
	t.Parallel()
	world := testWorld()
	world.TokenLimit = 2 // the world already holds legacy-monitor
	srv := startEmulator(t, world)
	c := newClient(t, srv, nil)
	if _, err := c.CreateToken(t.Context(), "second", ""); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateToken(t.Context(), "third", "")
	e := requireKind(t, err, KindLimit)
	if !strings.Contains(e.Message, "limit of 2 service tokens") ||
		!strings.Contains(e.Hint, "cfst list") {
		t.Errorf("limit error %q, hint %q", e, e.Hint)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tokensPath := "/accounts/*/access/service_tokens"
	tests := []struct {
		name         string
		fault        emulator.Fault
		want         Kind // "" for success
		wantRequests int64
		wantWait     time.Duration
	}{
		{name: "429 asking for longer than the budget fails at once",
			fault: emulator.Fault{Status: 429, RetryAfter: 600}, want: KindRateLimited,
			wantRequests: 1, wantWait: 10 * time.Minute},
		{name: "429 within the budget is retried",
			fault:        emulator.Fault{Status: 429, RetryAfter: 1, Times: 1},
			wantRequests: 2},
		{name: "429 without Retry-After is retried until the retries run out",
			fault: emulator.Fault{Status: 429}, want: KindRateLimited, wantRequests: 3},
		{name: "503 once is retried",
			fault: emulator.Fault{Status: 503, Times: 1}, wantRequests: 2},
		{name: "503 every time fails after the retries",
			fault: emulator.Fault{Status: 503}, want: KindServer, wantRequests: 3},
		{name: "502 asking for longer than the budget fails at once",
			fault: emulator.Fault{Status: 502, RetryAfter: 3600}, want: KindServer,
			wantRequests: 1},
		{name: "409 is not retried",
			fault: emulator.Fault{Status: 409}, want: KindInvalid, wantRequests: 1},
	}
	srv := startEmulator(t, nil) // one emulator, so the cases run one after the other
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ClearFaults()
			tc.fault.Method, tc.fault.Path = http.MethodGet, tokensPath
			injectFault(t, srv, tc.fault)
			c := newClient(t, srv, func(cfg *Config) { cfg.Timeout = 30 * time.Second })
			var err error
			n := requestsDuring(srv, func() { err = listTokens(c) })
			if n != tc.wantRequests {
				t.Errorf("emulator saw %d requests, want %d", n, tc.wantRequests)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			e := requireKind(t, err, tc.want, srv.APIToken())
			if e.RetryAfter != tc.wantWait {
				t.Errorf("RetryAfter %s, want %s", e.RetryAfter, tc.wantWait)
			}
			if tc.wantWait > 0 && !strings.Contains(e.Error(), "retry in 10m0s") {
				t.Errorf("rate-limit error %q does not say how long to wait", e)
			}
		})
	}
}

func TestNoRetriesWhenDisabled(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	injectFault(t, srv, emulator.Fault{Status: 503})
	c := newClient(t, srv, func(cfg *Config) { cfg.MaxRetries = -1 })
	var err error
	if n := requestsDuring(srv, func() { err = listTokens(c) }); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if e := requireKind(t, err, KindServer); !strings.Contains(e.Message, "(1 attempt)") {
		t.Errorf("message %q", e.Message)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	injectFault(t, srv, emulator.Fault{Latency: time.Minute})
	c := newClient(t, srv, func(cfg *Config) { cfg.Timeout = 100 * time.Millisecond })
	var err error
	if n := requestsDuring(srv, func() { err = listTokens(c) }); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	e := requireKind(t, err, KindTimeout)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(e.Message, "100ms") {
		t.Errorf("timeout error %q does not wrap the deadline or name the budget", e)
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	injectFault(t, srv, emulator.Fault{Latency: time.Minute})
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.ListTokens(ctx, ListOptions{})
	requireKind(t, err, KindCanceled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t, nil)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := listener.Addr().String()
	listener.Close()

	tests := []struct {
		name     string
		edit     func(*Config)
		wantText string
	}{
		{"closed port", func(cfg *Config) {
			cfg.BaseURL, cfg.HTTPClient = "https://"+closedAddr+"/client/v4", nil
		}, "cannot reach " + closedAddr + ": connection refused"},
		{"untrusted certificate", func(cfg *Config) { cfg.HTTPClient = nil },
			"cannot verify the TLS certificate of " + srv.Addr()},
		{"unknown host", func(cfg *Config) {
			cfg.BaseURL = "https://api.cfst.invalid/client/v4"
			cfg.HTTPClient = dialFailing(&net.DNSError{Err: "no such host",
				Name: "api.cfst.invalid", IsNotFound: true})
		}, "cannot resolve api.cfst.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dials int
			c := newClient(t, srv, func(cfg *Config) {
				tc.edit(cfg)
				cfg.HTTPClient = countDials(cfg.HTTPClient, &dials)
			})
			e := requireKind(t, listTokens(c), KindUnreachable, srv.APIToken())
			if !strings.Contains(e.Error(), tc.wantText) || e.Hint == "" {
				t.Errorf("error %q (hint %q) lacks %q", e, e.Hint, tc.wantText)
			}
			if dials != 1 {
				t.Errorf("%d attempts, want 1: the failure cannot heal", dials)
			}
		})
	}
}

// dialFailing returns a client whose every connection attempt fails with err.
func dialFailing(err error) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		},
	}}
}

// countDials wraps client (the default client if nil) so that *n counts its requests.
func countDials(client *http.Client, n *int) *http.Client {
	if client == nil {
		client = defaultHTTPClient()
	}
	wrapped := *client
	base := client.Transport
	wrapped.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		*n++
		return base.RoundTrip(req)
	})
	return &wrapped
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
