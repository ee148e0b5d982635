package cli

// This file resolves cfst's settings for every command. Each setting comes from, in order,
// its flag, the environment (App.Getenv) and the .env file (--env-file, default ./.env):
//
//	app.apiClient()        a Cloudflare API client; errors carry exit codes and hints
//	app.credentials()      the service token of --prefix, from the environment or .env
//	app.credentialKeys()   the .env variable names of --prefix
//	app.loadEnvFile()      the .env file, parsed; a missing file is empty
//	app.httpClient(conn)   an HTTP client for protected hostnames (--cacert, --connect-to)
//	app.debugf, app.debugEnabled   --verbose / CFST_DEBUG output on stderr, scrubbed
//
// Secrets never come from flags, so they stay out of process listings and shell history.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// Variables cfst reads besides those package cloudflare names.
const (
	envDebug    = "CFST_DEBUG"
	envCertFile = "SSL_CERT_FILE"
)

// Where a setting came from, as messages name it.
const (
	sourceFlag        = "flag"
	sourceEnvironment = "environment"
)

// setting returns the value of key from the environment, else from the .env file, and
// says where it came from ("environment" or the .env path). A missing key gives "".
func (app *App) setting(key string) (value, source string, err error) {
	if value = strings.TrimSpace(app.Getenv(key)); value != "" {
		return value, sourceEnvironment, nil
	}
	file, err := app.loadEnvFile()
	if err != nil {
		return "", "", err
	}
	value, _ = file.Get(key)
	return strings.TrimSpace(value), file.Path(), nil
}

// loadEnvFile reads the .env file named by --env-file. A missing file gives an empty
// File that remembers the path, so that commands can write it. It is read afresh on each
// call: a command that edits the file loads it once and saves that same File.
func (app *App) loadEnvFile() (*dotenv.File, error) {
	file, err := dotenv.Load(app.envFilePath())
	if err != nil {
		var syntaxErr *dotenv.SyntaxError
		if errors.As(err, &syntaxErr) {
			return nil, usageError("fix that line, or point --env-file at another file",
				"%s", err)
		}
		return nil, withCode(ExitUsage, err, "check --env-file")
	}
	return file, nil
}

// envFilePath is --env-file, ".env" when unset.
func (app *App) envFilePath() string {
	if app.EnvFile == "" {
		return ".env"
	}
	return app.EnvFile
}

// credentialKeys returns the variable names that hold the token of --prefix.
func (app *App) credentialKeys() (dotenv.Keys, error) {
	keys, err := dotenv.KeysFor(app.Prefix)
	if err != nil {
		return dotenv.Keys{}, usageError("--prefix CI gives CI_CLIENT_ID and CI_CLIENT_SECRET",
			"%s", err)
	}
	return keys, nil
}

// credentials returns the service token cfst presents to protected hostnames: the pair of
// --prefix variables from the environment when either is set there, else from the .env
// file. The pair is never mixed across sources. source says where it came from. A secret
// found is registered with the app's scrubber. A missing pair is a usage error with a hint.
func (app *App) credentials() (clientID string, clientSecret secret.Secret, source string,
	err error) {
	keys, err := app.credentialKeys()
	if err != nil {
		return "", secret.Secret{}, "", err
	}
	creds, source, err := app.readCredentials(keys)
	if err != nil {
		return "", secret.Secret{}, "", err
	}
	app.secrets.Add(creds.ClientSecret)
	return creds.ClientID, creds.ClientSecret, source, nil
}

func (app *App) readCredentials(keys dotenv.Keys) (dotenv.Credentials, string, error) {
	id, sec := app.Getenv(keys.ClientID), app.Getenv(keys.ClientSecret)
	if id != "" || sec != "" {
		if id == "" || sec == "" {
			return dotenv.Credentials{}, "", usageError(
				"set both "+keys.ClientID+" and "+keys.ClientSecret+", or neither",
				"only one of %s and %s is set in the environment", keys.ClientID,
				keys.ClientSecret)
		}
		return dotenv.Credentials{ClientID: id, ClientSecret: secret.New(sec)},
			sourceEnvironment, nil
	}
	file, err := app.loadEnvFile()
	if err != nil {
		return dotenv.Credentials{}, "", err
	}
	creds, err := file.Credentials(keys)
	if errors.Is(err, dotenv.ErrNotSet) {
		return dotenv.Credentials{}, "", usageError(
			"create a token with 'cfst create NAME', or set "+keys.ClientID+" and "+
				keys.ClientSecret, "no service token: %s and %s are not set in the "+
				"environment or in %s", keys.ClientID, keys.ClientSecret, file.Path())
	}
	return creds, file.Path(), err
}

// apiSettings are the settings of the Cloudflare API client.
type apiSettings struct {
	Token     secret.Secret
	AccountID string
	ZoneID    string
	BaseURL   string
}

