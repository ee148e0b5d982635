package cli

import (
	"fmt"
	"net"
	"net/http"
)

// monitorGuard checks --listen and --allow-client and returns the guard of the monitor's
// server: the proxy's, of which the monitor uses the client allowlist and, on loopback,
// the Host check against DNS rebinding. The monitor serves no credential, so a public
// address needs --listen-public but no bearer token.
func (app *App) monitorGuard(opts *monitorOptions) (*clientGuard, error) {
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, usageError("write --listen HOST:PORT, such as 127.0.0.1:9464",
			"--listen %q: %s", opts.Listen, err)
	}
	if !isLoopbackHost(host) && !opts.ListenPublic {
		return nil, withCode(ExitRefused, fmt.Errorf("refusing to listen on %q: it is not "+
			"a loopback address, and anyone who reaches it sees the services and tokens",
			opts.Listen), "listen on 127.0.0.1, or pass --listen-public (and maybe "+
			"--allow-client CIDR)")
	}
	return app.newClientGuard(&proxyOptions{Listen: opts.Listen,
		ListenPublic: opts.ListenPublic, AllowClients: opts.AllowClients})
}

// guardMonitor refuses clients outside --allow-client and, on loopback, requests for
// a Host other than localhost or a loopback address. Cross-site requests are fine: the
// pages are read-only and a dashboard may link to them.
func guardMonitor(guard *clientGuard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !guard.clientAllowed(r.RemoteAddr):
			http.Error(w, "client address not allowed (--allow-client)", http.StatusForbidden)
		case guard.hosts != nil && r.Host != "" && !guard.hosts[hostOnly(r.Host)]:
			http.Error(w, "unknown Host: use localhost or 127.0.0.1",
				http.StatusMisdirectedRequest)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
