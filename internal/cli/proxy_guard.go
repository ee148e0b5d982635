package cli

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
)

// minProxyTokenLength is the shortest bearer token --auth-token-file accepts.
const minProxyTokenLength = 16

// clientGuard decides which clients may use the proxy.
type clientGuard struct {
	// token is the bearer token clients must send; empty when none is required.
	token string
	// clients are the allowed client networks; empty when any address may connect.
	clients []netip.Prefix
	// hosts are the Host header values accepted on loopback (against DNS rebinding);
	// nil when listening publicly, where any name is accepted.
	hosts map[string]bool
	csrf  *http.CrossOriginProtection
}

// checkListen refuses a listen address other than loopback without --listen-public, and
// a public one without a bearer token or a client allowlist.
func checkListen(opts *proxyOptions) error {
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return usageError("write --listen HOST:PORT, such as 127.0.0.1:8080", "--listen %q: %s",
			opts.Listen, err)
	}
	switch {
	case !isLoopbackHost(host) && !opts.ListenPublic:
		return withCode(ExitRefused, fmt.Errorf("refusing to listen on %q: it is not a "+
			"loopback address, and anyone who reaches it would use the service token",
			opts.Listen), "listen on 127.0.0.1, or pass --listen-public with "+
			"--auth-token-file or --allow-client")
	case opts.ListenPublic && opts.AuthTokenFile == "" && len(opts.AllowClients) == 0:
		return withCode(ExitRefused, fmt.Errorf("refusing --listen-public without "+
			"protection"), "add --auth-token-file FILE (a bearer token clients must send), "+
			"--allow-client CIDR, or both")
	}
	return nil
}

// isLoopbackHost reports whether a listen host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// newClientGuard reads the bearer token file and parses the client networks.
func (app *App) newClientGuard(opts *proxyOptions) (*clientGuard, error) {
	guard := &clientGuard{csrf: http.NewCrossOriginProtection()}
	for _, cidr := range opts.AllowClients {
		prefix, err := parseClientNetwork(cidr)
		if err != nil {
			return nil, usageError("write --allow-client 10.0.0.0/8 or 192.168.1.7",
				"--allow-client %q: %s", cidr, err)
		}
		guard.clients = append(guard.clients, prefix)
	}
	if opts.AuthTokenFile != "" {
		token, err := app.readProxyToken(opts.AuthTokenFile)
		if err != nil {
			return nil, err
		}
		guard.token = token
	}
	if !opts.ListenPublic {
		host, _, _ := net.SplitHostPort(opts.Listen)
		guard.hosts = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
		guard.allowHosts(host)
	}
	return guard, nil
}

// parseClientNetwork reads a CIDR, or a single address as a /32 or /128.
func parseClientNetwork(value string) (netip.Prefix, error) {
	if !strings.Contains(value, "/") {
		addr, err := netip.ParseAddr(value)
		if err != nil {
			return netip.Prefix{}, errors.New("not an address or CIDR")
		}
		return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
	}
	prefix, err := netip.ParsePrefix(value)
	if err != nil {
		return netip.Prefix{}, errors.New("not an address or CIDR")
	}
	return prefix.Masked(), nil
}

// readProxyToken reads the bearer token from its file, which must hold one line of at
// least minProxyTokenLength characters. A file others can read is reported.
func (app *App) readProxyToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", usageError("write a random token to the file, such as with "+
			"'openssl rand -hex 32 > FILE'", "read --auth-token-file: %s", err)
	}
	token := strings.TrimSpace(string(data))
	if len(token) < minProxyTokenLength || strings.ContainsAny(token, " \t\r\n") {
		return "", usageError("write a random token to the file, such as with "+
			"'openssl rand -hex 32 > FILE'", "--auth-token-file %q must hold one token of "+
			"at least %d characters", path, minProxyTokenLength)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		app.notef("warning: --auth-token-file %q has mode %04o: other users can read it "+
			"(chmod 600)", path, info.Mode().Perm())
	}
	return token, nil
}

// allowHosts adds names to the Host values accepted on loopback.
func (g *clientGuard) allowHosts(names ...string) {
	if g.hosts == nil {
		return
	}
	for _, name := range names {
		g.hosts[strings.ToLower(strings.Trim(name, "[]"))] = true
	}
}

// check returns 0 when the client may go on, else the status to answer and why. When the
// bearer token arrives, the header that carried it is removed, so it never goes upstream.
func (g *clientGuard) check(r *http.Request) (status int, reason string) {
	switch {
	case !g.clientAllowed(r.RemoteAddr):
		return http.StatusForbidden, "client address not allowed (--allow-client)"
	case g.hosts != nil && r.Host != "" && !g.hosts[hostOnly(r.Host)]:
		return http.StatusMisdirectedRequest, "unknown Host: use localhost or an upstream's name"
	case isCrossSite(r):
		return http.StatusForbidden, "cross-site browser request refused"
	case g.csrf.Check(r) != nil:
		return http.StatusForbidden, "cross-origin browser request refused"
	case !g.takeToken(r):
		return http.StatusUnauthorized, "send 'Authorization: Bearer TOKEN' with the token " +
			"of --auth-token-file"
	}
	return 0, ""
}

func (g *clientGuard) clientAllowed(remoteAddr string) bool {
	if len(g.clients) == 0 {
		return true
	}
	peer, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	for _, prefix := range g.clients {
		if prefix.Contains(peer.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// takeToken reports whether the request carries the bearer token in Authorization or
// Proxy-Authorization, and deletes that header.
func (g *clientGuard) takeToken(r *http.Request) bool {
	if g.token == "" {
		return true
	}
	for _, name := range []string{"Proxy-Authorization", "Authorization"} {
		value, found := strings.CutPrefix(r.Header.Get(name), "Bearer ")
		if found && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(value)),
			[]byte(g.token)) == 1 {
			r.Header.Del(name)
			return true
		}
	}
	return false
}

// isCrossSite reports a browser request that another site started, whatever its method:
// a page elsewhere must not use the proxy's token, not even through a GET or a websocket.
func isCrossSite(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "cross-site"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// hostOnly is a Host header without its port, lowercase and without brackets.
func hostOnly(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
}
