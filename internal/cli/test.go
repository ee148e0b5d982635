package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport"
)

// The output formats of `cfst test` besides text and json.
const (
	formatJUnit    = "junit"
	formatMarkdown = "markdown"
)

// testOptions are the parsed flags and arguments of `cfst test`.
type testOptions struct {
	Args             []string
	Services         string
	Concurrency      int
	TimeoutPerTarget time.Duration
	Deadline         time.Duration
	CompareAnonymous bool
	Output           string
	Conn             connectionOptions
}

func newTestCmd(app *App) *cobra.Command {
	return testCommand(app, runTest)
}

// testCommand builds the command around run, so tests can check flag parsing alone.
func testCommand(app *App, run func(context.Context, *App, *testOptions) error) *cobra.Command {
	opts := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [TARGET...]",
		Short: "Test the service token against many protected services and say why each fails",
		Long:  testLongHelp,
		Example: `  cfst test jaeger.example.com https://ha.example.com/api/health
  cfst test --services services.yaml --output junit > cfst-test.xml
  cfst test --services hosts.txt --compare-anonymous --output markdown`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := opts.check(); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Services, "services", "",
		"read targets from `FILE` (YAML or one URL per line; - for stdin)")
	flags.IntVar(&opts.Concurrency, "concurrency", probe.DefaultConcurrency,
		"probe at most `N` targets at once")
	flags.DurationVar(&opts.TimeoutPerTarget, "timeout-per-target", probe.DefaultTimeout,
		"give up on one target after this long (a services file may set its own)")
	flags.DurationVar(&opts.Deadline, "deadline", 0,
		"stop the whole run after this long; targets still pending fail (0: no deadline)")
	flags.BoolVar(&opts.CompareAnonymous, "compare-anonymous", false,
		"also send each request without the token, to prove the token made the difference")
	flags.BoolVar(&opts.Conn.AllowHTTP, "allow-http", false,
		"send the credentials to plain http:// targets too (unsafe; prints a warning)")
	addConnectionFlags(flags, &opts.Conn)
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON, formatJUnit, formatMarkdown)
	return cmd
}

const testLongHelp = `Send one request with the service token to each target at once (up to --concurrency
in flight), and sort each answer into a class with a hint that names the likely cause:

  ok                 the expected answer (any 2xx unless a services file says otherwise)
  backend_down       Access let the token through; the origin failed (502, 503, 504, 52x)
  tunnel_down        no cloudflared connector for the hostname (530, error 1033)
  login_redirect     302 to the Access login: no Service Auth policy admits the token
  unauthenticated    401: the token cannot authenticate (strict mode), or the app answers 401
  forbidden          403 from Access: the token is not admitted (or invalid, outside strict)
  blocked_by_waf     403 from a WAF or bot rule (error 1010) before Access ran
  unexpected_status  some other answer, such as a redirect elsewhere (never followed)
  not_protected      no sign of Cloudflare, or --compare-anonymous succeeded without the token
  network_error      no HTTP answer: dns, connect, tls or timeout, named in the detail

Targets are hostnames (https is implied) or URLs, as arguments or in --services FILE: YAML
(a list of URLs, or of maps with url or host+path, method, expect, timeout, name) or one
URL per line. The token comes from .env or the environment (--prefix, 'cfst help
environment'); it goes only to each target's own host, over https unless --allow-http,
with TLS verified (SSL_CERT_FILE, --cacert), and never across a redirect.

Output: on a terminal a live progress line on stderr, then a table; piped, one line per
target in the order given ("✓ jaeger.example.com  ok  200  41ms", or a "✗" line with the
class, detail and hint). --output json prints an array of objects with the keys target,
class, status (0 when there was no HTTP answer), latency_ms, ray and hint; junit a JUnit
XML report for CI; markdown a table for a pull request or a chat. --verbose dumps every
request and response header to stderr with credentials redacted.

Exit codes: 0 when every target is ok; 8 when the token was accepted everywhere but some
backend or tunnel is down; 9 when any target rejected the token, was not protected,
answered unexpectedly or could not be reached; 2 for bad flags or targets.`

// check validates the flags that cobra cannot.
func (o *testOptions) check() error {
	hint := "run 'cfst test --help' for usage"
	switch {
	case len(o.Args) == 0 && o.Services == "":
		return usageError("name hostnames or URLs, or pass --services FILE",
			"cfst test needs targets")
	case o.Concurrency < 1:
		return usageError(hint, "--concurrency must be at least 1, got %d", o.Concurrency)
	case o.TimeoutPerTarget <= 0:
		return usageError(hint, "--timeout-per-target must be positive, got %s",
			o.TimeoutPerTarget)
	case o.Deadline < 0:
		return usageError(hint, "--deadline must not be negative, got %s", o.Deadline)
	}
	return nil
}

