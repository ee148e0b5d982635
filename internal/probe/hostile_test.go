package probe_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

// followingClient is a caller-supplied client that would follow redirects; the Prober
// must not.
func followingClient(t *testing.T, ca *transporttest.CA, rules []transport.ConnectTo,
	allowHTTP bool) *http.Client {
	t.Helper()
	rt, err := transport.NewTransport(transport.Options{RootCAs: ca.Pool(), ConnectTo: rules,
		AllowHTTP: allowHTTP})
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: rt} // CheckRedirect nil: follows up to 10 redirects
}

// TestRedirectToAnotherHost serves a redirect to a host the test also runs, and checks
// in that host's log that nothing arrived, let alone a credential.
func TestRedirectToAnotherHost(t *testing.T) {
	ca := transporttest.NewCA(t)
	var otherLog requestLog
	other := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherLog.record(r)
	}))
	app := ca.NewServer(t, viaCloudflare(302, "", "Location", "https://collector.test/steal"))
	rules := append(transporttest.RouteTo(app, "app.test"),
		transporttest.RouteTo(other, "collector.test")...)
	prober := &probe.Prober{Client: followingClient(t, ca, rules, false)}

	result := prober.RunAll(context.Background(), []probe.Target{targetFor(t, "app.test")},
		testCredentials())[0]

	if got := otherLog.all(); len(got) != 0 {
		t.Fatalf("the other host received %d requests; headers %v", len(got), got[0].header)
	}
	if result.Class != probe.ClassUnexpectedStatus ||
		!strings.Contains(result.Detail, `another host "collector.test"`) {
		t.Errorf("got %s: %s", result.Class, result.Detail)
	}
}

// TestRedirectToPlainHTTP checks that an https→http redirect is reported and not
// followed, even with plain http allowed.
func TestRedirectToPlainHTTP(t *testing.T) {
	ca := transporttest.NewCA(t)
	var plainLog requestLog
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainLog.record(r)
	}))
	defer plain.Close()
	app := ca.NewServer(t, viaCloudflare(301, "", "Location", plain.URL+"/downgraded"))
	prober := &probe.Prober{
		Client:    followingClient(t, ca, transporttest.RouteTo(app, "app.test"), true),
		AllowHTTP: true,
	}

	result := prober.RunAll(context.Background(), []probe.Target{targetFor(t, "app.test")},
		testCredentials())[0]

	if n := len(plainLog.all()); n != 0 {
		t.Fatalf("the http server received %d requests", n)
	}
	if result.Class != probe.ClassUnexpectedStatus ||
		!strings.Contains(result.Detail, "from https to http") ||
		!strings.Contains(result.Hint, "plain http") {
		t.Errorf("got %s: %s / %s", result.Class, result.Detail, result.Hint)
	}
}

// TestSlowOriginHoldsUpNoOne runs one origin that never answers among fast ones with
// fewer workers than targets: every fast result must stream out while the slow request
// is still in flight, and the slow one must end by its own timeout.
func TestSlowOriginHoldsUpNoOne(t *testing.T) {
	var slowInFlight atomic.Bool
	slowEntered := make(chan struct{})
	hang := func(w http.ResponseWriter, r *http.Request) {
		slowInFlight.Store(true)
		close(slowEntered)
		<-r.Context().Done() // never answers; returns when the client gives up
		slowInFlight.Store(false)
	}
	fast := func(w http.ResponseWriter, r *http.Request) {
		<-slowEntered // so every fast answer is sent while the slow one hangs
		viaCloudflare(200, "")(w, r)
	}
	routes := map[string]http.HandlerFunc{"slow.test": hang}
	targets := []probe.Target{targetFor(t, "slow.test")}
	targets[0].Timeout = 2 * time.Second
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		routes[name+".test"] = fast
		targets = append(targets, targetFor(t, name+".test"))
	}
	e := newEdge(t, routes)
	prober := e.prober(t)
	prober.Concurrency = 2

	var order []string
	for result := range prober.Run(context.Background(), targets, testCredentials()) {
		order = append(order, result.Target.Name)
		if result.Target.Name == "slow.test" {
			if result.Class != probe.ClassNetworkError ||
				result.Detail != "timeout: no answer within 2s" {
				t.Errorf("slow target: %s %q", result.Class, result.Detail)
			}
			continue
		}
		if result.Class != probe.ClassOK {
			t.Errorf("%s: %s %s", result.Target.Name, result.Class, result.Detail)
		}
		if !slowInFlight.Load() {
			t.Errorf("%s finished after the slow request ended: it was held up",
				result.Target.Name)
		}
	}
	if len(order) != len(targets) || order[len(order)-1] != "slow.test" {
		t.Errorf("results arrived in order %v, want the slow target last", order)
	}
}

// TestRunContextEndsEveryTarget cancels the run while requests hang: every target still
// gets a result, in order, and the ones never started say so.
func TestRunContextEndsEveryTarget(t *testing.T) {
	entered := make(chan struct{}, 8)
	hang := func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	}
	e := newEdge(t, map[string]http.HandlerFunc{"a.test": hang, "b.test": hang,
		"c.test": hang})
	prober := e.prober(t)
	prober.Concurrency = 1
	prober.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	targets := []probe.Target{targetFor(t, "a.test"), targetFor(t, "b.test"),
		targetFor(t, "c.test")}

	results := prober.RunAll(ctx, targets, testCredentials())

	for i, result := range results {
		if result.Target.Name != targets[i].Name || result.Class != probe.ClassNetworkError ||
			result.Detail != "cancelled: the run stopped before an answer" {
			t.Errorf("result %d: %s %s %q", i, result.Target.Name, result.Class, result.Detail)
		}
	}
	if n := len(e.log.all()); n != 1 {
		t.Errorf("%d requests reached the server after the cancel, want 1", n)
	}
}

