package transport_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

func TestParseConnectTo(t *testing.T) {
	tests := []struct {
		entry string
		want  transport.ConnectTo
	}{
		{"app.example.com:443:127.0.0.1:8443",
			transport.ConnectTo{FromHost: "app.example.com", FromPort: 443,
				ToHost: "127.0.0.1", ToPort: 8443}},
		{"::127.0.0.1:8443", transport.ConnectTo{ToHost: "127.0.0.1", ToPort: 8443}},
		{":443::8443", transport.ConnectTo{FromPort: 443, ToPort: 8443}},
		{":::", transport.ConnectTo{}},
		{"APP.Example.COM::LocalHost:", transport.ConnectTo{FromHost: "app.example.com",
			ToHost: "localhost"}},
		{"[::1]:443:[2001:DB8:0::1]:443", transport.ConnectTo{FromHost: "::1", FromPort: 443,
			ToHost: "2001:db8::1", ToPort: 443}},
		{"app.test.:1:[::ffff:10.0.0.1]:65535", transport.ConnectTo{FromHost: "app.test.",
			FromPort: 1, ToHost: "::ffff:10.0.0.1", ToPort: 65535}},
	}
	for _, tt := range tests {
		got, err := transport.ParseConnectTo(tt.entry)
		if err != nil {
			t.Errorf("ParseConnectTo(%q): %v", tt.entry, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseConnectTo(%q) = %+v, want %+v", tt.entry, got, tt.want)
		}
	}
}

func TestParseConnectToErrors(t *testing.T) {
	bad := []string{
		"", "a", "a:1", "a:1:b", "a:1:b:2:c", "a:0:b:1", "a:65536:b:1", "a:+1:b:1",
		"a:-1:b:1", "a:1:b:x", "a:000443:b:1", "[::1:443:b:1", "[::1]443:b:1",
		"[1.2.3.4]:1:b:1", "[]:1:b:1", "[fe80::1%eth0]:1:b:2", "a b:1:c:2", "a/b:1:c:2",
		"a:1:[::1]:[2]", "::1:443:b:1",
	}
	for _, entry := range bad {
		_, err := transport.ParseConnectTo(entry)
		if err == nil {
			t.Errorf("ParseConnectTo(%q) succeeded", entry)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Quote(entry)) || strings.Contains(msg, "\n") {
			t.Errorf("ParseConnectTo(%q) error %q should be one line quoting the entry",
				entry, msg)
		}
	}
}

func TestParseConnectToList(t *testing.T) {
	want := []transport.ConnectTo{
		{FromHost: "a.test", FromPort: 443, ToHost: "127.0.0.1", ToPort: 1},
		{ToHost: "::1", ToPort: 2},
	}
	for _, list := range []string{
		"a.test:443:127.0.0.1:1,::[::1]:2",
		"a.test:443:127.0.0.1:1 ::[::1]:2",
		" a.test:443:127.0.0.1:1 ,\t::[::1]:2 ,",
	} {
		got, err := transport.ParseConnectToList(list)
		if err != nil {
			t.Fatalf("ParseConnectToList(%q): %v", list, err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("ParseConnectToList(%q) = %+v, want %+v", list, got, want)
		}
	}
	if got, err := transport.ParseConnectToList(" , "); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v, %v", got, err)
	}
}

func TestConnectToFromEnv(t *testing.T) {
	env := map[string]string{transport.ConnectToEnv: "a.test:443:b.test:8443, c.test:1:d"}
	_, err := transport.ConnectToFromEnv(func(name string) string { return env[name] })
	if err == nil {
		t.Fatal("bad entry accepted")
	}
	want := `CFST_CONNECT_TO: connect-to "c.test:1:d": want HOST1:PORT1:HOST2:PORT2`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	env[transport.ConnectToEnv] = "a.test:443:b.test:8443"
	rules, err := transport.ConnectToFromEnv(func(name string) string { return env[name] })
	if err != nil || len(rules) != 1 || rules[0].ToHost != "b.test" {
		t.Errorf("rules %+v, err %v", rules, err)
	}
}

func TestRoute(t *testing.T) {
	rules := []transport.ConnectTo{
		{FromHost: "app.test", FromPort: 443, ToHost: "10.0.0.1", ToPort: 8443},
		{FromHost: "app.test", ToHost: "10.0.0.2"},
		{FromPort: 8080, ToPort: 9090},
		{FromHost: "::1", ToHost: "::2"},
	}
	tests := []struct{ addr, want string }{
		{"app.test:443", "10.0.0.1:8443"},
		{"APP.test.:443", "10.0.0.1:8443"},
		{"app.test:444", "10.0.0.2:444"},
		{"other.test:8080", "other.test:9090"},
		{"other.test:443", "other.test:443"},
		{"[::1]:443", "[::2]:443"},
		{"not-an-address", "not-an-address"},
	}
	for _, tt := range tests {
		if got := transport.Route(rules, tt.addr); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := transport.Route(nil, "app.test:443"); got != "app.test:443" {
		t.Errorf("no rules: %q", got)
	}
}

// TestConnectToDials checks that a rule with an empty HOST1 sends every hostname to the
// server, while TLS and the Host header keep the URL's hostname.
func TestConnectToDials(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Host+" "+r.TLS.ServerName)
	}))
	rules := transporttest.RouteTo(srv) // ::127.0.0.1:port, every host
	client, err := transport.NewClient(transport.Options{RootCAs: ca.Pool(), ConnectTo: rules})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"https://app.test/", "app.test app.test"},
		{"https://other.invalid:8443/x", "other.invalid:8443 other.invalid"},
	}
	for _, tt := range tests {
		resp, err := client.Get(tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("GET %s: server saw Host and SNI %q, want %q", tt.url, body, tt.want)
		}
	}
}

