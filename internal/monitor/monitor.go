// Package monitor watches services behind Cloudflare Access and the service tokens that
// reach them, for as long as it runs. Every interval it probes the services with the probe
// engine; every few minutes it checks when the tokens expire and how they are used; it
// alerts webhooks when a service or token changes state, and serves what it knows:
//
//	/            a status page, server-rendered, readable on a phone, refreshing itself
//	/api/status  the same as JSON
//	/metrics     Prometheus metrics
//	/healthz     200 while probe rounds keep coming, 503 when they stall
//
//	m, err := monitor.New(setup, monitor.Options{ProbeClient: client})
//	go m.Run(ctx)
//	http.ListenAndServe(addr, m.Handler())
//
// Nothing the monitor shows, exports, logs or sends holds a client secret or a webhook
// URL: labels and pages carry names, classes and hints, and every line of text passes a
// scrubber that knows the secrets.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/usage"
)

// Setup is what the monitor reads from files: the configuration, the service token it
// probes with, and the API it checks tokens through. Reload replaces it whole.
type Setup struct {
	Config      *Config
	Credentials probe.Credentials
	// API, when nil, turns the token checks off.
	API API
}

// API is the part of the Cloudflare API the token checks use; *cloudflare.Client is one.
type API interface {
	ListTokens(ctx context.Context, opts cloudflare.ListOptions) ([]cloudflare.Token, error)
	usage.Source
}

// Options are the parts of a monitor that do not change on reload.
type Options struct {
	// ProbeClient sends the probes (see transport.NewClient); nil means the probe
	// engine's default client.
	ProbeClient *http.Client
	// WebhookClient delivers alerts; nil means a client that follows no redirect.
	WebhookClient *http.Client
	// Shard is the part of the services this monitor probes; shard 0 also watches tokens.
	Shard Shard
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Rounds and TokenRounds, when set, start each probe round and token check instead
	// of the intervals of the configuration (tests and demos drive them). The first
	// round and check run at once either way.
	Rounds      <-chan time.Time
	TokenRounds <-chan time.Time
	// Log receives a line for each change worth a person's attention; nil drops them.
	Log func(line string)
	// OnEvent, if set, is called for every event, in the order they happen. It must
	// return quickly and must not call the Monitor.
	OnEvent func(Event)
}

// Event is something the monitor did, for tests and logs.
type Event struct {
	Kind    string
	Round   int64
	Webhook string
	Alert   *Alert
	// Reason says why an alert failed or was dropped.
	Reason string
}

// The kinds of Event.
const (
	EventRound        = "round"
	EventTokenCheck   = "token_check"
	EventAlertQueued  = "alert_queued"
	EventAlertSent    = "alert_sent"
	EventAlertFailed  = "alert_failed"
	EventAlertDropped = "alert_dropped"
	EventReload       = "reload"
)

// Monitor is one running monitor. Its methods are safe for concurrent use.
type Monitor struct {
	opts    Options
	metrics *metrics
	alerts  *dispatcher
	scrub   *secret.Scrubber
	started time.Time
	// reloaded wakes the schedulers when the intervals may have changed.
	reloaded chan struct{}
	eventMu  sync.Mutex

	mu         sync.Mutex
	setup      Setup
	services   map[string]*service
	order      []string // service keys in configuration order
	tokens     tokenStatus
	rounds     int64
	lastRound  time.Time
	alertTimes map[string]time.Time // last alert per rate-limit key
}

// New returns a monitor for setup. It probes nothing until Run.
func New(setup Setup, opts Options) (*Monitor, error) {
	if setup.Config == nil {
		return nil, errors.New("monitor: no configuration")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request,
		) error {
			return http.ErrUseLastResponse
		}}
	}
	m := &Monitor{opts: opts, metrics: newMetrics(), scrub: &secret.Scrubber{},
		started: opts.Now(), reloaded: make(chan struct{}, 1), services: map[string]*service{},
		alertTimes: map[string]time.Time{}}
	m.alerts = newDispatcher(opts.WebhookClient, m.scrub, m.deliveryEvent)
	m.metrics.shard.WithLabelValues(fmt.Sprint(opts.Shard.Index),
		fmt.Sprint(max(opts.Shard.Count, 1))).Set(1)
	m.apply(setup)
	return m, nil
}

// Reload replaces the configuration, credentials and API. Services that stay keep their
// state and history; those that go lose their metrics.
func (m *Monitor) Reload(setup Setup) {
	m.apply(setup)
	m.metrics.reloads.WithLabelValues("ok").Inc()
	m.logf("reloaded: %d services, %d webhooks", len(m.serviceKeys()),
		len(setup.Config.Alerts.Webhooks))
	m.emit(Event{Kind: EventReload})
	select {
	case m.reloaded <- struct{}{}:
	default:
	}
}