// resolveAPISettings reads the API token, scope and base URL. --zone given without
// --account selects zone scope even when CLOUDFLARE_ACCOUNT_ID is set elsewhere.
func (app *App) resolveAPISettings() (apiSettings, error) {
	var s apiSettings
	token, _, err := app.setting(cloudflare.EnvAPIToken)
	if err != nil {
		return s, err
	}
	s.Token = secret.New(token)
	app.secrets.Add(s.Token)
	if s.BaseURL, _, err = app.setting(cloudflare.EnvBaseURL); err != nil {
		return s, err
	}
	s.AccountID, s.ZoneID, err = app.resolveScope()
	return s, err
}

func (app *App) resolveScope() (accountID, zoneID string, err error) {
	if app.AccountID != "" && app.ZoneID != "" {
		return "", "", usageError("pass one of them", "--account and --zone exclude each other")
	}
	if app.AccountID != "" || app.ZoneID != "" {
		return app.AccountID, app.ZoneID, nil
	}
	if accountID, _, err = app.setting(cloudflare.EnvAccountID); err != nil || accountID != "" {
		return accountID, "", err
	}
	zoneID, _, err = app.setting(cloudflare.EnvZoneID)
	return "", zoneID, err
}

// apiClient returns a client for the Cloudflare API, configured from the settings. A
// missing API token is an auth error (exit 3), a missing account a usage error (exit 2),
// both with a hint naming the variable to set.
func (app *App) apiClient() (*cloudflare.Client, error) {
	settings, err := app.resolveAPISettings()
	if err != nil {
		return nil, err
	}
	if settings.Token.IsZero() {
		return nil, withCode(ExitAuth, errors.New("no Cloudflare API token"),
			"set "+cloudflare.EnvAPIToken+" in the environment or in "+app.envFilePath()+
				"; create one at dash.cloudflare.com/profile/api-tokens")
	}
	if settings.AccountID == "" && settings.ZoneID == "" {
		return nil, usageError("set "+cloudflare.EnvAccountID+" or pass --account ID "+
			"(or --zone ID for zone-scoped tokens)", "no Cloudflare account")
	}
	httpClient, err := app.httpClient(connectionOptions{})
	if err != nil {
		return nil, err
	}
	client, err := cloudflare.New(cloudflare.Config{
		APIToken:   settings.Token,
		AccountID:  settings.AccountID,
		ZoneID:     settings.ZoneID,
		BaseURL:    settings.BaseURL,
		HTTPClient: httpClient,
		Timeout:    app.Timeout,
	})
	if err != nil {
		return nil, apiError(err)
	}
	return client, nil
}

// connectionOptions are the flags of commands that reach hostnames behind Access. Add them
// to a command with addConnectionFlags; app.httpClient adds the environment's settings.
type connectionOptions struct {
	// CAFile is --cacert: a PEM bundle trusted besides the system roots and SSL_CERT_FILE.
	CAFile string
	// ConnectTo is --connect-to, curl's HOST1:PORT1:HOST2:PORT2; CFST_CONNECT_TO follows.
	ConnectTo transport.ConnectToList
	// AllowHTTP lets credentials go over plain http (--allow-http), for commands that
	// offer it.
	AllowHTTP bool
}

// addConnectionFlags adds --cacert and --connect-to to flags.
func addConnectionFlags(flags *pflag.FlagSet, opts *connectionOptions) {
	flags.StringVar(&opts.CAFile, "cacert", "",
		"trust the CA certificates in this PEM `file` (also SSL_CERT_FILE)")
	flags.Var(&opts.ConnectTo, "connect-to",
		"connect to HOST2:PORT2 instead of HOST1:PORT1, as curl does (also CFST_CONNECT_TO)")
}

// httpClient returns an HTTP client that verifies TLS against the system roots,
// SSL_CERT_FILE and --cacert, routes connections by --connect-to then CFST_CONNECT_TO,
// follows no redirect, gives up after --timeout, and dumps each exchange to stderr,
// credentials redacted, when debugging is on.
func (app *App) httpClient(conn connectionOptions) (*http.Client, error) {
	opts, err := app.transportOptions(conn)
	if err != nil {
		return nil, err
	}
	client, err := transport.NewClient(opts)
	if err != nil {
		return nil, usageError("check --cacert and "+envCertFile, "%s", err)
	}
	client.Transport = app.debugTransport(client.Transport)
	return client, nil
}

