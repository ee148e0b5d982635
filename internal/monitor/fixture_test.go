package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/secret"
)

// The credentials of the test world. canarySecret must never leave the monitor.
const (
	probeClientID = "a0be0000000000000000000000000001.access"
	canarySecret  = "cfast_CANARYcanaryCANARYcanaryCANARYcanary9999"
	apiToken      = "monitor-test-api-token"
	// hookCredential is the credential part of the webhook URLs of the tests.
	hookCredential = "hookCREDENTIALcanary42"
)

const monitorWorld = `
team: monitor
api_tokens:
  - {name: all, value: ` + apiToken + `, permissions: [all]}
service_tokens:
  - {name: probe, client_id: ` + probeClientID + `, client_secret: ` + canarySecret + `,
     duration: 240h}
  - {name: other, duration: 8760h}
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
  - {name: only-other, decision: non_identity, include: [{service_token: {token_id: other}}]}
applications:
  - {name: ok, domain: ok.example.com, policies: [tokens]}
  - {name: flaky, domain: flaky.example.com, policies: [tokens]}
  - {name: tunnel, domain: tunnel.example.com, policies: [tokens], origin: tunnel-down}
  - {name: locked, domain: locked.example.com, policies: [only-other]}
`

// fixture is an emulator, a webhook receiver and a monitor driven round by round.
type fixture struct {
	t      *testing.T
	srv    *emulator.Server
	api    *cloudflare.Client
	hook   *webhookReceiver
	mon    *Monitor
	rounds chan time.Time
	checks chan time.Time
	events *eventLog
	logs   *lines
	cancel context.CancelFunc
	done   chan struct{}
}

// webhookReceiver records the alerts it receives. When hold is set, each request
// waits until release is closed.
type webhookReceiver struct {
	server  *httptest.Server
	mu      sync.Mutex
	bodies  []string
	hold    bool
	release chan struct{}
	onBody  func(string)
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{release: make(chan struct{})}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		hold, onBody := r.hold, r.onBody
		r.mu.Unlock()
		if onBody != nil {
			onBody(string(body))
		}
		if hold {
			<-r.release
		}
	}))
	t.Cleanup(func() {
		r.mu.Lock()
		if r.hold {
			close(r.release)
			r.hold = false
		}
		r.mu.Unlock()
		r.server.Close()
	})
	return r
}

// url is the receiver's address with a credential in the path, as chat webhooks have.
func (r *webhookReceiver) url() string { return r.server.URL + "/hooks/" + hookCredential }

func (r *webhookReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// alerts decodes the JSON alerts received.
func (r *webhookReceiver) alerts(t *testing.T) []Alert {
	t.Helper()
	var alerts []Alert
	for _, body := range r.received() {
		var a Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("alert is not JSON: %s", body)
		}
		alerts = append(alerts, a)
	}
	return alerts
}

// eventLog keeps events, and entries the test adds, in the order they happen.
type eventLog struct {
	mu      sync.Mutex
	entries []string
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{}, 1)} }

func (l *eventLog) add(entry string) {
	l.mu.Lock()
	l.entries = append(l.entries, entry)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.entries...)
}

// waitFor blocks until count entries equal entry. It gives up after a minute, which
// only a broken monitor takes.
func (l *eventLog) waitFor(t *testing.T, entry string, count int) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		n := 0
		for _, e := range l.list() {
			if e == entry {
				n++
			}
		}
		if n >= count {
			return
		}
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("waited a minute for %d × %q; events: %v", count, entry, l.list())
		}
	}
}

// lines collects log lines.
type lines struct {
	mu   sync.Mutex
	list []string
}

func (l *lines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, line)
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.list, "\n")
}

// newFixture starts the emulator and a webhook receiver, and builds a monitor whose
// configuration is configYAML with $HOOK replaced by the receiver's URL.
func newFixture(t *testing.T, configYAML string) *fixture {
	t.Helper()
	world, err := emulator.ParseWorld("monitor.yaml", []byte(monitorWorld))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start(emulator.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	api, err := cloudflare.New(cloudflare.Config{APIToken: secret.New(apiToken),
		AccountID: srv.AccountID(), BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, srv: srv, api: api, hook: newWebhookReceiver(t),
		rounds: make(chan time.Time), checks: make(chan time.Time), events: newEventLog(),
		logs: &lines{}}
	f.mon, err = New(f.setup(configYAML), Options{ProbeClient: srv.Client(),
		Now: srv.Clock().Now, Rounds: f.rounds, TokenRounds: f.checks, Log: f.logs.add,
		OnEvent: f.record})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) setup(configYAML string) Setup {
	f.t.Helper()
	text := strings.ReplaceAll(configYAML, "$HOOK", f.hook.url())
	cfg, err := ParseConfig("monitor.yaml", []byte(text), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return Setup{Config: cfg, API: f.api, Credentials: probe.Credentials{
		ClientID: probeClientID, Secret: secret.New(canarySecret)}}
}

// record logs events as "round", "alert_sent:failing:flaky" and so on.
func (f *fixture) record(e Event) {
	entry := e.Kind
	if e.Alert != nil {
		entry += ":" + e.Alert.State + ":" + e.Alert.Name
	}
	f.events.add(entry)
}

// start runs the monitor until the test ends; the first round and check run at once.
func (f *fixture) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go func() {
		defer close(f.done)
		_ = f.mon.Run(ctx)
	}()
	f.t.Cleanup(f.stop)
}

func (f *fixture) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
		f.cancel = nil
	}
}

// round starts the next probe round and waits for it to end.
func (f *fixture) round(n int) {
	f.t.Helper()
	f.rounds <- time.Time{}
	f.events.waitFor(f.t, EventRound, n)
}

// get fetches a path of the monitor's handler.
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.mon.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

const baseConfig = `
interval: 1h
timeout: 5s
services:
  - {url: "https://ok.example.com/", name: ok}
  - {url: "https://flaky.example.com/", name: flaky}
  - {url: "https://tunnel.example.com/", name: tunnel}
  - {url: "https://locked.example.com/", name: locked}
tokens:
  watch: [probe]
  usage_since: 1h
alerts:
  failure_threshold: 2
  success_threshold: 2
  min_interval: 0s
  webhooks:
    - {name: test, url: "$HOOK"}
`
