package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/monitor"
)

// The demo's monitor: the services it probes, how long it may take to finish its first
// probe round and token check, and how many lines of each metric it shows.
const (
	demoMonitorWait    = 10 * time.Second
	demoMonitorPoll    = 50 * time.Millisecond
	demoMetricsPerName = 4
)

var demoMonitorServices = []string{"jaeger.example.com", "langfuse.example.com",
	"sprinkler.example.com"}

// demoMetrics are the metrics the monitor step shows.
var demoMetrics = []string{"cfst_probe_success", "cfst_token_expiry_seconds"}

// showMonitor starts cfst monitor in the background over a few services, waits for its
// first probe round and token check, shows a few metric lines, and stops it.
func (t *demoTour) showMonitor(ctx context.Context) error {
	t.heading("Watch continuously", "'cfst monitor' probes the services every interval, "+
		"watches when the tokens expire and how\nthey are used, alerts webhooks on "+
		"changes, and serves a status page and Prometheus metrics.\nHere it runs for "+
		"one probe round; cfst_token_expiry_seconds is negative for an expired token.")
	fmt.Fprintf(t.out, "\n$ cfst monitor --listen 127.0.0.1:0 %s &\n",
		strings.Join(demoMonitorServices, " "))
	log := &demoLog{}
	monitorCtx, stop := context.WithCancel(ctx)
	defer stop()
	running, err := t.backgroundApp(log).startMonitor(monitorCtx, &monitorOptions{
		Args: demoMonitorServices, Listen: "127.0.0.1:0", ReloadEvery: defaultReloadEvery})
	if err != nil {
		return fmt.Errorf("demo: start the monitor: %w", err)
	}
	log.flushTo(t.out)
	base := "http://" + running.addr.String()
	shown := waitFirstRound(ctx, base+"/api/status")
	log.flushTo(t.out)
	if shown == nil {
		shown = t.showMetrics(ctx, base)
	}
	stop()
	err = running.wait(monitorCtx)
	log.flushTo(t.out)
	if shown != nil {
		return shown
	}
	return err
}

// showMetrics prints a few lines of each of demoMetrics from the monitor at base.
func (t *demoTour) showMetrics(ctx context.Context, base string) error {
	fmt.Fprintf(t.out, "\n$ curl -s %s/metrics | grep -E '^(%s)'\n", base,
		strings.Join(demoMetrics, "|"))
	_, body, err := demoGet(ctx, base+"/metrics")
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for line := range strings.Lines(string(body)) {
		name, _, _ := strings.Cut(line, "{")
		if slices.Contains(demoMetrics, name) && counts[name] < demoMetricsPerName {
			counts[name]++
			fmt.Fprint(t.out, line)
		}
	}
	fmt.Fprintf(t.out, "(the status page at %s/ shows the same, for people)\n", base)
	return nil
}

// waitFirstRound polls the monitor's status until its first probe round and token
// check are done, for at most demoMonitorWait.
func waitFirstRound(ctx context.Context, statusURL string) error {
	deadline := time.Now().Add(demoMonitorWait)
	for {
		_, body, err := demoGet(ctx, statusURL)
		var status monitor.Status
		if err == nil && json.Unmarshal(body, &status) == nil && status.Rounds > 0 &&
			!status.Tokens.CheckedAt.IsZero() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: the monitor did not finish a probe round in %s",
				demoMonitorWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(demoMonitorPoll):
		}
	}
}
