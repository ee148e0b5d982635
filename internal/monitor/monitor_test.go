package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
)

// scrape fetches /metrics over HTTP and parses it with Prometheus' own text parser.
func scrape(t *testing.T, m *Monitor) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	return families
}

// value returns the value of the series of family with every label in labels, and
// whether there is one.
func value(families map[string]*dto.MetricFamily, family string, labels ...string,
) (float64, bool) {
	fam, ok := families[family]
	if !ok {
		return 0, false
	}
	for _, metric := range fam.GetMetric() {
		have := map[string]string{}
		for _, pair := range metric.GetLabel() {
			have[pair.GetName()] = pair.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case metric.Gauge != nil:
			return metric.GetGauge().GetValue(), true
		case metric.Counter != nil:
			return metric.GetCounter().GetValue(), true
		case metric.Histogram != nil:
			return float64(metric.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsParseWithPrometheusTextParser(t *testing.T) {
	f := newFixture(t, baseConfig)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	f.checks <- time.Time{} // a check after the first round counts its logins
	f.events.waitFor(t, EventTokenCheck, 2)
	families := scrape(t, f.mon)

	wants := []struct {
		family string
		labels []string
		want   float64
	}{
		{"cfst_probe_success", []string{"service", "ok"}, 1},
		{"cfst_probe_success", []string{"service", "tunnel"}, 0},
		{"cfst_probe_class", []string{"service", "ok", "class", "ok"}, 1},
		{"cfst_probe_class", []string{"service", "tunnel", "class", "tunnel_down"}, 1},
		{"cfst_probe_class", []string{"service", "locked", "class", "forbidden"}, 1},
		{"cfst_probes_total", []string{"service", "flaky", "class", "ok"}, 1},
		{"cfst_probe_duration_seconds", []string{"service", "ok"}, 1},
		{"cfst_service_failing", []string{"service", "tunnel"}, 0}, // one failure of two
		{"cfst_token_logins", []string{"token", "probe", "result", "admitted"}, 3},
		{"cfst_token_logins", []string{"token", "probe", "result", "refused"}, 1},
		{"cfst_monitor_rounds_total", nil, 1},
		{"cfst_monitor_shard_info", []string{"index", "0", "count", "1"}, 1},
	}
	for _, w := range wants {
		got, ok := value(families, w.family, w.labels...)
		if !ok || got != w.want {
			t.Errorf("%s%v = %v (present %v), want %v", w.family, w.labels, got, ok, w.want)
		}
	}
	latency, _ := value(families, "cfst_probe_latency_seconds", "service", "ok")
	expiry, _ := value(families, "cfst_token_expiry_seconds", "token", "probe")
	seen, _ := value(families, "cfst_token_last_seen_timestamp_seconds", "token", "probe")
	if latency <= 0 || expiry < 9*86400 || expiry > 10*86400 ||
		seen < float64(f.srv.Clock().Now().Add(-time.Minute).Unix()) {
		t.Errorf("latency %v, expiry %v, last seen %v", latency, expiry, seen)
	}
	if _, ok := value(families, "cfst_token_expiry_seconds", "token", "other"); ok {
		t.Error("a token that is not watched has metrics")
	}
}

// serviceAlerts keeps the alerts about services.
func serviceAlerts(alerts []Alert) []Alert {
	return slices.DeleteFunc(alerts, func(a Alert) bool { return a.Kind != "service" })
}

func TestAlertsOncePerStateChangeWithThresholds(t *testing.T) {
	config := strings.Replace(baseConfig, `    - {name: test, url: "$HOOK"}`,
		`    - {name: test, url: "$HOOK"}
    - {name: chat, url: "$HOOK/slack", format: slack}`, 1)
	f := newFixture(t, config)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	// flaky: ok, blip, ok, down, down (alert), down, ok, ok (resolved), ok.
	for i, origin := range []string{"down", "ok", "down", "down", "down", "ok", "ok", "ok"} {
		if err := f.srv.SetOrigin("flaky", origin); err != nil {
			t.Fatal(err)
		}
		f.round(i + 2)
	}
	f.stop() // delivers what is queued
	var alerts []Alert
	var slack []string
	for _, body := range f.hook.received() {
		if strings.HasPrefix(body, `{"text"`) {
			slack = append(slack, body)
			continue
		}
		var a Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatal(err)
		}
		alerts = append(alerts, a)
	}
	var flaky []Alert
	for _, a := range serviceAlerts(alerts) {
		if a.Name == "flaky" {
			flaky = append(flaky, a)
		}
	}
	if len(flaky) != 2 {
		t.Fatalf("flaky alerts: %+v, want failing then resolved", flaky)
	}
	down, up := flaky[0], flaky[1]
	if down.State != StateFailing || down.Previous != StateOK || down.Resolved ||
		down.Class != "backend_down" || down.Status != 502 || down.Hint == "" ||
		!strings.HasPrefix(down.Message, "flaky is failing: backend_down (HTTP 502)") {
		t.Errorf("failing alert %+v", down)
	}
	if up.State != StateOK || !up.Resolved || up.Previous != StateFailing ||
		!strings.HasPrefix(up.Message, "flaky recovered after") {
		t.Errorf("resolved alert %+v", up)
	}
	var slackFlaky []string
	for _, body := range slack {
		if strings.Contains(body, "flaky") {
			slackFlaky = append(slackFlaky, body)
		}
	}
	if len(slackFlaky) != 2 || !strings.HasPrefix(slackFlaky[0], `{"text":":red_circle: flaky is`) ||
		!strings.HasPrefix(slackFlaky[1], `{"text":":large_green_circle: flaky recovered`) {
		t.Errorf("slack alerts for flaky: %v", slackFlaky)
	}
	// tunnel and locked fail every round: one alert each, never resolved.
	for _, name := range []string{"tunnel", "locked"} {
		n := 0
		for _, a := range serviceAlerts(alerts) {
			if a.Name == name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d alerts, want 1", name, n)
		}
	}
}

// TestHangingWebhookDoesNotDelayProbing checks, by the order of events and not by the
// clock, that probe rounds go on while a webhook holds a delivery.
func TestHangingWebhookDoesNotDelayProbing(t *testing.T) {
	config := `
interval: 1h
services: [{url: "https://tunnel.example.com/", name: tunnel}]
alerts:
  failure_threshold: 1
  timeout: 10m
  webhooks: [{name: stuck, url: "$HOOK"}]
`
	f := newFixture(t, config)
	f.hook.hold = true
	f.hook.onBody = func(string) { f.events.add("webhook_received") }
	f.start()
	f.events.waitFor(t, "webhook_received", 1)
	f.round(2)
	f.round(3)
	order := f.events.list()
	received := slices.Index(order, "webhook_received")
	second := indexOfNth(order, EventRound, 2)
	third := indexOfNth(order, EventRound, 3)
	if received < 0 || second < received || third < second {
		t.Fatalf("events %v: rounds 2 and 3 did not follow the held delivery", order)
	}
	if slices.Contains(order, "alert_sent:failing:tunnel") {
		t.Fatalf("the held delivery completed early: %v", order)
	}
	f.hook.mu.Lock()
	f.hook.hold = false
	close(f.hook.release)
	f.hook.mu.Unlock()
	f.events.waitFor(t, "alert_sent:failing:tunnel", 1)
}

func indexOfNth(list []string, entry string, n int) int {
	for i, e := range list {
		if e == entry {
			if n--; n == 0 {
				return i
			}
		}
	}
	return -1
}

func TestRateLimitDropsAlertsAndTheirResolution(t *testing.T) {
	config := `
interval: 1h
services: [{url: "https://flaky.example.com/", name: flaky}]
alerts:
  failure_threshold: 1
  success_threshold: 1
  min_interval: 1h
  webhooks: [{name: test, url: "$HOOK"}]
`
	f := newFixture(t, config)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	for i, origin := range []string{"down", "ok", "down", "ok"} {
		if err := f.srv.SetOrigin("flaky", origin); err != nil {
			t.Fatal(err)
		}
		f.round(i + 2)
	}
	f.events.waitFor(t, "alert_dropped:failing:flaky", 1)
	if err := f.srv.AdvanceClock(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.SetOrigin("flaky", "down"); err != nil {
		t.Fatal(err)
	}
	f.round(6)
	f.stop()
	var states []string
	for _, a := range serviceAlerts(f.hook.alerts(t)) {
		states = append(states, a.State)
	}
	// failing, resolved; the second failure is dropped and so is its resolution; an
	// hour later failures alert again.
	if want := []string{StateFailing, StateOK, StateFailing}; !slices.Equal(states, want) {
		t.Errorf("alerts %v, want %v", states, want)
	}
}

func TestTokenAlertsOncePerChange(t *testing.T) {
	f := newFixture(t, baseConfig)
	tokens, err := f.api.ListTokens(t.Context(), cloudflare.ListOptions{Name: "probe"})
	if err != nil || len(tokens) != 1 {
		t.Fatal(tokens, err)
	}
	// A week of logins from one address; the monitor probes from another.
	var history []emulator.LoginEvent
	for i := range 7 {
		history = append(history, emulator.LoginEvent{
			Time: f.srv.Clock().Now().Add(-time.Duration(i+2) * 24 * time.Hour), Allowed: true,
			TokenID: tokens[0].ID, IP: netip.MustParseAddr("192.0.2.77"), Country: "US",
			RayID: fmt.Sprintf("%016x", i+1)})
	}
	f.srv.RecordLoginEvents(history...)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	for n := 2; n <= 3; n++ {
		f.checks <- time.Time{}
		f.events.waitFor(t, EventTokenCheck, n)
	}
	f.events.waitFor(t, "alert_sent:expiring:probe", 1)
	f.events.waitFor(t, "alert_sent:new_address:probe", 1)

	if err := f.srv.AdvanceClock(11 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	f.checks <- time.Time{}
	f.events.waitFor(t, EventTokenCheck, 4)
	f.stop()
	count := map[string]int{}
	for _, a := range f.hook.alerts(t) {
		if a.Kind != "service" {
			count[a.Kind+":"+a.State]++
		}
	}
	want := map[string]int{"token:expiring": 1, "token:expired": 1, "finding:new_address": 1}
	for key, n := range want {
		if count[key] != n {
			t.Errorf("%s: %d alerts, want %d (all: %v)", key, count[key], n, count)
		}
	}
	status := f.mon.Status()
	if len(status.Tokens.Tokens) != 1 || status.Tokens.Tokens[0].State != TokenExpired {
		t.Errorf("tokens in the status: %+v", status.Tokens)
	}
}

func TestReloadKeepsStateAndForgetsRemovedServices(t *testing.T) {
	f := newFixture(t, baseConfig)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	f.mon.Reload(f.setup(`
interval: 1h
services:
  - {url: "https://ok.example.com/", name: ok}
  - {url: "https://ok.example.com/other", name: other}
`))
	status := f.mon.Status()
	if len(status.Services) != 2 || status.Services[0].Probes != 1 ||
		status.Services[1].State != StatePending {
		t.Fatalf("services after reload: %+v", status.Services)
	}
	if _, ok := value(scrape(t, f.mon), "cfst_probe_success", "service", "flaky"); ok {
		t.Error("a removed service keeps its metrics")
	}
	f.round(2)
	if reloads, _ := value(scrape(t, f.mon), "cfst_monitor_reloads_total", "result", "ok"); reloads != 1 {
		t.Errorf("reloads = %v", reloads)
	}
}

func TestHealthzGoesStaleWithoutRounds(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cfg, err := ParseConfig("m.yaml", []byte("interval: 30s\ntimeout: 5s\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Setup{Config: cfg}, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if rec.Code != want {
			t.Errorf("at %s: /healthz %d, want %d", now, rec.Code, want)
		}
	}
	check(http.StatusOK)
	now = now.Add(90 * time.Second)
	check(http.StatusOK)
	now = now.Add(10 * time.Second)
	check(http.StatusServiceUnavailable)
}

// TestNothingLeaksTheCanary runs a monitor whose probes fail in several ways, whose token
// checks find things and whose webhooks fail, and looks for the client secret and the
// webhook credential in everything it produced.
func TestNothingLeaksTheCanary(t *testing.T) {
	config := strings.Replace(baseConfig, `    - {name: test, url: "$HOOK"}`,
		`    - {name: test, url: "$HOOK"}
    - {name: chat, url: "$HOOK", format: slack}
    - {name: dead, url: "http://127.0.0.1:1/hooks/`+hookCredential+`"}`, 1)
	config = strings.Replace(config, "failure_threshold: 2", "failure_threshold: 1", 1)
	f := newFixture(t, config)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	f.events.waitFor(t, "alert_failed:failing:tunnel", 1)
	f.checks <- time.Time{}
	f.events.waitFor(t, EventTokenCheck, 2)
	f.round(2)

	outputs := map[string]string{"logs": f.logs.text()}
	for _, path := range []string{"/", "/api/status", "/metrics", "/healthz"} {
		_, outputs[path] = f.get(path)
	}
	f.stop()
	outputs["webhooks"] = strings.Join(f.hook.received(), "\n")
	if !strings.Contains(outputs["logs"], "webhook dead") {
		t.Errorf("the failed delivery is not logged: %s", outputs["logs"])
	}
	if !strings.Contains(outputs["webhooks"], "tunnel is failing") {
		t.Errorf("no alert reached the webhook: %s", outputs["webhooks"])
	}
	for name, text := range outputs {
		for _, canary := range []string{canarySecret, hookCredential, apiToken} {
			if strings.Contains(text, canary) {
				t.Errorf("%s holds %q", name, canary)
			}
		}
	}
}