// runTest probes every target with the token of --prefix and reports the results.
func runTest(ctx context.Context, app *App, opts *testOptions) error {
	targets, err := app.testTargets(opts)
	if err != nil {
		return err
	}
	clientID, clientSecret, _, err := app.credentials()
	if err != nil {
		return err
	}
	app.warnPlainHTTP(targets, opts.Conn.AllowHTTP)
	prober, err := app.newTestProber(opts)
	if err != nil {
		return err
	}
	defer prober.Client.CloseIdleConnections()
	runCtx, cancel := withOptionalTimeout(ctx, opts.Deadline)
	defer cancel()
	// Refusals name the matched application and its policies when the API can be
	// read; the API is read only on the first refusal, so a clean run never calls it.
	prober.Annotate = app.policyAnnotator(runCtx)
	started := time.Now()
	creds := probe.Credentials{ClientID: clientID, Secret: clientSecret}
	results := app.collectResults(prober.Run(runCtx, targets, creds), len(targets),
		opts.Output == formatText && !app.Streams.OutTTY, opts.CompareAnonymous)
	elapsed := time.Since(started)
	if err := app.printTestReport(results, opts, elapsed); err != nil {
		return err
	}
	return testOutcome(ctx, results)
}

// testTargets parses the arguments and the services file, arguments first.
func (app *App) testTargets(opts *testOptions) ([]probe.Target, error) {
	targets, err := probe.ParseTargets(opts.Args)
	if err != nil {
		return nil, usageError("give a hostname such as app.example.com or an https URL",
			"%s", err)
	}
	if opts.Services == "" {
		return targets, nil
	}
	fromFile, err := app.loadServices(opts.Services)
	if err != nil {
		return nil, err
	}
	return append(targets, fromFile...), nil
}

// loadServices reads a services file, or stdin for "-".
func (app *App) loadServices(path string) ([]probe.Target, error) {
	hint := "fix the services file; 'cfst test --help' describes its format"
	if path != "-" {
		targets, err := probe.LoadServices(path)
		if err != nil {
			return nil, usageError(hint, "%s", err)
		}
		return targets, nil
	}
	data, err := io.ReadAll(app.Streams.In)
	if err != nil {
		return nil, fmt.Errorf("read services from stdin: %w", err)
	}
	targets, err := probe.ParseServices("stdin", data)
	if err != nil {
		return nil, usageError(hint, "%s", err)
	}
	return targets, nil
}

// warnPlainHTTP says on stderr which plain http targets will get the credentials.
func (app *App) warnPlainHTTP(targets []probe.Target, allowHTTP bool) {
	if !allowHTTP {
		return
	}
	var plain []string
	for _, target := range targets {
		if u, err := url.Parse(target.URL); err == nil && u.Scheme == "http" {
			plain = append(plain, u.Host)
		}
	}
	if len(plain) > 0 {
		app.notef("warning: --allow-http: the client secret goes unencrypted to %s",
			strings.Join(plain, ", "))
	}
}

// newTestProber builds the prober of a run: one shared client that follows no redirect,
// verifies TLS, and lets each target take its full --timeout-per-target.
func (app *App) newTestProber(opts *testOptions) (*probe.Prober, error) {
	client, err := app.longClient(opts.Conn, opts.TimeoutPerTarget)
	if err != nil {
		return nil, err
	}
	return &probe.Prober{
		Client:           client,
		Concurrency:      opts.Concurrency,
		Timeout:          opts.TimeoutPerTarget,
		CompareAnonymous: opts.CompareAnonymous,
		AllowHTTP:        opts.Conn.AllowHTTP,
		Now:              app.Now,
	}, nil
}

// longClient is app.httpClient with its timeouts raised to at least timeout, so that a
// caller's own, longer limit is the one that applies.
func (app *App) longClient(conn connectionOptions, timeout time.Duration) (*http.Client,
	error) {
	opts, err := app.transportOptions(conn)
	if err != nil {
		return nil, err
	}
	opts.Timeout = max(opts.Timeout, timeout)
	client, err := transport.NewClient(opts)
	if err != nil {
		return nil, usageError("check --cacert and "+envCertFile, "%s", err)
	}
	client.Transport = app.debugTransport(client.Transport)
	return client, nil
}

func withOptionalTimeout(ctx context.Context, d time.Duration) (context.Context,
	context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// testOutcome maps the results to cfst test's exit code: 0, 8 (degraded) or 9.
func testOutcome(ctx context.Context, results []probe.Result) error {
	if ctx.Err() != nil {
		return withCode(ExitCancelled, fmt.Errorf("interrupted"), "")
	}
	summary := probe.Summarize(results)
	switch summary.ExitClass() {
	case probe.ExitDegraded:
		down := summary.BackendDown + summary.TunnelDown
		return withCode(ExitDegraded, fmt.Errorf("the token was accepted everywhere, but "+
			"%d of %d targets %s a backend or tunnel down", down, summary.Total,
			plural(down, "has", "have")), "")
	case probe.ExitFailed:
		down := summary.BackendDown + summary.TunnelDown
		failed := summary.Total - summary.OK - down
		msg := fmt.Sprintf("%d of %d targets rejected the token, answered unexpectedly or "+
			"could not be reached", failed, summary.Total)
		if down > 0 {
			msg += fmt.Sprintf("; %d more %s a backend or tunnel down", down,
				plural(down, "has", "have"))
		}
		return withCode(ExitRejected, errors.New(msg), "")
	}
	return nil
}

// plural picks the singular form for n == 1.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
