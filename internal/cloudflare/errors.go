package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	cfsdk "github.com/cloudflare/cloudflare-go/v6"
)

// Kind classifies an Error. Its string value is stable, so the CLI can map kinds to exit
// codes and scripts can match them. A Kind is also an error, so that
// errors.Is(err, KindNotFound) works.
type Kind string

// The kinds of Error.
const (
	KindConfig         Kind = "config"          // cfst is missing or was given a bad setting
	KindAuth           Kind = "auth"            // the API token is invalid, expired or malformed
	KindPermission     Kind = "permission"      // the API token lacks a permission
	KindNotFound       Kind = "not_found"       // no such token, application or policy
	KindAmbiguous      Kind = "ambiguous"       // a name matches several tokens
	KindUnknownAccount Kind = "unknown_account" // no such account or zone
	KindLimit          Kind = "limit"           // the account's service-token limit is reached
	KindInvalid        Kind = "invalid"         // the API refused the request as invalid
	KindRateLimited    Kind = "rate_limited"    // too many requests; see RetryAfter
	KindUnreachable    Kind = "unreachable"     // DNS, connection or TLS failure
	KindTimeout        Kind = "timeout"         // no answer within the time budget
	KindServer         Kind = "server"          // 5xx after retries, or an unreadable answer
	KindCanceled       Kind = "canceled"        // the caller canceled the operation
)

// Error returns the kind's name.
func (k Kind) Error() string { return string(k) }

// Error is a failed operation, described for the user. Its text is one lowercase line and
// never contains the API token or a client secret; Hint, when set, says what to do.
type Error struct {
	Kind Kind
	// Op is what cfst was doing, such as "create service token".
	Op string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Code is the first Cloudflare error code in the response, or 0.
	Code int
	// Message says what went wrong.
	Message string
	// Hint says what the user can do about it, or is empty.
	Hint string
	// RetryAfter is how long the API asked to wait, for KindRateLimited.
	RetryAfter time.Duration
	// Permission names the API-token permission the operation needs, for KindPermission.
	Permission string

	cause error // a context or network error; never the SDK's error, whose text has URLs
}

// Error returns "<op>: <message>".
func (e *Error) Error() string {
	if e.Op == "" {
		return e.Message
	}
	return e.Op + ": " + e.Message
}

// Unwrap returns the underlying context or network error, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool {
	kind, ok := target.(Kind)
	return ok && kind == e.Kind
}

// KindOf returns the Kind of the *Error in err's chain, or "" if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// HintOf returns the hint of the *Error in err's chain, or "".
func HintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

func configError(message, hint string) *Error {
	return &Error{Kind: KindConfig, Message: message, Hint: hint}
}

const (
	hintAPIToken = "check " + EnvAPIToken +
		"; create one at dash.cloudflare.com/profile/api-tokens"
	hintStatus = "retry later; www.cloudflarestatus.com shows incidents"
	hintList   = "run `cfst list` to see the service tokens"
)

// translate turns whatever an operation returned into an *Error. ctx is the operation's
// context outside its time budget, so that the caller's cancellation can be told apart
// from the budget running out.
func (c *Client) translate(op operation, err error, rec *attempts, ctx context.Context) error {
	var e *Error
	seen := rec.lastSeen()
	var apiErr *cfsdk.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &apiErr):
		e = c.fromAPI(op, apiErr, seen)
	case errors.Is(context.Cause(ctx), context.Canceled): // by the caller, not by observe
		e = &Error{Kind: KindCanceled, Message: "canceled", cause: context.Canceled}
	case seen.netErr != nil:
		e = c.unreachable(seen.netErr)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e = &Error{Kind: KindTimeout, cause: context.DeadlineExceeded,
			Message: fmt.Sprintf("no answer from %s within %s", c.host, c.timeout),
			Hint:    "check the network, or retry; " + hintStatus}
	default:
		e = &Error{Kind: KindServer, Status: seen.status,
			Message: "unreadable answer from " + c.host, Hint: hintStatus}
	}
	if e.Op == "" {
		e.Op = op.name
	}
	e.Message = c.scrubber.Scrub(e.Message)
	e.Hint = c.scrubber.Scrub(e.Hint)
	return e
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// fromAPI describes an error response. It reads only the status, the error codes and
// messages and the Retry-After header, never the request.
func (c *Client) fromAPI(op operation, apiErr *cfsdk.Error, seen lastSeen) *Error {
	e := &Error{Status: apiErr.StatusCode}
	var detail string
	if len(apiErr.Errors) > 0 {
		e.Code = int(apiErr.Errors[0].Code)
		// Scrub before cleanDetail shortens it, which could cut a secret in half.
		detail = c.scrubber.Scrub(apiErr.Errors[0].Message)
	}
	switch {
	case e.Status == 401 || e.Code == 6003 || e.Code == 6111:
		e.Kind, e.Message, e.Hint = KindAuth, "the API token was rejected", hintAPIToken
	case strings.Contains(detail, "not_enabled"):
		e.Kind, e.Message = KindInvalid, "zero trust is not enabled on the account"
		e.Hint = "enable Zero Trust at one.dash.cloudflare.com"
	case e.Status == 403 && e.Code == 9109, e.Status == 404 && unknownObjectID(detail):
		c.describeUnknownScope(e)
	case e.Status == 403:
		c.describePermission(e, op)
	case e.Status == 429:
		describeRateLimit(e, seen.retryAfter)
	case e.Status >= 500:
		e.Kind, e.Hint = KindServer, hintStatus
		e.Message = fmt.Sprintf("the API failed with HTTP %d (%s)", e.Status,
			plural(seen.tries, "attempt"))
	case e.Status == 404 && e.Code == 7003:
		e.Kind, e.Message = KindInvalid, "the API at "+c.host+" has no route for this request"
		e.Hint = "check " + EnvBaseURL + " if set"
	case e.Status == 404 && op.subject != "":
		e.Kind, e.Message = KindNotFound, op.subject+" not found"
		if strings.HasPrefix(op.subject, "service token") {
			e.Hint = hintList
		}
	case e.Status == 404:
		c.describeUnknownScope(e)
	case limitPattern.MatchString(detail):
		describeLimit(e, detail)
	default:
		e.Kind = KindInvalid
		e.Message = "the API refused the request: " + cleanDetail(detail, e.Status)
	}
	return e
}

