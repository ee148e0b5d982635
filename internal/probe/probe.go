// Package probe sends a request to each of many Access-protected URLs at once, with a
// service token, and sorts every answer into a Class with a one-line hint.
//
//	prober := &probe.Prober{Client: client} // from transport.NewClient
//	for result := range prober.Run(ctx, targets, creds) {
//		fmt.Println(result.Target.Name, result.Class, result.Hint)
//	}
//
// Redirects are never followed and the credentials go only to each target's own host,
// so a target that redirects elsewhere cannot collect the token.
package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// Defaults for Prober fields left at zero.
const (
	DefaultConcurrency = 32
	DefaultTimeout     = 10 * time.Second
)

// Credentials is the service token a Prober sends; see transport.Credentials.
type Credentials = transport.Credentials

// Prober probes targets concurrently. A Prober is safe for concurrent Runs and is not
// changed by them.
type Prober struct {
	// Client sends the requests; nil means transport.NewClient(transport.Options{}).
	// Whatever its CheckRedirect and Jar, the Prober follows no redirect and sends no
	// cookie. Its own Timeout still applies on top of the per-target one.
	Client *http.Client
	// Concurrency caps the requests in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds each target's exchange unless the target sets its own; 0 means
	// DefaultTimeout. The ctx given to Run bounds the whole run on top.
	Timeout time.Duration
	// CompareAnonymous sends each request a second time without credentials; when that
	// succeeds too, the target is ClassNotProtected (the token was not needed).
	CompareAnonymous bool
	// AllowHTTP lets credentials go to http:// targets; the Client must allow plain
	// http too. Callers should warn when they set it.
	AllowHTTP bool
	// Dump, if set, receives a redacted dump of every exchange (--verbose); see
	// transport.DumpExchange. Dumps are written whole, one at a time.
	Dump io.Writer
	// Now returns the time for latencies; nil means time.Now.
	Now func() time.Time
	// Annotate, if set, is called with each result before it is delivered, for example
	// to append the matched Access application and policy to Hint. It is called from
	// several goroutines at once.
	Annotate func(*Result)
}

// RunAll probes every target and returns the results in the order of targets.
func (p *Prober) RunAll(ctx context.Context, targets []Target, creds Credentials) []Result {
	results := make([]Result, len(targets))
	for result := range p.Run(ctx, targets, creds) {
		results[result.Index] = result
	}
	return results
}

// Run probes targets with at most Concurrency requests in flight and delivers each
// result as soon as it is known, so one slow host holds up no other. Every target gets
// exactly one result, even when ctx ends first (then a network_error saying so); the
// channel is closed after the last. The channel is buffered for all results, so a
// caller that stops reading leaks nothing.
func (p *Prober) Run(ctx context.Context, targets []Target, creds Credentials) <-chan Result {
	results := make(chan Result, len(targets))
	r := p.newRun(ctx, creds)
	indexes := make(chan int)
	var workers sync.WaitGroup
	for range min(p.concurrency(), len(targets)) {
		workers.Go(func() {
			for i := range indexes {
				results <- r.probe(i, targets[i])
			}
		})
	}
	go func() {
		for i := range targets {
			indexes <- i
		}
		close(indexes)
		workers.Wait()
		close(results)
	}()
	return results
}

func (p *Prober) concurrency() int {
	if p.Concurrency > 0 {
		return p.Concurrency
	}
	return DefaultConcurrency
}

// run is the state one Run shares between its workers.
type run struct {
	prober *Prober
	ctx    context.Context
	creds  Credentials
	client *http.Client
	scrub  *secret.Scrubber
	now    func() time.Time
	dumpMu sync.Mutex
	// clientErr is set when no default client could be built; every target reports it.
	clientErr error
}

func (p *Prober) newRun(ctx context.Context, creds Credentials) *run {
	r := &run{prober: p, ctx: ctx, creds: creds, client: p.Client, now: p.Now,
		scrub: &secret.Scrubber{}}
	r.scrub.Add(creds.Secret)
	if r.now == nil {
		r.now = time.Now
	}
	if r.client == nil {
		r.client, r.clientErr = transport.NewClient(transport.Options{AllowHTTP: p.AllowHTTP})
	}
	return r
}

