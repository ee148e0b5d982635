package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport"
)

// ExitHTTPError is the exit code of `cfst curl --fail` for an HTTP status of 400 or
// more: 22, as curl uses.
const ExitHTTPError = 22

// curlOptions are the parsed flags and argument of `cfst curl`.
type curlOptions struct {
	URL        string
	Method     string
	Headers    []string
	Data       []string
	DataBinary []string
	Include    bool
	Head       bool
	OutFile    string
	// Silent is -s. ShowError is -S: with -s, errors still go to stderr, as with curl -sS;
	// notes and warnings do not.
	Silent    bool
	ShowError bool
	Fail      bool
	Conn      connectionOptions
}

func newCurlCmd(app *App) *cobra.Command {
	return curlCommand(app, runCurl)
}

// curlCommand builds the command around run, so tests can check flag parsing alone.
func curlCommand(app *App, run func(context.Context, *App, *curlOptions) error) *cobra.Command {
	opts := &curlOptions{}
	cmd := &cobra.Command{
		Use:   "curl URL",
		Short: "Send one request with the service token, like curl, without exposing it",
		Long: `Send one HTTP request with the service token of --prefix and write the response body
to stdout, with the options of curl people use. The secret never appears in a process
argument (cfst does not run curl), in shell history or in --verbose output.

Like cfst test: https only unless --allow-http, TLS verified (SSL_CERT_FILE, --cacert),
--connect-to as in curl (also CFST_CONNECT_TO), the credentials go only to the URL's host,
and no redirect is followed. CF-Access-Client-* headers given with -H are dropped: the
token comes from .env or the environment.

When the answer is not what a working token gets (a login redirect, a 401 or 403 from
Access, a down backend or tunnel), a note with its class and a hint goes to stderr
(unless -s). -s silences notes, warnings and errors alike; -sS, as in curl, keeps the
errors: the reason for exit 7 or 22.

Exit codes: 0 when an HTTP answer arrived, whatever its status; 22 with --fail when the
status is 400 or more (as curl; the body is not written); 7 when no answer arrived
(dns, connect, tls or timeout); 5 for a plain http URL without --allow-http; 2 for bad
flags.`,
		Example: `  cfst curl https://jaeger.example.com/api/services
  cfst curl -X POST -H 'Content-Type: application/json' -d @event.json https://webhook.example.com/
  cfst curl -sS --fail -o report.csv https://ha.example.com/export`,
		Args: exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&opts.Method, "request", "X", "", "HTTP `method` (default GET, POST with data)")
	flags.StringArrayVarP(&opts.Headers, "header", "H", nil,
		"extra header 'Name: value' (repeatable; 'Name:' removes one)")
	flags.StringArrayVarP(&opts.Data, "data", "d", nil,
		"send `DATA` as the body, @FILE to read a file without its newlines (repeatable, "+
			"joined with &)")
	flags.StringArrayVar(&opts.DataBinary, "data-binary", nil,
		"send `DATA` or @FILE as the body exactly as it is")
	flags.BoolVarP(&opts.Include, "include", "i", false,
		"write the response headers before the body")
	flags.BoolVarP(&opts.Head, "head", "I", false, "send HEAD and write the response headers only")
	flags.StringVarP(&opts.OutFile, "output", "o", "",
		"write the body to `FILE` instead of stdout")
	flags.BoolVarP(&opts.Silent, "silent", "s", false, "write no notes or errors to stderr")
	flags.BoolVarP(&opts.ShowError, "show-error", "S", false,
		"with -s, still write errors to stderr")
	flags.BoolVarP(&opts.Fail, "fail", "f", false,
		"exit 22 without writing the body when the HTTP status is 400 or more")
	flags.BoolVar(&opts.Conn.AllowHTTP, "allow-http", false,
		"send the credentials over plain http (unsafe; prints a warning)")
	addConnectionFlags(flags, &opts.Conn)
	return cmd
}

// runCurl sends the request and writes the answer.
func runCurl(ctx context.Context, app *App, opts *curlOptions) error {
	target, err := probe.ParseTarget(opts.URL)
	if err != nil {
		return usageError("give an https URL such as https://app.example.com/path", "%s", err)
	}
	req, err := app.newCurlRequest(ctx, opts, target.URL)
	if err != nil {
		return err
	}
	if err := app.checkCurlScheme(req, opts); err != nil {
		return err
	}
	client, err := app.curlClient(opts, req.URL.Hostname())
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return app.curlNetworkError(opts, err)
	}
	defer resp.Body.Close()
	return app.writeCurlResponse(target, resp, opts)
}

// quietErrors reports whether errors go unsaid: -s without -S.
func (opts *curlOptions) quietErrors() bool { return opts.Silent && !opts.ShowError }