func (c *Client) describePermission(e *Error, op operation) {
	e.Kind, e.Permission = KindPermission, op.permission
	where := "the " + c.scopeLabel()
	if op.permission == "" {
		e.Message = "the API token may not do this"
		e.Hint = "check the API token's permissions and " + where
		return
	}
	e.Message = fmt.Sprintf("the API token lacks the %q permission", op.permission)
	e.Hint = fmt.Sprintf("add %q for %s to the API token at "+
		"dash.cloudflare.com/profile/api-tokens", op.permission, where)
}

// describeRateLimit describes a 429. wait is what the API asked for, as the middleware
// saw it before setting a wait of its own.
func describeRateLimit(e *Error, wait time.Duration) {
	e.Kind, e.RetryAfter = KindRateLimited, wait
	if e.RetryAfter <= 0 {
		e.Message = "rate limited by the API"
		e.Hint = "wait a few minutes; the API allows 1200 requests per 5 minutes"
		return
	}
	text := e.RetryAfter.Round(time.Second).String()
	e.Message = "rate limited by the API; retry in " + text
	e.Hint = "wait " + text + " before running cfst again"
}

// describeUnknownScope describes an account or zone the API does not know, or does not
// let this API token see (Cloudflare answers 403 code 9109 for both).
func (c *Client) describeUnknownScope(e *Error) {
	e.Kind = KindUnknownAccount
	e.Message = c.scopeLabel() + " not found or not accessible with this API token"
	env := EnvAccountID
	if c.accountID == "" {
		env = EnvZoneID
	}
	e.Hint = "check " + env + " (the 32-character id in the dashboard URL) and that the " +
		"API token is scoped to it"
}

// scopeLabel names the configured scope: `account "x"`, or `zone "y"`.
func (c *Client) scopeLabel() string {
	if c.accountID != "" {
		return fmt.Sprintf("account %q", c.accountID)
	}
	return fmt.Sprintf("zone %q", c.zoneID)
}

// unknownObjectID reports an answer meaning the URL names no account or zone, rather than
// no object: "Could not route to /accounts/x/..., perhaps your object identifier is
// invalid?".
func unknownObjectID(detail string) bool {
	lower := strings.ToLower(detail)
	return strings.Contains(lower, "could not route") ||
		strings.Contains(lower, "object identifier")
}

var (
	limitPattern = regexp.MustCompile(`(?i)limit.*token|token.*limit|too many .*tokens`)
	numberInText = regexp.MustCompile(`\d+`)
)

func describeLimit(e *Error, detail string) {
	e.Kind = KindLimit
	e.Message = "the account has reached its limit of service tokens"
	if n := numberInText.FindString(detail); n != "" {
		e.Message = "the account has reached its limit of " + n + " service tokens"
	}
	e.Hint = "delete unused tokens: `cfst list` shows them and when each was last used"
}

// maxDetail is how many characters of an API error message an Error keeps.
const maxDetail = 200

// cleanDetail strips Cloudflare's "access.api.error.x: " prefix from an error message and
// keeps it short. The caller has scrubbed it.
func cleanDetail(detail string, status int) string {
	if i := strings.Index(detail, ": "); i > 0 && strings.HasPrefix(detail, "access.api.error.") {
		detail = detail[i+2:]
	}
	detail = strings.TrimSpace(strings.ReplaceAll(detail, "\n", " "))
	if detail == "" {
		return fmt.Sprintf("HTTP %d", status)
	}
	if runes := []rune(detail); len(runes) > maxDetail {
		detail = string(runes[:maxDetail]) + "…"
	}
	return detail
}

// unreachable describes a request that got no response.
func (c *Client) unreachable(netErr error) *Error {
	e := &Error{Kind: KindUnreachable, cause: innermost(netErr)}
	var dnsErr *net.DNSError
	switch {
	case tlsFailure(netErr):
		e.Message = "cannot verify the TLS certificate of " + c.host
		e.Hint = "if a proxy or emulator serves the API, point SSL_CERT_FILE at its CA"
	case errors.As(netErr, &dnsErr):
		e.Message = fmt.Sprintf("cannot resolve %s", c.host)
		e.Hint = "check the network and DNS, and " + EnvBaseURL + " if set"
	case isTimeout(netErr):
		e.Kind = KindTimeout
		e.Message = "no answer from " + c.host
		e.Hint = "check the network, or retry; " + hintStatus
	default:
		e.Message = fmt.Sprintf("cannot reach %s: %s", c.host, shortNetError(netErr))
		e.Hint = "check the network, and " + EnvBaseURL + " if set"
	}
	return e
}

// innermost strips the *url.Error (which holds the URL) and *net.OpError layers.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// shortNetError is the tail of a transport error, such as "connection refused".
func shortNetError(err error) string {
	text := innermost(err).Error()
	if i := strings.LastIndex(text, ": "); i >= 0 {
		text = text[i+2:]
	}
	return text
}

// plural is "1 attempt" or "3 attempts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
