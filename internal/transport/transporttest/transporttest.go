// Package transporttest provides TLS test servers for code built on package transport:
// a throwaway certificate authority that issues a certificate for any hostname, and
// ConnectTo rules that send those hostnames to an httptest server.
//
//	ca := transporttest.NewCA(t)
//	srv := ca.NewServer(t, handler) // serves a certificate for whatever name is asked
//	client, _ := transport.NewClient(transport.Options{
//		RootCAs: ca.Pool(), ConnectTo: transporttest.RouteTo(srv, "app.test")})
package transporttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/transport"
)

// CA is a certificate authority that lives for one test.
type CA struct {
	tb      testing.TB
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// NewCA creates a CA; it fails tb on error.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	key := newKey(tb)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cfst test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("create test CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse test CA: %v", err)
	}
	return &CA{
		tb:      tb,
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		leaves:  map[string]*tls.Certificate{},
	}
}

// Pool returns a pool that trusts only this CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// PEM returns the CA certificate in PEM form, for --cacert files.
func (ca *CA) PEM() []byte { return ca.certPEM }

// Leaf returns a certificate valid for name (a hostname or IP address), issuing it on
// first use; it fails the test on error.
func (ca *CA) Leaf(name string) *tls.Certificate {
	leaf, err := ca.issue(name)
	if err != nil {
		ca.tb.Fatalf("issue test certificate for %q: %v", name, err)
	}
	return leaf
}

func (ca *CA) issue(name string) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if leaf, ok := ca.leaves[name]; ok {
		return leaf, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(ca.leaves) + 2)),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		template.IPAddresses = []net.IP{ip}
	} else {
		template.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	ca.leaves[name] = leaf
	return leaf, nil
}

// NewServer starts an HTTPS server (HTTP/2 enabled), closed at the end of the test, that
// presents a certificate for whatever name the client asks for by SNI.
func (ca *CA) NewServer(tb testing.TB, handler http.Handler) *httptest.Server {
	tb.Helper()
	return ca.start(tb, handler, func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "" {
			return ca.issue("127.0.0.1")
		}
		return ca.issue(hello.ServerName)
	})
}

// NewFixedServer is NewServer presenting a certificate for name whatever the client asks
// for, so a test can serve a certificate for the wrong host.
func (ca *CA) NewFixedServer(tb testing.TB, handler http.Handler, name string) *httptest.Server {
	tb.Helper()
	return ca.start(tb, handler, func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return ca.issue(name)
	})
}

func (ca *CA) start(tb testing.TB, handler http.Handler,
	certificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *httptest.Server {
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	srv.TLS = &tls.Config{GetCertificate: certificate}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// RouteTo returns rules that send connections for hosts, on any port, to srv. With no
// hosts every connection goes to srv.
func RouteTo(srv *httptest.Server, hosts ...string) []transport.ConnectTo {
	addr := srv.Listener.Addr().(*net.TCPAddr)
	to := func(host string) transport.ConnectTo {
		return transport.ConnectTo{FromHost: host, ToHost: addr.IP.String(), ToPort: addr.Port}
	}
	if len(hosts) == 0 {
		return []transport.ConnectTo{to("")}
	}
	rules := make([]transport.ConnectTo, len(hosts))
	for i, host := range hosts {
		rules[i] = to(host)
	}
	return rules
}

// ClosedPort returns a loopback address where nothing listens.
func ClosedPort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate test key: %v", err)
	}
	return key
}