// transportOptions turns connection flags and the environment into transport.Options.
// SSL_CERT_FILE is read through App.Getenv, so in-process runs see their own environment.
func (app *App) transportOptions(conn connectionOptions) (transport.Options, error) {
	envRules, err := transport.ConnectToFromEnv(app.Getenv)
	if err != nil {
		return transport.Options{}, usageError("write HOST1:PORT1:HOST2:PORT2 entries, "+
			"separated by commas", "%s", err)
	}
	roots, err := app.rootCAs()
	if err != nil {
		return transport.Options{}, err
	}
	return transport.Options{
		CAFile:    conn.CAFile,
		RootCAs:   roots,
		ConnectTo: append(append([]transport.ConnectTo{}, conn.ConnectTo...), envRules...),
		Timeout:   app.Timeout,
		AllowHTTP: conn.AllowHTTP,
		UserAgent: "cfst/" + version(),
	}, nil
}

// debugEnabled reports whether --verbose or CFST_DEBUG (any value but "", "0" or
// "false") asks for debug output.
func (app *App) debugEnabled() bool {
	value := strings.ToLower(strings.TrimSpace(app.Getenv(envDebug)))
	return app.Verbose || value != "" && value != "0" && value != "false"
}

// debugf writes one debug line to stderr when debugging is on, scrubbed of every secret
// the run has seen.
func (app *App) debugf(format string, args ...any) {
	if !app.debugEnabled() {
		return
	}
	line := fmt.Sprintf(format, args...)
	app.writeErr(app.secrets.Scrub("debug: " + strings.TrimRight(line, "\n") + "\n"))
}

// writeErr writes text to stderr under a lock, so concurrent debug dumps do not mix.
func (app *App) writeErr(text string) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	fmt.Fprint(app.Streams.Err, text)
}

var stderrMu sync.Mutex

// debugTransport wraps rt so that, when debugging is on, every exchange's method, URL,
// status and headers go to stderr with credentials redacted (transport.DumpExchange) and
// every known secret scrubbed. Bodies are never dumped: API answers carry client secrets.
func (app *App) debugTransport(rt http.RoundTripper) http.RoundTripper {
	if !app.debugEnabled() {
		return rt
	}
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		var dump strings.Builder
		transport.DumpExchange(&dump, req, resp, &app.secrets)
		if err != nil {
			dump.WriteString("< error: " + app.secrets.Scrub(err.Error()) + "\n")
		}
		app.writeErr(dump.String())
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// userConfigDir is os.UserConfigDir computed from App.Getenv, so tests can move it:
// $XDG_CONFIG_HOME or $HOME/.config on Linux and other Unix systems.
func (app *App) userConfigDir() (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		return os.UserConfigDir()
	}
	if dir := app.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return dir, nil
	}
	home := app.Getenv("HOME")
	if home == "" {
		return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is defined")
	}
	return filepath.Join(home, ".config"), nil
}

// recoveryDir is where secrets go that could not be written to .env.
func (app *App) recoveryDir() (string, error) {
	dir, err := app.userConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "cfst", "recovered"), nil
}

// rootCAs returns the system roots plus the certificates in SSL_CERT_FILE as App.Getenv
// sees it, for transport.Options.RootCAs.
func (app *App) rootCAs() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	path := app.Getenv(envCertFile)
	if path == "" {
		return pool, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("point "+envCertFile+" at a PEM file of CA certificates",
			"read %s: %w", envCertFile, err)
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, usageError("point "+envCertFile+" at a PEM file of CA certificates",
			"%s file %q holds no PEM certificate", envCertFile, path)
	}
	return pool, nil
}

// resolveToken returns an API client and the token ref names: an id, a client id or a
// name. An unknown or ambiguous ref is an error with its exit code and hint.
func (app *App) resolveToken(ctx context.Context, ref string) (*cloudflare.Client,
	cloudflare.Token, error) {
	client, err := app.apiClient()
	if err != nil {
		return nil, cloudflare.Token{}, err
	}
	tok, err := findToken(ctx, client, ref)
	return client, tok, err
}

// findToken is resolveToken with a client at hand.
func findToken(ctx context.Context, client *cloudflare.Client, ref string) (cloudflare.Token,
	error) {
	tok, err := client.ResolveToken(ctx, ref)
	return tok, apiError(err)
}

// accountClient returns an API client for a command that exists only at account scope
// (refresh, rotate) and the token ref names.
func (app *App) accountClient(ctx context.Context, command, ref string) (*cloudflare.Client,
	cloudflare.Token, error) {
	client, err := app.apiClient()
	if err == nil {
		err = requireAccount(client, command)
	}
	if err != nil {
		return nil, cloudflare.Token{}, err
	}
	tok, err := findToken(ctx, client, ref)
	return client, tok, err
}

// requireAccount refuses an operation that Cloudflare offers only at account scope
// (refresh, rotate) when the client is zone-scoped, before any request.
func requireAccount(client *cloudflare.Client, command string) error {
	if client.AccountID() != "" {
		return nil
	}
	return usageError("set "+cloudflare.EnvAccountID+" or pass --account ID; Cloudflare "+
		"offers "+command+" only for account-scoped tokens", "%s needs an account", command)
}
