package monitor

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the series the monitor exports at /metrics. Labels hold service and token
// names and ids, classes and webhook names, never a URL or a credential.
type metrics struct {
	registry *prometheus.Registry

	probeSuccess  *prometheus.GaugeVec
	probeClass    *prometheus.GaugeVec
	probeLatency  *prometheus.GaugeVec
	probeDuration *prometheus.HistogramVec
	probes        *prometheus.CounterVec
	failing       *prometheus.GaugeVec

	tokenExpiry   *prometheus.GaugeVec
	tokenLastSeen *prometheus.GaugeVec
	tokenLogins   *prometheus.GaugeVec
	tokenFindings *prometheus.GaugeVec

	rounds        prometheus.Counter
	roundDuration prometheus.Gauge
	lastRound     prometheus.Gauge
	tokenChecks   *prometheus.CounterVec
	alerts        *prometheus.CounterVec
	alertsDropped *prometheus.CounterVec
	reloads       *prometheus.CounterVec
	shard         *prometheus.GaugeVec
}

func newMetrics() *metrics {
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		probeSuccess: gauge("cfst_probe_success",
			"1 if the last probe of the service succeeded, else 0.", "service"),
		probeClass: gauge("cfst_probe_class",
			"1 for the class of the last probe of the service (ok, forbidden, tunnel_down...).",
			"service", "class"),
		probeLatency: gauge("cfst_probe_latency_seconds",
			"Time to the response headers of the last probe of the service.", "service"),
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cfst_probe_duration_seconds", Help: "Time to the response headers of probes.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"service"}),
		probes: counter("cfst_probes_total", "Probes by service and class.", "service", "class"),
		failing: gauge("cfst_service_failing",
			"1 while the service is failing (failure threshold reached), else 0.", "service"),
		tokenExpiry: gauge("cfst_token_expiry_seconds",
			"Seconds until the service token expires; negative once it has.", "token", "token_id"),
		tokenLastSeen: gauge("cfst_token_last_seen_timestamp_seconds",
			"Unix time of the token's latest login or last_seen_at.", "token", "token_id"),
		tokenLogins: gauge("cfst_token_logins",
			"Logins of the token in the usage window, by result (admitted or refused).",
			"token", "token_id", "result"),
		tokenFindings: gauge("cfst_token_findings",
			"Usage and expiry findings of the token, by kind.", "token", "token_id", "kind"),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cfst_monitor_rounds_total", Help: "Probe rounds completed."}),
		roundDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cfst_monitor_round_duration_seconds", Help: "Duration of the last round."}),
		lastRound: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cfst_monitor_last_round_timestamp_seconds", Help: "Unix time of the last round."}),
		tokenChecks: counter("cfst_monitor_token_checks_total",
			"Checks of token expiry and usage, by result (ok or error).", "result"),
		alerts: counter("cfst_monitor_alerts_total",
			"Alert deliveries by webhook and result (sent or failed).", "webhook", "result"),
		alertsDropped: counter("cfst_monitor_alerts_dropped_total",
			"Alerts not sent, by reason (rate_limited or queue_full).", "reason"),
		reloads: counter("cfst_monitor_reloads_total",
			"Reloads of the configuration and .env, by result (ok or error).", "result"),
		shard: gauge("cfst_monitor_shard_info",
			"1, labelled with this monitor's shard: index of count.", "index", "count"),
	}
	m.registry.MustRegister(m.probeSuccess, m.probeClass, m.probeLatency, m.probeDuration,
		m.probes, m.failing, m.tokenExpiry, m.tokenLastSeen, m.tokenLogins, m.tokenFindings,
		m.rounds, m.roundDuration, m.lastRound, m.tokenChecks, m.alerts, m.alertsDropped,
		m.reloads, m.shard, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// forgetService deletes the series of a service that left the configuration.
func (m *metrics) forgetService(name string) {
	labels := prometheus.Labels{"service": name}
	for _, vec := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.probeSuccess, m.probeClass, m.probeLatency, m.probeDuration, m.probes, m.failing} {
		vec.DeletePartialMatch(labels)
	}
}

// resetTokens deletes every token series before a check sets them afresh.
func (m *metrics) resetTokens() {
	m.tokenExpiry.Reset()
	m.tokenLastSeen.Reset()
	m.tokenLogins.Reset()
	m.tokenFindings.Reset()
}