// ReloadFailed records a reload that could not read its files; the monitor goes on with
// what it had.
func (m *Monitor) ReloadFailed(err error) {
	m.metrics.reloads.WithLabelValues("error").Inc()
	m.logf("reload failed, keeping the previous configuration: %v", err)
}

func (m *Monitor) apply(setup Setup) {
	m.scrub.Add(setup.Credentials.Secret)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setup = setup
	now := m.opts.Now()
	kept := map[string]*service{}
	m.order = m.order[:0]
	for _, target := range setup.Config.Services {
		if !m.opts.Shard.Owns(target) {
			continue
		}
		key := targetKey(target)
		if _, dup := kept[key]; dup {
			continue
		}
		svc, ok := m.services[key]
		if !ok {
			svc = newService(target, now)
		}
		svc.target, svc.name = target, serviceName(target)
		kept[key] = svc
		m.order = append(m.order, key)
	}
	for key, svc := range m.services {
		if _, ok := kept[key]; !ok {
			m.metrics.forgetService(svc.name)
		}
	}
	m.services = kept
	m.alerts.configure(setup.Config.Alerts)
}

func (m *Monitor) serviceKeys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

// Run probes and checks until ctx ends, then delivers the alerts still queued (for at
// most the alert timeout) and returns.
func (m *Monitor) Run(ctx context.Context) error {
	var tokens sync.WaitGroup
	if m.opts.Shard.First() {
		tokens.Go(func() { m.watchTokens(ctx) })
	}
	for {
		m.round(ctx)
		if !m.wait(ctx, m.opts.Rounds, func(cfg *Config) time.Duration { return cfg.Interval }) {
			break
		}
	}
	tokens.Wait()
	m.mu.Lock()
	timeout := m.setup.Config.Alerts.Timeout
	m.mu.Unlock()
	drain, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m.alerts.close(drain)
	return nil
}

// wait blocks until the next round should start: a value on ticks, or else the interval
// of the configuration (restarted when a reload may have changed it). It reports false
// when ctx ends.
func (m *Monitor) wait(ctx context.Context, ticks <-chan time.Time,
	interval func(*Config) time.Duration) bool {
	if ticks != nil {
		select {
		case <-ctx.Done():
			return false
		case <-ticks:
			return true
		}
	}
	for {
		m.mu.Lock()
		timer := time.NewTimer(interval(m.setup.Config))
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
			return true
		case <-m.reloaded:
			timer.Stop()
		}
	}
}

// round probes every service of the shard once.
func (m *Monitor) round(ctx context.Context) {
	m.mu.Lock()
	setup := m.setup
	targets := make([]probe.Target, 0, len(m.order))
	for _, key := range m.order {
		targets = append(targets, m.services[key].target)
	}
	m.mu.Unlock()

	cfg := setup.Config
	prober := &probe.Prober{Client: m.opts.ProbeClient, Concurrency: cfg.Concurrency,
		Timeout: cfg.Timeout, Now: m.opts.Now}
	start := m.opts.Now()
	results := prober.RunAll(ctx, targets, setup.Credentials)
	if ctx.Err() != nil {
		return // shutting down: the results say "canceled", not how the services are
	}
	now := m.opts.Now()
	alerts := m.record(targets, results, now, cfg)
	for _, a := range alerts {
		m.alert(a)
	}
	m.metrics.rounds.Inc()
	m.metrics.roundDuration.Set(now.Sub(start).Seconds())
	m.metrics.lastRound.Set(float64(now.Unix()))
	m.mu.Lock()
	m.rounds++
	m.lastRound = now
	round := m.rounds
	m.mu.Unlock()
	m.emit(Event{Kind: EventRound, Round: round})
}

// record applies a round's results and returns the alerts they call for.
func (m *Monitor) record(targets []probe.Target, results []probe.Result, now time.Time,
	cfg *Config) []Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var alerts []Alert
	for i, result := range results {
		svc, ok := m.services[targetKey(targets[i])]
		if !ok {
			continue // removed by a reload during the round
		}
		change, changed := svc.observe(result, now, cfg.Alerts, cfg.History)
		m.observeMetrics(svc, result)
		if !changed {
			continue
		}
		m.logf("service %s: %s -> %s (%s)", svc.name, change.from, change.to, result.Class)
		if a, ok := m.serviceAlert(svc, change, now, cfg.Alerts); ok {
			alerts = append(alerts, a)
		}
	}
	return alerts
}