func TestRunDeadline(t *testing.T) {
	e := newEdge(t, map[string]http.HandlerFunc{"a.test": func(w http.ResponseWriter,
		r *http.Request) {
		<-r.Context().Done()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	prober := e.prober(t)
	prober.Timeout = time.Minute
	result := prober.RunAll(ctx, []probe.Target{targetFor(t, "a.test")}, testCredentials())[0]
	if result.Detail != "timeout: the run's deadline passed before an answer" {
		t.Errorf("got %s %q", result.Class, result.Detail)
	}
}

// TestHugeBodyIsNotRead serves an endless body and counts what the server managed to
// write: the prober must stop after its limit, not drain the stream.
func TestHugeBodyIsNotRead(t *testing.T) {
	const endless = 1 << 30
	written := make(chan int64, 1)
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cf-Ray", testRay)
		chunk := []byte(strings.Repeat("x", 32<<10))
		var total int64
		for total < endless {
			n, err := w.Write(chunk)
			total += int64(n)
			if err != nil {
				break
			}
		}
		written <- total
	}
	e := newEdge(t, map[string]http.HandlerFunc{"huge.test": huge})
	result := e.prober(t).RunAll(context.Background(),
		[]probe.Target{targetFor(t, "huge.test")}, testCredentials())[0]
	if result.Class != probe.ClassOK {
		t.Errorf("got %s %s", result.Class, result.Detail)
	}
	// Socket buffers and HTTP/2 flow-control windows let the server get a few MiB
	// ahead of the reader; reading the stream would take it to a GiB.
	if total := <-written; total > 32<<20 {
		t.Errorf("the server wrote %d bytes: the body was read past the limit", total)
	}
}

// TestNetworkErrors checks that each way of getting no answer names its cause.
func TestNetworkErrors(t *testing.T) {
	ca := transporttest.NewCA(t)
	wrongName := ca.NewFixedServer(t, viaCloudflare(200, ""), "someone-else.test")
	otherCA := transporttest.NewCA(t)
	untrusted := otherCA.NewServer(t, viaCloudflare(200, ""))
	plainHTTP := httptest.NewServer(viaCloudflare(200, ""))
	defer plainHTTP.Close()
	closed, err := transport.ParseConnectTo("closed.test::" + transporttest.ClosedPort(t))
	if err != nil {
		t.Fatal(err)
	}
	rules := []transport.ConnectTo{closed}
	rules = append(rules, transporttest.RouteTo(wrongName, "wrong-name.test")...)
	rules = append(rules, transporttest.RouteTo(untrusted, "untrusted.test")...)
	plainAddr := strings.TrimPrefix(plainHTTP.URL, "http://")
	plain, _ := transport.ParseConnectTo("not-tls.test::" + plainAddr)
	rules = append(rules, plain)
	client, err := transport.NewClient(transport.Options{RootCAs: ca.Pool(), ConnectTo: rules})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct{ url, detail, hint string }{
		{"wrong-name.test", "tls: certificate is valid for someone-else.test, not " +
			"wrong-name.test", "--cacert"},
		{"untrusted.test", `tls: certificate signed by an unknown authority (issuer ` +
			`"cfst test CA")`, "certificate does not verify"},
		{"not-tls.test", "tls: the server did not answer with TLS", "certificate"},
		{"closed.test", "connect: connection refused by 127.0.0.1:", "nothing accepts"},
		{"nowhere.cfst.invalid", `dns: no such host "nowhere.cfst.invalid"`, "DNS"},
		{"http://plain.test/", "config: plain http refused", "--allow-http"},
	}
	targets := make([]probe.Target, len(tests))
	for i, tt := range tests {
		targets[i] = targetFor(t, tt.url)
	}
	results := (&probe.Prober{Client: client}).RunAll(context.Background(), targets,
		testCredentials())
	for i, tt := range tests {
		r := results[i]
		if r.Class != probe.ClassNetworkError || !strings.HasPrefix(r.Detail, tt.detail) ||
			!strings.Contains(r.Hint, tt.hint) || r.Status != 0 {
			t.Errorf("%s: got %s %q / %q, want detail %q and hint with %q",
				tt.url, r.Class, r.Detail, r.Hint, tt.detail, tt.hint)
		}
	}
}

// TestDescribeError covers the errors of requests sent outside a Prober (cfst curl).
func TestDescribeError(t *testing.T) {
	tests := []struct {
		err          error
		detail, hint string
	}{
		{&net.DNSError{Name: "x.invalid", Err: "no such host", IsNotFound: true},
			`dns: no such host "x.invalid"`, "DNS"},
		{&net.DNSError{Name: "x.test", Err: "i/o timeout", IsTimeout: true},
			`dns: lookup of "x.test" timed out`, "DNS"},
		{context.DeadlineExceeded, "timeout: no answer within 5s", "--timeout"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNRESET},
			"connect: connection reset by the server", "--connect-to"},
		{io.ErrUnexpectedEOF, "network: the server closed the connection", "network path"},
		{errors.New("something odd"), "network: something odd", "network path"},
	}
	for _, tt := range tests {
		detail, hint := probe.DescribeError(tt.err, 5*time.Second)
		if !strings.HasPrefix(detail, tt.detail) || !strings.Contains(hint, tt.hint) {
			t.Errorf("%v: got %q / %q, want %q / …%q…", tt.err, detail, hint, tt.detail,
				tt.hint)
		}
	}
}
