package cli

// Helpers of the `cfst monitor` tests: a world with a good service, a down backend and a
// down tunnel, a webhook receiver, and a monitor run in-process through Run on
// 127.0.0.1:0 with a context the test cancels.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cfst/cfst/internal/monitor"
)

// monitorTestWorld: the canary token expires in 240h; the API token may do anything.
const monitorTestWorld = `
api_tokens:
  - {name: all, value: monitor-test-api-token-42, permissions: [all]}
service_tokens:
  - name: probe
    client_id: ` + testClientID + `
    client_secret: ` + testCanary + `
    duration: 240h
  - {name: other, duration: 8760h}
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
applications:
  - {name: ok, domain: ok.example.com, policies: [tokens]}
  - {name: down, domain: down.example.com, policies: [tokens], origin: down}
  - {name: tunnel, domain: tunnel.example.com, policies: [tokens], origin: tunnel-down}
`

// monitorTestConfig probes the three services once an hour (only the first round runs
// in a test), alerts on the first failure, and sends to the receiver in both formats.
// The canary sits in a query string, which no name or page may show.
const monitorTestConfig = `
interval: 1h
timeout: 5s
services:
  - {url: "https://ok.example.com/?sig=` + testCanary + `", name: ok}
  - https://down.example.com/
  - {url: "https://tunnel.example.com/", name: tunnel}
tokens:
  watch: [probe]
alerts:
  failure_threshold: 1
  webhooks:
    - {name: generic, url_env: MONITOR_HOOK}
    - {name: chat, url_env: MONITOR_HOOK, format: slack}
`

// monitorTestHookCredential is the credential part of the receiver's URL.
const monitorTestHookCredential = "hookCANARYcredential"

// monitorTestReceiver records the bodies of the alerts it receives.
type monitorTestReceiver struct {
	server *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newMonitorTestReceiver(t *testing.T) *monitorTestReceiver {
	r := &monitorTestReceiver{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		r.mu.Unlock()
	}))
	t.Cleanup(r.server.Close)
	return r
}

func (r *monitorTestReceiver) url() string {
	return r.server.URL + "/hooks/" + monitorTestHookCredential
}

func (r *monitorTestReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// monitorTestFixture is an emulator with monitorTestWorld, a receiver and a config file.
type monitorTestFixture struct {
	*emuFixture
	hook   *monitorTestReceiver
	config string // path of the configuration file
}

func newMonitorTestFixture(t *testing.T) *monitorTestFixture {
	t.Helper()
	f := &monitorTestFixture{emuFixture: newEmuFixture(t, monitorTestWorld),
		hook: newMonitorTestReceiver(t)}
	f.env["MONITOR_HOOK"] = f.hook.url()
	f.config = filepath.Join(f.dir, "monitor.yaml")
	f.writeConfig(monitorTestConfig)
	return f
}

func (f *monitorTestFixture) writeConfig(text string) {
	f.t.Helper()
	monitorTestWrite(f.t, f.config, text)
}

// monitorTestWrite replaces a file the way editors and cfst do: a new file renamed over
// the old one.
func monitorTestWrite(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// monitorTestRun is `cfst monitor` running in-process until stop.
type monitorTestRun struct {
	t      *testing.T
	base   string // http://127.0.0.1:PORT
	stderr *syncBuffer
	stdout *syncBuffer
	cancel context.CancelFunc
	exited chan int
}

var monitorTestListening = regexp.MustCompile(`cfst monitor: listening on (http://[^/\s]+)/`)

// monitorTestStart runs cfst monitor --listen 127.0.0.1:0 args... and waits until it
// listens.
func monitorTestStart(t *testing.T, f *emuFixture, args ...string) *monitorTestRun {
	t.Helper()
	return monitorTestStartStdin(t, f, "", args...)
}

// monitorTestStartStdin is monitorTestStart with stdin holding stdin.
func monitorTestStartStdin(t *testing.T, f *emuFixture, stdin string,
	args ...string) *monitorTestRun {
	t.Helper()
	app, stdout, stderr := f.newApp(stdin)
	ctx, cancel := context.WithCancel(context.Background())
	run := &monitorTestRun{t: t, stderr: stderr, stdout: stdout, cancel: cancel,
		exited: make(chan int, 1)}
	argv := append([]string{"--env-file", f.envFile, "monitor", "--listen", "127.0.0.1:0"},
		args...)
	go func() { run.exited <- Run(ctx, app, argv) }()
	deadline := time.After(10 * time.Second)
	for run.base == "" {
		if m := monitorTestListening.FindStringSubmatch(stderr.String()); m != nil {
			run.base = m[1]
			break
		}
		select {
		case code := <-run.exited:
			cancel()
			t.Fatalf("cfst monitor %q exited %d before listening; stderr:\n%s", args, code,
				stderr)
		case <-deadline:
			cancel()
			t.Fatalf("cfst monitor did not listen in 10s; stderr:\n%s", stderr)
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Cleanup(func() { run.stop() })
	return run
}

// stop cancels the monitor's context, as SIGINT would, and returns its exit code.
func (r *monitorTestRun) stop() int {
	r.t.Helper()
	r.cancel()
	select {
	case code := <-r.exited:
		r.exited <- code // stop may be called again by the cleanup
		return code
	case <-time.After(15 * time.Second):
		r.t.Fatal("cfst monitor did not stop in 15s")
		return -1
	}
}

// get fetches a path of the monitor and returns the status and body.
func (r *monitorTestRun) get(path string) (int, string) {
	r.t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(r.base + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// status fetches /api/status.
func (r *monitorTestRun) status() monitor.Status {
	r.t.Helper()
	code, body := r.get("/api/status")
	var status monitor.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &status) != nil {
		r.t.Fatalf("/api/status: %d %s", code, body)
	}
	return status
}

// waitStatus polls /api/status until ready accepts it, for up to 10 seconds.
func (r *monitorTestRun) waitStatus(what string, ready func(monitor.Status) bool,
) monitor.Status {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status := r.status()
		if ready(status) {
			return status
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waited 10s for %s; status: %+v\nstderr:\n%s", what, status, r.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStderr polls stderr until it holds text, for up to 10 seconds.
func (r *monitorTestRun) waitStderr(text string) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.stderr.String(), text) {
		if time.Now().After(deadline) {
			r.t.Fatalf("waited 10s for %q on stderr:\n%s", text, r.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// scrape fetches /metrics and parses it with Prometheus' own text parser.
func (r *monitorTestRun) scrape() map[string]*dto.MetricFamily {
	r.t.Helper()
	code, body := r.get("/metrics")
	if code != http.StatusOK {
		r.t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		r.t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	return families
}

// monitorTestValue returns the value of the gauge or counter of family whose labels
// include every name/value pair of labels, and whether there is one.
func monitorTestValue(families map[string]*dto.MetricFamily, family string,
	labels ...string) (float64, bool) {
	for _, metric := range families[family].GetMetric() {
		have := map[string]string{}
		for _, pair := range metric.GetLabel() {
			have[pair.GetName()] = pair.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		switch {
		case !match:
		case metric.Gauge != nil:
			return metric.GetGauge().GetValue(), true
		case metric.Counter != nil:
			return metric.GetCounter().GetValue(), true
		}
	}
	return 0, false
}
