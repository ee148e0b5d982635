package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cfst/cfst/internal/monitor"
)

// runMonitor serves until ctx ends, then stops gracefully.
func runMonitor(ctx context.Context, app *App, opts *monitorOptions) error {
	running, err := app.startMonitor(ctx, opts)
	if err != nil {
		return err
	}
	return running.wait(ctx)
}

// runningMonitor is a monitor that probes and serves.
type runningMonitor struct {
	app     *App
	server  *http.Server
	addr    net.Addr
	served  chan error
	stop    context.CancelFunc // stops the monitor and its reloads
	stopped chan struct{}      // closed when the monitor's Run and the reloads have returned
	clients monitorClients     // closed when stopped
}

// startMonitor reads the setup, binds the listener (so a busy port fails at once), and
// starts the monitor, its server and its reloads.
func (app *App) startMonitor(ctx context.Context, opts *monitorOptions) (*runningMonitor,
	error) {
	guard, err := app.monitorGuard(opts)
	if err != nil {
		return nil, err
	}
	clients, err := app.newMonitorClients(opts)
	if err != nil {
		return nil, err
	}
	setup, err := app.monitorSetup(opts, clients.api)
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("listen on %q: %w", opts.Listen, err),
			"choose another address with --listen, or port 0 for a free one")
	}
	app.warnPlainHTTP(setup.Config.Services, opts.Conn.AllowHTTP)
	mon, err := monitor.New(setup, monitor.Options{ProbeClient: clients.probes,
		WebhookClient: clients.webhooks, Shard: opts.Shard, Now: app.Now, Log: app.monitorLog})
	if err != nil {
		_ = listener.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	running := &runningMonitor{app: app, addr: listener.Addr(), served: make(chan error, 1),
		stop: stop, stopped: make(chan struct{}), clients: clients, server: &http.Server{
			Handler: guardMonitor(guard, mon.Handler()), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: quietServerLog()}}
	reloads := app.newMonitorReloader(opts, mon, setup, clients.api)
	go func() {
		defer close(running.stopped)
		var reloading sync.WaitGroup
		reloading.Go(func() { reloads.run(runCtx) })
		_ = mon.Run(runCtx)
		reloading.Wait()
	}()
	go func() { running.served <- running.server.Serve(listener) }()
	app.announceMonitor(running.addr, opts, setup)
	return running, nil
}

// monitorClients are the HTTP clients of a monitor, kept for its whole life.
type monitorClients struct {
	probes   *http.Client // like that of cfst test
	api      *http.Client // the Cloudflare API, like that of every command
	webhooks *http.Client // follows no redirect
}

// newMonitorClients builds the clients; the configuration's probe timeout applies
// through the prober, so the probe client allows the longest a configuration may set.
func (app *App) newMonitorClients(opts *monitorOptions) (monitorClients, error) {
	probes, err := app.longClient(opts.Conn, maxMonitorProbeTimeout)
	if err != nil {
		return monitorClients{}, err
	}
	api, err := app.httpClient(connectionOptions{})
	if err != nil {
		return monitorClients{}, err
	}
	webhooks := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return monitorClients{probes: probes, api: api, webhooks: webhooks}, nil
}

func (c monitorClients) closeIdleConnections() {
	for _, client := range []*http.Client{c.probes, c.api, c.webhooks} {
		client.CloseIdleConnections()
	}
}

// monitorLog writes one of the monitor's lines on stderr, with the time, scrubbed of every
// secret the run has seen.
func (app *App) monitorLog(line string) {
	app.writeErr(app.secrets.Scrub(fmt.Sprintf("%s cfst monitor: %s\n",
		app.Now().UTC().Format(time.RFC3339), oneLine(line))))
}

// announceMonitor tells stderr where the monitor serves and what it watches.
func (app *App) announceMonitor(addr net.Addr, opts *monitorOptions, setup monitor.Setup) {
	tokens := "tokens watched through the API"
	switch {
	case !opts.Shard.First():
		tokens = "tokens watched by shard 0"
	case setup.API == nil:
		tokens = "tokens not watched (no CLOUDFLARE_API_TOKEN)"
	}
	app.notef("cfst monitor: listening on http://%s/ (status page; /metrics, /api/status, "+
		"/healthz)", addr)
	app.notef("cfst monitor: %d services, shard %s, every %s; %s", len(setup.Config.Services),
		opts.Shard, setup.Config.Interval, tokens)
}

// wait serves until ctx ends or the server fails, then stops the monitor and finishes the
// requests in flight.
func (r *runningMonitor) wait(ctx context.Context) error {
	failed := serveUntilDone(ctx, r.server, r.served, "monitor server",
		monitorShutdownTimeout, func() { r.app.notef("cfst monitor: stopping") })
	r.stop()
	<-r.stopped
	r.clients.closeIdleConnections()
	return failed
}