// probe runs one target: with credentials, then without when comparing.
func (r *run) probe(index int, target Target) Result {
	result := r.exchange(target, r.creds)
	if r.prober.CompareAnonymous {
		anonymous := r.exchange(target, Credentials{})
		anonymous.Index, anonymous.Hint = index, ""
		result.Anonymous = &anonymous
		switch {
		case result.Class == ClassOK && anonymous.Class == ClassOK:
			result.Class, result.Hint = ClassNotProtected, hintTokenNotNeeded
			result.Detail += fmt.Sprintf("; without credentials too (HTTP %d)",
				anonymous.Status)
		case result.Class == ClassOK && result.Hint == hintNoSignOfAccess:
			// The refusal without credentials is the sign of Access the answer lacked
			// (strict mode sets no cookie).
			result.Hint = ""
		}
	}
	result.Index = index
	if r.prober.Annotate != nil {
		r.prober.Annotate(&result)
	}
	return result
}

// exchange sends one request for target and classifies the answer.
func (r *run) exchange(target Target, creds Credentials) Result {
	if err := r.ctx.Err(); err != nil {
		return r.failure(target, err, 0)
	}
	if r.clientErr != nil {
		return r.failure(target, r.clientErr, 0)
	}
	timeout := r.timeout(target)
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	req, err := newRequest(ctx, target)
	if err != nil {
		// The parse error is not shown: it quotes the URL, which may hold user information.
		return Result{Target: target, Class: ClassNetworkError,
			Detail: "config: the target URL does not parse", Hint: hintBadURL}
	}
	start := r.now()
	resp, err := r.clientFor(req.URL.Hostname(), creds).Do(req)
	latency := r.now().Sub(start)
	if err != nil {
		r.dump(req, nil)
		return r.failure(target, err, latency)
	}
	body, _ := transport.ReadLimited(resp.Body, BodyLimit)
	_ = resp.Body.Close()
	r.dump(resp.Request, resp)
	result := Classify(target, resp, body)
	result.Latency = latency
	return r.scrubbed(result)
}

func (r *run) timeout(target Target) time.Duration {
	switch {
	case target.Timeout > 0:
		return target.Timeout
	case r.prober.Timeout > 0:
		return r.prober.Timeout
	}
	return DefaultTimeout
}

// failure is the result of an exchange that got no HTTP answer.
func (r *run) failure(target Target, err error, latency time.Duration) Result {
	v := describeError(err, r.ctx.Err(), r.timeout(target))
	return r.scrubbed(Result{Target: target, Class: v.class, Detail: v.detail, Hint: v.hint,
		Latency: latency})
}

// clientFor returns a client that sends creds to host only, follows no redirect and keeps
// no cookie: a CF_Authorization cookie from the request with credentials would let the
// anonymous request in and hide that the token is needed.
func (r *run) clientFor(host string, creds Credentials) *http.Client {
	client := *r.client
	client.CheckRedirect = transport.NoRedirects
	client.Jar = nil
	client.Transport = &transport.CredentialTransport{
		Base: r.client.Transport, Credentials: creds, Hosts: []string{host},
		AllowHTTP: r.prober.AllowHTTP,
	}
	return &client
}

func newRequest(ctx context.Context, target Target) (*http.Request, error) {
	method := target.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, target.URL, nil)
	if err != nil {
		return nil, err
	}
	for name, values := range target.Header {
		req.Header[name] = append([]string(nil), values...)
	}
	return req, nil
}

// scrubbed removes the secret from every text field that came from the network.
func (r *run) scrubbed(result Result) Result {
	result.Detail = r.scrub.Scrub(result.Detail)
	result.Location = r.scrub.Scrub(result.Location)
	result.Ray = r.scrub.Scrub(result.Ray)
	result.Hint = r.scrub.Scrub(result.Hint)
	return result
}

func (r *run) dump(req *http.Request, resp *http.Response) {
	if r.prober.Dump == nil || req == nil {
		return
	}
	r.dumpMu.Lock()
	defer r.dumpMu.Unlock()
	transport.DumpExchange(r.prober.Dump, req, resp, r.scrub)
}
