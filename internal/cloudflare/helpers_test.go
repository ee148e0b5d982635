package cloudflare

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/secret"
)

// Extra API tokens that tests add to worlds.
const (
	readerAPIToken = "cfst-test-reader-token-not-a-secret"
	appsAPIToken   = "cfst-test-apps-token-not-a-secret"
)

// testWorld returns the default world with a token limit high enough for the tests, and
// API tokens with fewer permissions.
func testWorld() *emulator.World {
	w := emulator.DefaultWorld()
	w.TokenLimit = 100
	w.APITokens = append(w.APITokens,
		emulator.WorldAPIToken{Name: "reader", Value: emulator.NewSecret(readerAPIToken),
			Permissions: []string{emulator.PermServiceTokensRead}},
		emulator.WorldAPIToken{Name: "apps", Value: emulator.NewSecret(appsAPIToken),
			Permissions: []string{emulator.PermAppsRead}})
	return w
}

// startEmulator starts an emulator on world (testWorld if nil) and stops it when the
// test ends.
func startEmulator(t testing.TB, world *emulator.World) *emulator.Server {
	t.Helper()
	if world == nil {
		world = testWorld()
	}
	srv, err := emulator.Start(emulator.Config{World: world})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// emulatorConfig is a Config for srv at account scope, with short retry waits.
func emulatorConfig(srv *emulator.Server) Config {
	return Config{
		APIToken:     secret.New(srv.APIToken()),
		AccountID:    srv.AccountID(),
		BaseURL:      srv.URL,
		HTTPClient:   srv.Client(),
		RetryBackoff: 5 * time.Millisecond,
	}
}

// newClient returns a client for srv, after edit (if not nil) changes its Config.
func newClient(t testing.TB, srv *emulator.Server, edit func(*Config)) *Client {
	t.Helper()
	cfg := emulatorConfig(srv)
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// zoneScope makes a Config use srv's zone and no account.
func zoneScope(srv *emulator.Server) func(*Config) {
	return func(cfg *Config) { cfg.AccountID, cfg.ZoneID = "", srv.ZoneID() }
}

// injectFault adds f to srv.
func injectFault(t testing.TB, srv *emulator.Server, f emulator.Fault) {
	t.Helper()
	if err := srv.InjectFault(f); err != nil {
		t.Fatalf("inject fault: %v", err)
	}
}

// requireKind fails the test unless err is an *Error of kind want that reads like a user
// error: one line, lowercase, with no trace of the given secrets.
func requireKind(t testing.TB, err error, want Kind, secrets ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want an *Error of kind %q", err, err, want)
	}
	if e.Kind != want {
		t.Fatalf("got kind %q (%v; hint %q), want %q", e.Kind, e, e.Hint, want)
	}
	if !errors.Is(err, want) {
		t.Errorf("errors.Is(err, %q) is false", want)
	}
	checkUserText(t, e, secrets...)
	return e
}

// checkUserText fails the test if the error's text breaks the rules for user errors.
func checkUserText(t testing.TB, e *Error, secrets ...string) {
	t.Helper()
	text := e.Error()
	switch {
	case strings.ContainsAny(text, "\n\r"):
		t.Errorf("error text has several lines: %q", text)
	case text == "" || unicode.IsUpper([]rune(text)[0]):
		t.Errorf("error text does not start lowercase: %q", text)
	case strings.HasSuffix(text, "."):
		t.Errorf("error text ends with a period: %q", text)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, out := range []string{text, e.Hint, e.Message, e.Permission} {
			if strings.Contains(out, s) {
				t.Errorf("error text or hint holds a secret: %q / %q", text, e.Hint)
			}
		}
	}
}

// requestsDuring returns how many API requests srv received while do ran.
func requestsDuring(srv *emulator.Server, do func()) int64 {
	before := srv.APIRequestCount()
	do()
	return srv.APIRequestCount() - before
}
