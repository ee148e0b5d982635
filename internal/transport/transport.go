// Package transport builds the HTTP clients cfst talks to protected hostnames with, and
// holds the safety rules they share: TLS is always verified, redirects are never followed,
// plain http is refused unless asked for, service-token credentials go only to the hosts
// they are for, and verbose dumps redact credentials by construction.
//
// One client serves every command that sends a request to an Access-protected hostname
// (test, curl, proxy, rotate verification, monitor):
//
//	client, err := transport.NewClient(transport.Options{CAFile: caFile, ConnectTo: rules})
//	rt := &transport.CredentialTransport{Base: client.Transport, Credentials: creds,
//		Hosts: []string{"app.example.com"}}
//
// The package never offers a way to skip certificate verification.
package transport

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Defaults for Options fields left at zero.
const (
	DefaultTimeout             = 30 * time.Second
	DefaultDialTimeout         = 10 * time.Second
	DefaultTLSHandshakeTimeout = 10 * time.Second
	DefaultMaxIdleConnsPerHost = 32
	DefaultUserAgent           = "cfst"
)

// ErrPlainHTTP is returned, wrapped, for a plain http request on a client built without
// AllowHTTP.
var ErrPlainHTTP = errors.New("plain http refused")

// Options configures NewClient and NewTransport. The zero value is a safe client that
// trusts the system roots and dials hosts as DNS says.
type Options struct {
	// CAFile is a PEM file of extra trusted roots (--cacert), added to the roots.
	CAFile string
	// RootCAs replaces the system roots (and SSL_CERT_FILE) when set; tests and the
	// emulator use it. CAFile is still added to a copy of it.
	RootCAs *x509.CertPool
	// ConnectTo reroutes connections, like curl --connect-to; the first matching rule
	// wins. TLS still checks the certificate against the URL's hostname.
	ConnectTo []ConnectTo
	// Timeout bounds a whole exchange through the Client, body included, and the wait
	// for response headers through the transport. Zero means DefaultTimeout.
	Timeout time.Duration
	// DialTimeout and TLSHandshakeTimeout bound connection set-up. Zero means the
	// package defaults.
	DialTimeout         time.Duration
	TLSHandshakeTimeout time.Duration
	// MaxIdleConnsPerHost is the keep-alive pool size per host. Zero means
	// DefaultMaxIdleConnsPerHost, sized for a prober's default concurrency.
	MaxIdleConnsPerHost int
	// AllowHTTP lets plain http requests through (--allow-http). Without it they fail
	// with ErrPlainHTTP before any connection is made.
	AllowHTTP bool
	// UserAgent is set on requests that carry none. Empty means DefaultUserAgent; Go's
	// default agent can trip Cloudflare's browser-signature rule (error 1010).
	UserAgent string
}

// NewClient returns a client that follows no redirect (callers see the 3xx), verifies
// TLS, and bounds every exchange by opts.Timeout.
func NewClient(opts Options) (*http.Client, error) {
	rt, err := NewTransport(opts)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       orDefault(opts.Timeout, DefaultTimeout),
		CheckRedirect: NoRedirects,
	}, nil
}

// NewTransport returns the round tripper behind NewClient, for callers that stream (a
// reverse proxy) and so cannot use a whole-exchange timeout. Response headers are still
// bounded by opts.Timeout.
func NewTransport(opts Options) (http.RoundTripper, error) {
	roots, err := rootPool(opts)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{
		Timeout:   orDefault(opts.DialTimeout, DefaultDialTimeout),
		KeepAlive: 30 * time.Second,
	}
	base := &http.Transport{
		DialContext:           dialThrough(dialer, opts.ConnectTo),
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   orDefault(opts.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		ResponseHeaderTimeout: orDefault(opts.Timeout, DefaultTimeout),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   orDefault(opts.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost),
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	// TODO: honour HTTPS_PROXY; it needs a rule for how --connect-to applies to the proxy
	// address, and without it cfst cannot run behind a corporate egress proxy.
	return &guardTransport{base: base, allowHTTP: opts.AllowHTTP,
		userAgent: cmp.Or(opts.UserAgent, DefaultUserAgent)}, nil
}

// NoRedirects is an http.Client CheckRedirect that hands every 3xx back to the caller.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// orDefault is v, or fallback when v is zero or negative.
func orDefault[T int | time.Duration](v, fallback T) T {
	if v <= 0 {
		return fallback
	}
	return v
}

// rootPool is RootCAs, or the system roots plus SSL_CERT_FILE, plus CAFile.
func rootPool(opts Options) (*x509.CertPool, error) {
	var pool *x509.CertPool
	if opts.RootCAs != nil {
		pool = opts.RootCAs.Clone()
	} else {
		pool = systemRoots()
		// Go honours SSL_CERT_FILE itself on Linux but not on macOS; adding it here
		// makes it work everywhere.
		if err := appendPEMFile(pool, "SSL_CERT_FILE", os.Getenv("SSL_CERT_FILE")); err != nil {
			return nil, err
		}
	}
	if err := appendPEMFile(pool, "--cacert", opts.CAFile); err != nil {
		return nil, err
	}
	return pool, nil
}

func systemRoots() *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil {
		return x509.NewCertPool()
	}
	return pool
}

func appendPEMFile(pool *x509.CertPool, what, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s file: %w", what, err)
	}
	if !pool.AppendCertsFromPEM(data) {
		return fmt.Errorf("%s file %q holds no PEM certificate", what, path)
	}
	return nil
}

// dialFunc is the type of http.Transport.DialContext.
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// dialThrough dials the address the first matching ConnectTo rule names.
func dialThrough(dialer *net.Dialer, rules []ConnectTo) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, Route(rules, addr))
	}
}

// guardTransport refuses plain http unless allowed and sets a User-Agent.
type guardTransport struct {
	base      http.RoundTripper
	allowHTTP bool
	userAgent string
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.URL.Scheme == "https":
	case req.URL.Scheme == "http" && g.allowHTTP:
	default:
		closeRequestBody(req)
		return nil, fmt.Errorf("%w to %q: use https, or --allow-http to accept the risk",
			ErrPlainHTTP, req.URL.Host)
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", g.userAgent)
	}
	return g.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (g *guardTransport) CloseIdleConnections() {
	if c, ok := g.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// ReadLimited reads r up to n bytes and stops there without error, so a hostile or huge
// body costs at most n bytes of memory and transfer.
func ReadLimited(r io.Reader, n int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, n))
}