// checkCurlScheme refuses plain http without --allow-http, and warns with it.
func (app *App) checkCurlScheme(req *http.Request, opts *curlOptions) error {
	if req.URL.Scheme != "http" {
		return nil
	}
	if !opts.Conn.AllowHTTP {
		return withCode(ExitRefused, fmt.Errorf("refusing to send the client secret over "+
			"plain http to %q", req.URL.Host), "use an https URL, or pass --allow-http to "+
			"accept the risk")
	}
	if !opts.Silent {
		app.notef("warning: --allow-http: the client secret goes unencrypted to %s",
			req.URL.Host)
	}
	return nil
}

// curlClient sends the token to host only, follows no redirect, and bounds the wait for
// response headers by --timeout but not the body, which may be a long download.
func (app *App) curlClient(opts *curlOptions, host string) (*http.Client, error) {
	options, err := app.transportOptions(opts.Conn)
	if err != nil {
		return nil, err
	}
	base, err := transport.NewTransport(options)
	if err != nil {
		return nil, usageError("check --cacert and "+envCertFile, "%s", err)
	}
	clientID, clientSecret, _, err := app.credentials()
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport: &transport.CredentialTransport{
			Base:        app.debugTransport(base),
			Credentials: transport.Credentials{ClientID: clientID, Secret: clientSecret},
			Hosts:       []string{host},
			AllowHTTP:   opts.Conn.AllowHTTP,
		},
		CheckRedirect: transport.NoRedirects,
	}, nil
}

// curlNetworkError explains a request that got no HTTP answer; exit 7.
func (app *App) curlNetworkError(opts *curlOptions, err error) error {
	detail, hint := probe.DescribeError(err, app.Timeout)
	err = withCode(ExitUnreachable, fmt.Errorf("%s", app.secrets.Scrub(detail)), hint)
	if opts.quietErrors() {
		return withCode(ExitUnreachable, errQuiet, "")
	}
	return err
}

// writeCurlResponse writes the headers (-i, -I) and the body (stdout or -o), then notes
// on stderr what the answer means when it is not what a working token gets.
func (app *App) writeCurlResponse(target probe.Target, resp *http.Response,
	opts *curlOptions) error {
	if opts.Fail && resp.StatusCode >= 400 {
		return app.curlHTTPFailure(target, resp, opts)
	}
	out, closeOut, err := app.curlOutput(opts)
	if err != nil {
		return err
	}
	if opts.Include || opts.Head {
		writeResponseHeaders(out, resp)
	}
	start := &limitedBuffer{limit: probe.BodyLimit}
	if !opts.Head {
		if _, err := io.Copy(io.MultiWriter(out, start), resp.Body); err != nil {
			closeOut()
			return fmt.Errorf("read the response body: %w", err)
		}
	}
	if err := closeOut(); err != nil {
		return err
	}
	app.noteCurlClass(probe.Classify(target, resp, start.Bytes()), opts)
	return nil
}

// curlHTTPFailure is --fail's answer to a status of 400 or more: no body, exit 22.
func (app *App) curlHTTPFailure(target probe.Target, resp *http.Response,
	opts *curlOptions) error {
	if opts.quietErrors() {
		return withCode(ExitHTTPError, errQuiet, "")
	}
	body, _ := transport.ReadLimited(resp.Body, probe.BodyLimit)
	result := probe.Classify(target, resp, body)
	return withCode(ExitHTTPError, fmt.Errorf("the server answered HTTP %d (%s: %s)",
		resp.StatusCode, result.Class, app.secrets.Scrub(result.Detail)),
		app.secrets.Scrub(result.Hint))
}

// noteCurlClass tells stderr what a failing answer means.
func (app *App) noteCurlClass(result probe.Result, opts *curlOptions) {
	if opts.Silent || result.Class == probe.ClassOK {
		return
	}
	app.notef("cfst: %s: %s", result.Class, app.secrets.Scrub(result.Detail))
	if result.Hint != "" {
		app.notef("hint: %s", app.secrets.Scrub(result.Hint))
	}
}

// curlOutput is where the body goes: stdout, or the -o file (created or truncated).
func (app *App) curlOutput(opts *curlOptions) (io.Writer, func() error, error) {
	if opts.OutFile == "" || opts.OutFile == "-" {
		return app.Streams.Out, func() error { return nil }, nil
	}
	file, err := os.Create(opts.OutFile)
	if err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("open -o file: %w", err), "")
	}
	return file, file.Close, nil
}

// writeResponseHeaders writes the status line and headers, sorted, as curl -i does.
func writeResponseHeaders(w io.Writer, resp *http.Response) {
	var text strings.Builder
	fmt.Fprintf(&text, "%s %s\r\n", resp.Proto, resp.Status)
	_ = resp.Header.Write(&text)
	text.WriteString("\r\n")
	_, _ = io.WriteString(w, text.String())
}

// limitedBuffer keeps the first limit bytes written to it and discards the rest.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
