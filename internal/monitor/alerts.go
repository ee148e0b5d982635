package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/usage"
)

// Alert is one message to the webhooks: a service or token changed state, or a usage
// finding appeared. Its JSON is the body of a generic webhook and a stable interface.
type Alert struct {
	// Kind is "service", "token" or "finding".
	Kind string `json:"kind"`
	Name string `json:"name"`
	// State is the new state: failing or ok for a service, expiring or expired for a
	// token, the finding's kind for a finding.
	State    string `json:"state"`
	Previous string `json:"previous_state,omitempty"`
	// Resolved is set on the message that ends a failing alert.
	Resolved bool   `json:"resolved"`
	Class    string `json:"class,omitempty"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Hint     string `json:"hint,omitempty"`
	// Since is when the previous state began.
	Since   time.Time      `json:"since,omitzero"`
	At      time.Time      `json:"at"`
	Shard   string         `json:"shard"`
	Message string         `json:"message"`
	Finding *usage.Finding `json:"finding,omitempty"`

	key string // what rate limiting counts by: one service or token
}

// body is the request body for format.
func (a Alert) body(format string) ([]byte, error) {
	if format == FormatSlack {
		icon := ":red_circle:"
		switch {
		case a.Resolved:
			icon = ":large_green_circle:"
		case a.Kind != "service":
			icon = ":warning:"
		}
		return json.Marshal(map[string]string{"text": icon + " " + a.Message})
	}
	return json.Marshal(struct {
		Source string `json:"source"`
		Alert
	}{"cfst monitor", a})
}

// dispatcher delivers alerts, one queue and one worker per webhook, so that a slow or
// failing webhook delays neither probing (sending never blocks) nor the other webhooks.
type dispatcher struct {
	client  *http.Client
	scrub   *secret.Scrubber
	notify  func(Event)
	closing context.Context // cancelled when delivery must stop
	abort   context.CancelFunc

	mu      sync.Mutex
	workers map[string]*worker
	wg      sync.WaitGroup
}

// worker delivers the alerts of one webhook.
type worker struct {
	hook    atomic.Pointer[Webhook]
	timeout atomic.Int64 // nanoseconds
	queue   chan Alert
}

func newDispatcher(client *http.Client, scrub *secret.Scrubber, notify func(Event),
) *dispatcher {
	closing, abort := context.WithCancel(context.Background())
	return &dispatcher{client: client, scrub: scrub, notify: notify, closing: closing,
		abort: abort, workers: map[string]*worker{}}
}

// configure starts a worker for each new webhook, updates the others and stops those
// that are gone; their queued alerts are still delivered.
func (d *dispatcher) configure(cfg AlertConfig) {
	d.mu.Lock()
	defer d.mu.Unlock()
	wanted := map[string]bool{}
	for _, hook := range cfg.Webhooks {
		wanted[hook.Name] = true
		d.scrub.Add(hook.URL)
		w, ok := d.workers[hook.Name]
		if !ok {
			w = &worker{queue: make(chan Alert, cfg.QueueSize)}
			d.workers[hook.Name] = w
			d.wg.Go(func() { d.run(w) })
		}
		w.hook.Store(&hook)
		w.timeout.Store(int64(cfg.Timeout))
	}
	for name, w := range d.workers {
		if !wanted[name] {
			close(w.queue)
			delete(d.workers, name)
		}
	}
}

// send queues a for every webhook without waiting; a full queue drops it.
func (d *dispatcher) send(a Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, w := range d.workers {
		select {
		case w.queue <- a:
			d.notify(Event{Kind: EventAlertQueued, Webhook: name, Alert: &a})
		default:
			d.notify(Event{Kind: EventAlertDropped, Webhook: name, Alert: &a,
				Reason: "queue_full"})
		}
	}
}

func (d *dispatcher) run(w *worker) {
	for a := range w.queue {
		hook := w.hook.Load()
		err := d.deliver(*hook, time.Duration(w.timeout.Load()), a)
		event := Event{Kind: EventAlertSent, Webhook: hook.Name, Alert: &a}
		if err != nil {
			event.Kind, event.Reason = EventAlertFailed, d.scrub.Scrub(err.Error())
		}
		d.notify(event)
	}
}

// deliver POSTs one alert. Its errors never hold the URL.
func (d *dispatcher) deliver(hook Webhook, timeout time.Duration, a Alert) error {
	body, err := a.body(hook.Format)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.closing, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL.Reveal(),
		bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL does not parse")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("no answer within %s", timeout)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// close stops taking alerts and waits for the queued ones to go out, until ctx ends;
// then it abandons deliveries in flight.
func (d *dispatcher) close(ctx context.Context) {
	d.mu.Lock()
	for name, w := range d.workers {
		close(w.queue)
		delete(d.workers, name)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		d.abort()
		<-done
	}
	d.abort()
}