func (m *Monitor) observeMetrics(svc *service, result probe.Result) {
	success := 0.0
	if result.Class == probe.ClassOK {
		success = 1
	}
	m.metrics.probeSuccess.WithLabelValues(svc.name).Set(success)
	m.metrics.probeClass.DeletePartialMatch(prometheus.Labels{"service": svc.name})
	m.metrics.probeClass.WithLabelValues(svc.name, string(result.Class)).Set(1)
	m.metrics.probeLatency.WithLabelValues(svc.name).Set(result.Latency.Seconds())
	m.metrics.probeDuration.WithLabelValues(svc.name).Observe(result.Latency.Seconds())
	m.metrics.probes.WithLabelValues(svc.name, string(result.Class)).Inc()
	failing := 0.0
	if svc.state == StateFailing {
		failing = 1
	}
	m.metrics.failing.WithLabelValues(svc.name).Set(failing)
}

// serviceAlert decides whether a change of state is alerted: a service that starts
// failing is, unless it did less than MinInterval ago; one that recovers is when its
// failure was. m.mu must be held.
func (m *Monitor) serviceAlert(svc *service, change transition, now time.Time,
	cfg AlertConfig) (Alert, bool) {
	r := svc.last
	a := Alert{Kind: "service", Name: svc.name, State: change.to, Previous: change.from,
		Class: string(r.Class), Status: r.Status, Detail: r.Detail, Hint: r.Hint,
		Since: change.since, At: now, Shard: m.opts.Shard.String(), key: "service " + svc.key}
	switch {
	case change.to == StateFailing:
		a.Message = fmt.Sprintf("%s is failing: %s%s. %s", svc.name, r.Class, statusText(r),
			r.Hint)
		svc.alerted = m.admitAlert(a)
		return a, svc.alerted
	case change.from == StateFailing && svc.alerted:
		svc.alerted = false
		a.Resolved = true
		a.Message = fmt.Sprintf("%s recovered after %s failing: %s%s", svc.name,
			now.Sub(change.since).Round(time.Second), r.Class, statusText(r))
		return a, true
	}
	return Alert{}, false
}

func statusText(r probe.Result) string {
	if r.Status == 0 {
		return ""
	}
	return fmt.Sprintf(" (HTTP %d)", r.Status)
}

// admitAlert applies the rate limit: one alert per key per MinInterval. A dropped alert
// is counted and reported. m.mu must be held.
func (m *Monitor) admitAlert(a Alert) bool {
	minInterval := m.setup.Config.Alerts.MinInterval
	if last, ok := m.alertTimes[a.key]; ok && a.At.Sub(last) < minInterval {
		m.metrics.alertsDropped.WithLabelValues("rate_limited").Inc()
		m.logf("alert for %s not sent: the last one was %s ago (min_interval %s)", a.Name,
			a.At.Sub(last).Round(time.Second), minInterval)
		m.emit(Event{Kind: EventAlertDropped, Alert: &a, Reason: "rate_limited"})
		return false
	}
	m.alertTimes[a.key] = a.At
	return true
}

// alert hands an alert to the webhooks, never waiting for them.
func (m *Monitor) alert(a Alert) {
	a.Message = m.scrub.Scrub(a.Message)
	a.Detail, a.Hint = m.scrub.Scrub(a.Detail), m.scrub.Scrub(a.Hint)
	m.alerts.send(a)
}

// deliveryEvent counts and logs what the dispatcher reports.
func (m *Monitor) deliveryEvent(e Event) {
	switch e.Kind {
	case EventAlertSent:
		m.metrics.alerts.WithLabelValues(e.Webhook, "sent").Inc()
	case EventAlertFailed:
		m.metrics.alerts.WithLabelValues(e.Webhook, "failed").Inc()
		m.logf("webhook %s: alert for %s not delivered: %s", e.Webhook, e.Alert.Name, e.Reason)
	case EventAlertDropped:
		m.metrics.alertsDropped.WithLabelValues(e.Reason).Inc()
		m.logf("webhook %s: alert for %s dropped: %s", e.Webhook, e.Alert.Name, e.Reason)
	}
	m.emit(e)
}

func (m *Monitor) logf(format string, args ...any) {
	if m.opts.Log != nil {
		m.opts.Log(m.scrub.Scrub(fmt.Sprintf(format, args...)))
	}
}

// emit reports an event to OnEvent, one at a time, in order.
func (m *Monitor) emit(e Event) {
	if m.opts.OnEvent == nil {
		return
	}
	m.eventMu.Lock()
	defer m.eventMu.Unlock()
	m.opts.OnEvent(e)
}
