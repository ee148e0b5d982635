package cloudflare

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// operation describes what cfst is doing, so that a failure can say what went wrong and
// what to do about it.
type operation struct {
	name       string // "create service token"
	permission string // the API-token permission the operation needs
	subject    string // what a 404 means was not found: `service token "x"`
}

// run performs one operation within the client's time budget. do may send several
// requests (paging, read-modify-write); they share the budget and the attempt record the
// middleware keeps.
func (c *Client) run(ctx context.Context, op operation, do func(context.Context) error) error {
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	budgetCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	deadline, _ := budgetCtx.Deadline()
	rec := &attempts{deadline: deadline, abort: abort}
	err := do(context.WithValue(budgetCtx, attemptsKey{}, rec))
	if err == nil {
		return nil
	}
	return c.translate(op, err, rec, ctx)
}

// attemptsKey is the context key of an operation's *attempts.
type attemptsKey struct{}

// attempts is what the middleware saw of one operation's requests.
type attempts struct {
	deadline time.Time
	abort    context.CancelCauseFunc

	mu         sync.Mutex
	tries      int           // of the last request, retries included
	status     int           // of the last response
	retryAfter time.Duration // the wait the last response asked for
	netErr     error         // of the last attempt, if it got no response
}

func (a *attempts) record(retry int, res *http.Response, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tries = retry + 1
	a.status, a.retryAfter, a.netErr = 0, 0, nil
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			a.netErr = err
		}
		return
	}
	a.status = res.StatusCode
	a.retryAfter, _ = retryAfter(res.Header)
}

// lastSeen is a copy of what the attempts saw.
type lastSeen struct {
	tries      int
	status     int
	retryAfter time.Duration
	netErr     error
}

func (a *attempts) lastSeen() lastSeen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return lastSeen{a.tries, a.status, a.retryAfter, a.netErr}
}

// observe is the SDK middleware around every attempt. It records what happened and steers
// the SDK's retry loop: it stops the loop at once when the next wait would overrun the
// operation's budget or when the error cannot heal (DNS, refused connection, TLS), and
// otherwise sets the wait itself, so backoff is ours rather than the SDK's.
func (c *Client) observe(req *http.Request, next func(*http.Request) (*http.Response, error),
) (*http.Response, error) {
	rec, _ := req.Context().Value(attemptsKey{}).(*attempts)
	res, err := next(req)
	if rec == nil {
		return res, err
	}
	retry, _ := strconv.Atoi(req.Header.Get("X-Stainless-Retry-Count"))
	rec.record(retry, res, err)
	if err != nil {
		if permanent(err) {
			rec.abort(err)
		}
		return res, err
	}
	if !retryableStatus(res.StatusCode) {
		res.Header.Set("X-Should-Retry", "false")
		return res, nil
	}
	wait, named := retryAfter(res.Header)
	if !named {
		wait = c.backoff << min(retry, 10)
	}
	if time.Now().Add(wait).After(rec.deadline) {
		res.Header.Set("X-Should-Retry", "false")
		return res, nil
	}
	res.Header.Set("X-Should-Retry", "true")
	res.Header.Set("Retry-After-Ms", strconv.FormatInt(wait.Milliseconds(), 10))
	return res, nil
}

// retryableStatus reports whether a retry can help. The SDK also retries 409, but an
// Access conflict does not go away by asking again.
func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		status >= 500
}

// retryAfter reads the wait a response asks for, from Retry-After-Ms or Retry-After
// (seconds or an HTTP date).
func retryAfter(h http.Header) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	value := h.Get("Retry-After")
	if value == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(value, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// permanent reports whether a transport error will recur on an immediate retry: the name
// does not resolve, nothing listens, or the certificate is not trusted.
func permanent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsTemporary && !dnsErr.IsTimeout
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" && !opErr.Timeout() {
		return true
	}
	return tlsFailure(err)
}

// tlsFailure reports whether err is a failure to verify the server's certificate.
func tlsFailure(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var authorityErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}
