package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// Defaults of `cfst proxy`.
const (
	defaultProxyListen   = "127.0.0.1:8080"
	defaultReloadEvery   = 2 * time.Second
	proxyShutdownTimeout = 30 * time.Second
)

// proxyOptions are the parsed flags of `cfst proxy`.
type proxyOptions struct {
	Listen           string
	To               []string
	ListenPublic     bool
	AuthTokenFile    string
	AllowClients     []string
	PassAccessCookie bool
	ReloadEvery      time.Duration
	Conn             connectionOptions
}

func newProxyCmd(app *App) *cobra.Command {
	return proxyCommand(app, runProxy)
}

// proxyCommand builds the command around run, so tests can check flag parsing alone.
func proxyCommand(app *App, run func(context.Context, *App, *proxyOptions) error) *cobra.Command {
	opts := &proxyOptions{}
	cmd := &cobra.Command{
		Use:   "proxy --to https://HOST [--to ...]",
		Short: "Run a local proxy that adds the service token for tools that cannot",
		Long:  proxyLongHelp,
		Example: `  cfst proxy --to https://prometheus.example.com
  cfst proxy --listen 127.0.0.1:9000 --to https://jaeger.example.com --to https://ha.example.com
  cfst proxy --listen 0.0.0.0:8080 --listen-public --auth-token-file proxy.token --to https://grafana.example.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(opts.To) == 0 {
				return usageError("name each upstream: --to https://app.example.com",
					"cfst proxy needs at least one --to")
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Listen, "listen", defaultProxyListen,
		"`address` to listen on (plain http; port 0 picks a free one)")
	flags.StringArrayVar(&opts.To, "to", nil,
		"upstream `URL` that gets the token, such as https://app.example.com (repeatable)")
	flags.BoolVar(&opts.ListenPublic, "listen-public", false,
		"allow a --listen address other than loopback (needs --auth-token-file or --allow-client)")
	flags.StringVar(&opts.AuthTokenFile, "auth-token-file", "",
		"require 'Authorization: Bearer TOKEN' with the token in this `FILE`")
	flags.StringArrayVar(&opts.AllowClients, "allow-client", nil,
		"accept clients from this `CIDR` only, such as 10.0.0.0/8 (repeatable)")
	flags.BoolVar(&opts.PassAccessCookie, "pass-access-cookie", false,
		"pass the CF_Authorization cookie of Access back to clients (dropped by default)")
	flags.DurationVar(&opts.ReloadEvery, "reload-every", defaultReloadEvery,
		"check .env for new credentials this often")
	flags.BoolVar(&opts.Conn.AllowHTTP, "allow-http", false,
		"allow plain http:// upstreams, which get the secret unencrypted (prints a warning)")
	addConnectionFlags(flags, &opts.Conn)
	return cmd
}

const proxyLongHelp = `Listen on a local address and forward each request to one of the --to upstreams with
the service token added, so that tools which cannot set headers (a browser, a Prometheus
scrape, a CLI) reach services behind Access. No other host ever gets the token.

Routing, tried in this order:
  by Host     a request whose Host header is an upstream's hostname goes there, path
              unchanged: point the name at the proxy (/etc/hosts, curl --connect-to)
  by path     http://127.0.0.1:8080/jaeger.example.com/api/traces goes to
              https://jaeger.example.com/api/traces; redirects within the upstream are
              rewritten to stay under /jaeger.example.com/
  default     with a single --to, every other request goes to it

Safety: the proxy listens on loopback unless --listen-public, which also needs
--auth-token-file (clients send 'Authorization: Bearer TOKEN' or 'Proxy-Authorization:
Bearer TOKEN'; the header is not forwarded) or --allow-client CIDR, or both (then both
apply). On loopback, requests must name localhost, a loopback address or an upstream in
their Host header (against DNS rebinding), and browser requests from other sites are
refused. Client-sent CF-Access-* headers and CF_Authorization cookies are dropped; the
CF_Authorization cookie Access sets is not passed back unless --pass-access-cookie.
Redirects are passed to the client, never followed by the proxy.

Responses stream (server-sent events, large downloads) and websockets pass through. Each
request is logged on stderr: method, path, status and the upstream's latency, never a
header or a query string.

The credentials are read again whenever the .env file changes (checked every
--reload-every by its size, time and inode; no restart after 'cfst rotate'). Credentials
from the environment are fixed for the life of the process.

SIGINT or SIGTERM stop the proxy: it stops accepting connections and finishes the
requests in flight (for up to 30s) before it exits.`

// runProxy serves until ctx ends, then shuts down gracefully.
func runProxy(ctx context.Context, app *App, opts *proxyOptions) error {
	running, err := app.startProxy(ctx, opts)
	if err != nil {
		return err
	}
	return running.wait(ctx)
}

// runningProxy is a proxy that accepts connections.
type runningProxy struct {
	proxy  *accessProxy
	server *http.Server
	addr   net.Addr
	served chan error
	stop   context.CancelFunc
}

// startProxy checks the options, binds the listener (so a busy port fails at once) and
// starts serving and watching .env.
func (app *App) startProxy(ctx context.Context, opts *proxyOptions) (*runningProxy, error) {
	if err := checkListen(opts); err != nil {
		return nil, err
	}
	proxy, err := app.newAccessProxy(opts)
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("listen on %q: %w", opts.Listen, err),
			"choose another address with --listen, or port 0 for a free one")
	}
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	running := &runningProxy{proxy: proxy, addr: listener.Addr(), served: make(chan error, 1),
		stop: stop, server: &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: quietServerLog()}}
	go proxy.creds.watch(watchCtx, opts.ReloadEvery)
	go func() { running.served <- running.server.Serve(listener) }()
	proxy.announce(running.addr)
	return running, nil
}

// wait serves until ctx ends or the server fails, then finishes requests in flight.
func (r *runningProxy) wait(ctx context.Context) error {
	defer r.stop()
	defer r.proxy.closeIdleConnections()
	return serveUntilDone(ctx, r.server, r.served, "proxy", proxyShutdownTimeout, func() {
		r.proxy.app.notef("cfst proxy: stopping; finishing the requests in flight")
	})
}
