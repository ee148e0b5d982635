package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/monitor"
	"github.com/cfst/cfst/internal/probe"
)

// Defaults of `cfst monitor`.
const (
	defaultMonitorListen   = "127.0.0.1:9464"
	monitorShutdownTimeout = 10 * time.Second
	// maxMonitorProbeTimeout bounds the probe client, whatever timeout a reloaded
	// configuration sets; each probe's own limit is the configuration's.
	maxMonitorProbeTimeout = 5 * time.Minute
)

// monitorOptions are the parsed flags and arguments of `cfst monitor`.
type monitorOptions struct {
	Config       string
	Services     string
	Args         []string
	Listen       string
	ListenPublic bool
	AllowClients []string
	Shard        monitor.Shard
	Interval     time.Duration
	ReloadEvery  time.Duration
	Conn         connectionOptions
	// stdinTargets are the targets of the command line with --services -, read when the
	// monitor starts; see monitorTargets.
	stdinTargets []probe.Target
}

func newMonitorCmd(app *App) *cobra.Command {
	return monitorCommand(app, runMonitor)
}

// monitorCommand builds the command around run, so tests can check flag parsing alone.
func monitorCommand(app *App, run func(context.Context, *App, *monitorOptions) error,
) *cobra.Command {
	opts := &monitorOptions{}
	var shard string
	cmd := &cobra.Command{
		Use:   "monitor [--config FILE | --services FILE | TARGET...]",
		Short: "Probe services and watch tokens continuously; serve metrics and a status page",
		Long:  monitorLongHelp,
		Example: `  cfst monitor --config monitor.yaml
  cfst monitor --interval 1m jaeger.example.com https://ha.example.com/api/health
  cfst monitor --config monitor.yaml --shard 1/3 --listen 0.0.0.0:9464 --listen-public`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := opts.check(cmd, shard); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Config, "config", "", "read the monitor's configuration from `FILE`")
	flags.StringVar(&opts.Services, "services", "",
		"without --config: probe the targets of `FILE` (as cfst test --services)")
	flags.StringVar(&opts.Listen, "listen", defaultMonitorListen,
		"`address` to serve the status page and /metrics on (port 0 picks a free one)")
	flags.BoolVar(&opts.ListenPublic, "listen-public", false,
		"allow a --listen address other than loopback")
	flags.StringArrayVar(&opts.AllowClients, "allow-client", nil,
		"serve clients from this `CIDR` only, such as 10.0.0.0/8 (repeatable)")
	flags.StringVar(&shard, "shard", "",
		"probe only part `i/n` of the services (0 <= i < n); shard 0 also watches tokens")
	flags.DurationVar(&opts.Interval, "interval", 0,
		"time between probe rounds, overriding the configuration (default 30s)")
	flags.DurationVar(&opts.ReloadEvery, "reload-every", defaultReloadEvery,
		"check the configuration, services file and .env for changes this often")
	flags.BoolVar(&opts.Conn.AllowHTTP, "allow-http", false,
		"send the credentials to plain http:// services too (unsafe; prints a warning)")
	addConnectionFlags(flags, &opts.Conn)
	return cmd
}

const monitorLongHelp = `Run until stopped: probe the services every interval with the engine of 'cfst test',
check every few minutes when the service tokens expire and how they are used, alert
webhooks when a service or token changes state, and serve on --listen:

  /             a status page for people (phones too), refreshing itself
  /api/status   the same as JSON
  /metrics      Prometheus metrics: cfst_probe_success, cfst_probe_class,
                cfst_probe_latency_seconds, cfst_token_expiry_seconds, ...
  /healthz      200 while probe rounds keep coming, 503 when they stall

The services come from --config FILE (a YAML file that also sets intervals, thresholds,
the tokens to watch and the alert webhooks; the README shows every key), or, without a
configuration, from TARGET arguments and --services FILE as in 'cfst test', with the
defaults: every 30s, failing after 2 bad probes in a row, every token watched, no alerts.
--config excludes the other two.

The probes carry the service token of --prefix from the environment or .env. Token
expiry and usage are read through the Cloudflare API when CLOUDFLARE_API_TOKEN is set;
without it only the services are watched. Nothing the monitor serves, logs or sends holds
a client secret, an API token or a webhook URL.

Reload: the configuration, its services file and .env are read again when they change
(checked every --reload-every) and on SIGHUP, without a restart; services that stay keep
their history. A file that does not parse is reported on stderr and the monitor goes on
with what it had. SIGINT or SIGTERM stop it gracefully: the round in flight is abandoned,
queued alerts get up to the alert timeout to go out, and the server finishes its requests.

Large fleets: run N monitors with --shard 0/N ... --shard N-1/N on the same configuration;
each probes its share of the services (a stable hash of each URL), shard 0 also watches
the tokens, and Prometheus scrapes them all (sum or max by service).

Safety: the server listens on loopback unless --listen-public; on loopback it answers
only requests for localhost or a loopback address (against DNS rebinding).
--allow-client limits the client addresses it serves.

Exit codes: 0 after a clean stop; 2 for bad flags or a bad configuration; 5 when asked to
listen on a public address without --listen-public; 1 when the address is taken.`

// check validates what cobra cannot.
func (o *monitorOptions) check(cmd *cobra.Command, shard string) error {
	hint := "run 'cfst monitor --help' for usage"
	switch {
	case o.Config != "" && (o.Services != "" || len(o.Args) > 0):
		return usageError("put the services in the configuration (services: or "+
			"services_file:), or drop --config", "--config excludes --services and targets")
	case o.Config == "" && o.Services == "" && len(o.Args) == 0:
		return usageError("pass --config FILE, --services FILE or hostnames to probe",
			"cfst monitor needs services to probe")
	case cmd.Flags().Changed("interval") && o.Interval < time.Second:
		return usageError(hint, "--interval must be at least 1s, got %s", o.Interval)
	case o.ReloadEvery <= 0:
		return usageError(hint, "--reload-every must be positive, got %s", o.ReloadEvery)
	}
	if shard != "" {
		parsed, err := monitor.ParseShard(shard)
		if err != nil {
			return usageError("run one monitor per shard: --shard 0/3, 1/3 and 2/3", "%s", err)
		}
		o.Shard = parsed
	}
	return nil
}