// TestConnectToLeavesOtherHosts checks that a rule for one host does not reroute others.
func TestConnectToLeavesOtherHosts(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := ca.NewServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	client, err := transport.NewClient(transport.Options{RootCAs: ca.Pool(),
		ConnectTo: transporttest.RouteTo(srv, "app.test")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET",
		"https://elsewhere.cfst.invalid/", nil)
	if resp, err := client.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("a host without a rule reached the test server")
	} else if !strings.Contains(err.Error(), "no such host") {
		t.Errorf("want a DNS failure, got %v", err)
	}
}

func TestConnectToListFlag(t *testing.T) {
	var list transport.ConnectToList
	for _, value := range []string{"a.test:443:b.test:1", "::[::1]:2,:80::81"} {
		if err := list.Set(value); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := list.String(), "a.test:443:b.test:1,::[::1]:2,:80::81"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := list.Set("nope"); err == nil || len(list) != 3 {
		t.Errorf("bad value: err %v, %d rules", err, len(list))
	}
}

// FuzzParseConnectTo checks that parsing never panics and that every accepted entry
// survives a round trip through String.
func FuzzParseConnectTo(f *testing.F) {
	for _, seed := range []string{
		"app.example.com:443:127.0.0.1:8443", "::127.0.0.1:8443", ":::", "[::1]:1:[::2]:2",
		"[::ffff:1.2.3.4]::a:", "a:1:b", "[::1", "a:0443:b:1", "A.B.:1::",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		rule, err := transport.ParseConnectTo(entry)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q", entry)
			}
			return
		}
		text := rule.String()
		again, err := transport.ParseConnectTo(text)
		if err != nil {
			t.Fatalf("%q parsed as %+v, whose String %q does not parse: %v",
				entry, rule, text, err)
		}
		if again != rule || again.String() != text {
			t.Fatalf("round trip of %q: %+v then %+v", entry, rule, again)
		}
		list, err := transport.ParseConnectToList(text + "," + text)
		if err != nil || len(list) != 2 || list[0] != rule {
			t.Fatalf("list of %q: %+v, %v", text, list, err)
		}
	})
}
