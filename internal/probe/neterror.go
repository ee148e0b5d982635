package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/cfst/cfst/internal/transport"
)

const (
	hintPlainHTTP = "use an https URL, or pass --allow-http to accept sending over plain http"
	hintRunOver   = "the whole run was stopped before this target answered: probe fewer " +
		"targets at once or allow the run more time"
	hintDNS     = "the hostname does not resolve: check its spelling and its DNS record"
	hintConnect = "nothing accepts connections there: check the hostname, the port and " +
		"any --connect-to rule"
	hintTLS = "the certificate does not verify for this hostname: check the hostname, or " +
		"pass --cacert for a private CA"
	hintTimeout = "no answer in time: check the origin, or raise --timeout"
	hintNetwork = "check the network path to the host"
	hintBadURL  = "give the target as a hostname or an http(s) URL"
)

// DescribeError explains an error from sending one request outside a Prober (cfst curl,
// cfst proxy): a detail starting with "dns:", "connect:", "tls:", "timeout:", "config:"
// or "network:", and a hint that names the fix. timeout is the limit the request had.
func DescribeError(err error, timeout time.Duration) (detail, hint string) {
	v := describeError(err, nil, timeout)
	return v.detail, v.hint
}

// describeError explains why an exchange got no HTTP answer. runErr is the error of the
// whole run's context, if it is done; timeout is the target's own limit.
func describeError(err, runErr error, timeout time.Duration) verdict {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, transport.ErrPlainHTTP):
		return networkVerdict("config: plain http refused", hintPlainHTTP)
	case runErr != nil && errors.Is(runErr, context.DeadlineExceeded):
		return networkVerdict("timeout: the run's deadline passed before an answer", hintRunOver)
	case runErr != nil:
		return networkVerdict("cancelled: the run stopped before an answer", hintRunOver)
	case errors.As(err, &dnsErr):
		return networkVerdict(dnsDetail(dnsErr), hintDNS)
	}
	if detail, ok := tlsDetail(err); ok {
		return networkVerdict(detail, hintTLS)
	}
	if isTimeout(err) {
		return networkVerdict(fmt.Sprintf("timeout: no answer within %s", timeout), hintTimeout)
	}
	if detail, ok := connectDetail(err); ok {
		return networkVerdict(detail, hintConnect)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return networkVerdict("network: the server closed the connection without an answer",
			hintNetwork)
	}
	return networkVerdict("network: "+innerMessage(err), hintNetwork)
}

func networkVerdict(detail, hint string) verdict {
	return verdict{class: ClassNetworkError, detail: detail, hint: hint}
}

func dnsDetail(dnsErr *net.DNSError) string {
	switch {
	case dnsErr.IsNotFound:
		return fmt.Sprintf("dns: no such host %q", dnsErr.Name)
	case dnsErr.IsTimeout:
		return fmt.Sprintf("dns: lookup of %q timed out", dnsErr.Name)
	}
	return fmt.Sprintf("dns: lookup of %q failed: %s", dnsErr.Name, dnsErr.Err)
}

// tlsDetail names the certificate or handshake problem.
func tlsDetail(err error) (string, bool) {
	var hostnameErr x509.HostnameError
	var authorityErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &hostnameErr):
		return "tls: " + strings.TrimPrefix(hostnameErr.Error(), "x509: "), true
	case errors.As(err, &authorityErr):
		issuer := "unnamed"
		if authorityErr.Cert != nil && authorityErr.Cert.Issuer.CommonName != "" {
			issuer = authorityErr.Cert.Issuer.CommonName
		}
		return fmt.Sprintf("tls: certificate signed by an unknown authority (issuer %q)",
			issuer), true
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return "tls: certificate has expired or is not yet valid", true
	case errors.As(err, &invalidErr):
		return "tls: " + strings.TrimPrefix(invalidErr.Error(), "x509: "), true
	case errors.As(err, &recordErr):
		return "tls: the server did not answer with TLS (plain http on an https port?)", true
	}
	message := innerMessage(err)
	if strings.Contains(message, "server gave HTTP response to HTTPS client") {
		return "tls: the server did not answer with TLS (plain http on an https port?)", true
	}
	if strings.Contains(message, "tls: ") {
		return "tls: handshake failed: " + message, true
	}
	return "", false
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &netErr) && netErr.Timeout()
}

// connectDetail explains a failure to open the TCP connection.
func connectDetail(err error) (string, bool) {
	addr := "the server"
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Addr != nil {
		addr = opErr.Addr.String()
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connect: connection refused by " + addr, true
	case errors.Is(err, syscall.ECONNRESET):
		return "connect: connection reset by " + addr, true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "connect: " + addr + " is unreachable", true
	}
	return "", false
}

// innerMessage is the error without url.Error's "Get \"URL\": " prefix.
func innerMessage(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return err.Error()
}
