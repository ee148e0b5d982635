package emulator_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
)

const goodWorld = `seed: 7
account_id: 0123456789abcdef0123456789abcdef
team: lab
strict: true
token_limit: 10
rate_limit: {requests: 100, window: 1m}
api_tokens:
  - {value: t0k3n, permissions: [service_tokens:read, apps:read]}
service_tokens:
  - name: ci
    client_id: 0123456789abcdef0123456789abcdef.access
    client_secret: cfast_not-a-real-secret
    duration: 720h
    expires_at: +240h
    previous_client_secret: old-secret
    previous_client_secret_expires_at: +1h
  - {name: forever, duration: forever, scope: zone, enabled: false}
groups:
  - name: robots
    include: [{service_token: {token_id: ci}}]
policies:
  - name: robots-only
    decision: non_identity
    include: [{group: {id: robots}}]
    exclude: [{ip: {ip: 192.0.2.0/24}}]
applications:
  - name: grafana
    domain: grafana.example.com
    destinations: [grafana.example.com/api/*, "*.grafana.example.com"]
    policies: [robots-only]
    origin: slow:50ms
  - name: wiki
    scope: zone
    domain: wiki.example.com
    read_service_tokens_from_header: Authorization
    service_auth_401_redirect: true
    policies:
      - name: people
        decision: allow
        include: [{email_domain: {domain: example.com}}]
        precedence: 2
      - name: tokens
        precedence: 1
        decision: non_identity
        include: [{service_token: {token_id: forever}}]
    origin: https://127.0.0.1:9/
faults:
  - {method: POST, path: "/accounts/*/access/service_tokens", status: 503, latency: 200ms,
     times: 2}
`

func TestParseWorldGood(t *testing.T) {
	w, err := emulator.ParseWorld("good.yaml", []byte(goodWorld))
	if err != nil {
		t.Fatalf("ParseWorld: %v", err)
	}
	if w.TeamDomain() != "lab.cloudflareaccess.com" || !w.Strict || w.TokenLimit != 10 {
		t.Errorf("team domain %q, strict %v, limit %d", w.TeamDomain(), w.Strict, w.TokenLimit)
	}
	ci, forever := w.ServiceTokens[0], w.ServiceTokens[1]
	if got := w.Groups[0].Include[0].ServiceToken.TokenID; got != ci.ID {
		t.Errorf("the group's token rule names %q, want the id of ci %q", got, ci.ID)
	}
	if got := w.Policies[0].Include[0].Group.ID; got != w.Groups[0].ID {
		t.Errorf("the policy's group rule names %q, want the group's id", got)
	}
	grafana, wiki := w.Applications[0], w.Applications[1]
	if grafana.Policies[0].Ref != w.Policies[0].ID || grafana.Policies[0].Precedence != 1 {
		t.Errorf("grafana's policy = %+v", grafana.Policies[0])
	}
	if wiki.Policies[0].ID == "" || wiki.Policies[0].Ref != "" ||
		wiki.Origin != "https://127.0.0.1:9/" {
		t.Errorf("wiki = %+v", wiki)
	}
	if len(grafana.AUD) != 64 || wiki.ID == "" || forever.ClientID == "" ||
		forever.ClientSecret.Reveal() == "" {
		t.Errorf("generated values missing: aud %q, id %q", grafana.AUD, wiki.ID)
	}
	if w.Faults[0].Latency.Milliseconds() != 200 {
		t.Errorf("fault latency = %s", w.Faults[0].Latency)
	}
}

func TestParseWorldIsDeterministicWithSeed(t *testing.T) {
	a, errA := emulator.ParseWorld("a.yaml", []byte(goodWorld))
	b, errB := emulator.ParseWorld("b.yaml", []byte(goodWorld))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a.Applications[0].AUD != b.Applications[0].AUD || a.ZoneID != b.ZoneID ||
		!a.ServiceTokens[1].ClientSecret.Equal(b.ServiceTokens[1].ClientSecret.Secret) {
		t.Error("a seeded world generated different values twice")
	}
	grown := goodWorld + "  - {status: 429, times: 1}\n" // nothing the ids depend on
	grown = strings.Replace(grown, "groups:\n", "groups:\n  - {name: first, include: "+
		"[{everyone: {}}]}\n", 1)
	e, err := emulator.ParseWorld("e.yaml", []byte(grown))
	if err != nil {
		t.Fatal(err)
	}
	if e.ServiceTokens[0].ID != a.ServiceTokens[0].ID || e.Groups[1].ID != a.Groups[0].ID ||
		e.Applications[0].AUD != a.Applications[0].AUD || e.Groups[0].ID == e.Groups[1].ID {
		t.Error("adding a group changed the generated values of others")
	}
	unseeded := strings.Replace(goodWorld, "seed: 7", "", 1)
	c, _ := emulator.ParseWorld("c.yaml", []byte(unseeded))
	d, _ := emulator.ParseWorld("d.yaml", []byte(unseeded))
	if c.Applications[0].AUD == d.Applications[0].AUD {
		t.Error("an unseeded world generated the same AUD twice")
	}
}

// threeApps is a world whose applications[2].origin is on line 12.
const threeApps = `team: demo
applications:
  - name: one
    domain: one.example.com
  - name: two
    domain: two.example.com
    policies:
      - {name: p, decision: allow, include: [{everyone: {}}]}
  - name: three
    domain: three.example.com
    policies: []
    origin: donw
`

func TestParseWorldErrors(t *testing.T) {
	app := func(fields string) string {
		return "applications:\n  - name: a\n    domain: a.example.com\n" + fields
	}
	inline := func(name string) string {
		return "{name: " + name + ", decision: allow, include: [{everyone: {}}]}"
	}
	cases := []struct{ name, yaml, want string }{
		{"syntax", "team: [demo\n", "bad.yaml:1: did not find expected ',' or ']'"},
		{"tab indentation", "team: demo\n\tstrict: true\n",
			"bad.yaml:2: found a tab character that violates indentation"},
		{"unknown top-level field", "teem: demo\n", `bad.yaml:1: unknown field "teem"`},
		{"unknown app field", app("    orgin: down\n"),
			`bad.yaml:4: applications[0]: unknown field "orgin"`},
		{"unknown origin", threeApps, `bad.yaml:12: applications[2].origin: unknown origin ` +
			`"donw" (want ok, down, tunnel-down, slow:<duration>, status:<code> or a URL)`},
		{"bad slow origin", app("    origin: slow:soon\n"), `bad.yaml:4: applications[0].` +
			`origin: invalid delay in origin "slow:soon" (want slow:<duration> such as slow:2s)`},
		{"bad status origin", app("    origin: status:99\n"), `bad.yaml:4: applications[0].` +
			`origin: invalid status in origin "status:99" (want status:<code> such as ` +
			`status:503)`},
		{"integer wanted", "token_limit: lots\n",
			`bad.yaml:1: token_limit: want an integer, got "lots"`},
		{"bool wanted", "strict: maybe\n", `bad.yaml:1: strict: want true or false, got "maybe"`},
		{"list wanted", "applications: {a: 1}\n",
			"bad.yaml:1: applications: want a list, got a mapping"},
		{"mapping wanted", "applications: [one]\n",
			`bad.yaml:1: applications[0]: want a mapping, got "one"`},
		{"secret as a mapping", "service_tokens:\n  - name: a\n    client_secret: {v: 1}\n",
			"bad.yaml:3: service_tokens[0].client_secret: want a string, got a mapping"},
		{"bad latency", "faults:\n  - {status: 503, latency: fast}\n",
			`bad.yaml:2: faults[0].latency: want a duration such as 200ms, got "fast"`},
		{"bad account id", "account_id: 12345\n",
			`bad.yaml:1: account_id: want 32 lowercase hex digits, got "12345"`},
		{"bad team", "team: My Team\n",
			`bad.yaml:1: team: want a DNS label such as "demo", got "My Team"`},
		{"negative token limit", "token_limit: -1\n",
			"bad.yaml:1: token_limit: want a positive number, got -1"},
		{"bad rate window", "rate_limit: {requests: 5, window: 5}\n",
			`bad.yaml:1: rate_limit.window: invalid duration "5" (want a positive Go duration ` +
				`such as 8760h or 90m; units ns, us, ms, s, m, h)`},
		{"unknown permission", "api_tokens:\n  - value: x\n    permissions: [apps:read, rm]\n",
			`bad.yaml:3: api_tokens[0].permissions[1]: unknown permission "rm" (want ` +
				`service_tokens:read, service_tokens:write, apps:read, apps:write, ` +
				`policies:read, policies:write, logs:read, notifications:write or all)`},
		{"API token without value", "api_tokens:\n  - permissions: [all]\n",
			"bad.yaml:2: api_tokens[0].value: missing token value"},
		{"token duration 1y", "service_tokens:\n  - name: a\n    duration: 1y\n",
			`bad.yaml:3: service_tokens[0].duration: invalid duration "1y" (want a positive Go ` +
				`duration such as 8760h or 90m, or forever)`},
		{"token duration -5h", "service_tokens:\n  - name: a\n    duration: -5h\n",
			`bad.yaml:3: service_tokens[0].duration: invalid duration "-5h" (want a positive Go ` +
				`duration such as 8760h or 90m, or forever)`},
		{"bad expires_at", "service_tokens:\n  - name: a\n    expires_at: next week\n",
			`bad.yaml:3: service_tokens[0].expires_at: invalid time "next week" (want RFC 3339 ` +
				`such as 2027-01-31T12:00:00Z, a duration from now such as -48h or +720h, ` +
				`or expired)`},
		{"expiring forever token", "service_tokens:\n  - name: a\n    duration: forever\n" +
			"    expires_at: expired\n", "bad.yaml:4: service_tokens[0].expires_at: a token " +
			"whose duration is forever never expires"},
		{"previous secret without grace", "service_tokens:\n  - name: a\n" +
			"    previous_client_secret: old\n", "bad.yaml:3: service_tokens[0]." +
			"previous_client_secret: a previous secret needs previous_client_secret_expires_at, " +
			"the end of its grace"},
		{"token without name", "service_tokens:\n  - duration: 1h\n",
			"bad.yaml:2: service_tokens[0].name: missing name"},
		{"token name too long", "service_tokens:\n  - name: " + strings.Repeat("n", 351) + "\n",
			"bad.yaml:2: service_tokens[0].name: name is longer than 350 characters"},
		{"duplicate token name", "service_tokens:\n  - name: a\n  - name: a\n",
			`bad.yaml:3: service_tokens[1].name: the name "a" is used twice`},
		{"bad token scope", "service_tokens:\n  - name: a\n    scope: org\n",
			`bad.yaml:3: service_tokens[0].scope: unknown scope "org" (want account or zone)`},
		{"unknown token in a group", "groups:\n  - name: g\n    include:\n" +
			"      - service_token: {token_id: ghost}\n",
			`bad.yaml:4: groups[0].include[0].service_token.token_id: unknown service token ` +
				`"ghost" (want the name or id of one of service_tokens)`},
		{"group without include", "groups:\n  - name: g\n",
			"bad.yaml:2: groups[0].include: at least one include rule is needed"},
		{"group cycle", "groups:\n  - name: a\n    include: [{group: {id: b}}]\n" +
			"  - name: b\n    include: [{group: {id: a}}]\n",
			`bad.yaml:2: groups[0]: group "a" includes itself through its rules`},
		{"unknown group in a policy", "policies:\n  - name: p\n    decision: allow\n" +
			"    include: [{group: {id: ghosts}}]\n",
			`bad.yaml:4: policies[0].include[0].group.id: unknown group "ghosts" (want the name ` +
				`or id of one of groups)`},
		{"bad decision", "policies:\n  - name: p\n    decision: block\n" +
			"    include: [{everyone: {}}]\n", `bad.yaml:3: policies[0].decision: unknown ` +
			`decision "block" (want allow, deny, non_identity or bypass)`},
		{"two selectors", "policies:\n  - name: p\n    decision: allow\n" +
			"    include: [{everyone: {}, certificate: {}}]\n",
			"bad.yaml:4: policies[0].include[0]: want exactly one selector (service_token, " +
				"any_valid_service_token, group, everyone, ip, geo, email, email_domain or " +
				"certificate), got 2"},
		{"unknown selector", "policies:\n  - name: p\n    decision: allow\n" +
			"    include: [{login_method: {id: x}}]\n",
			`bad.yaml:4: policies[0].include[0]: unknown field "login_method"`},
		{"bad ip rule", "policies:\n  - name: p\n    decision: allow\n" +
			"    include: [{ip: {ip: 10.0.0.300}}]\n", `bad.yaml:4: policies[0].include[0]: ` +
			`ip: want an address or CIDR range, got "10.0.0.300"`},
		{"unknown policy ref", app("    policies: [ghost]\n"),
			`bad.yaml:4: applications[0].policies[0].ref: unknown policy "ghost" (want the name ` +
				`or id of one of policies)`},
		{"mixed policies", "policies:\n  - " + inline("r") + "\n" +
			app("    policies:\n      - r\n      - "+inline("i")+"\n"),
			"bad.yaml:6: applications[0].policies: reusable and inline policies cannot be mixed " +
				"in one application"},
		{"duplicate precedence", app("    policies:\n" +
			"      - {name: x, decision: allow, include: [{everyone: {}}], precedence: 2}\n" +
			"      - {name: y, decision: allow, include: [{everyone: {}}]}\n"),
			"bad.yaml:6: applications[0].policies[1].precedence: want a positive precedence, " +
				"unique within the application, got 2"},
		{"inline policy without name", app("    policies:\n      - {decision: allow}\n"),
			"bad.yaml:5: applications[0].policies[0].name: missing name (or ref, to use a " +
				"reusable policy)"},
		{"domain with scheme", "applications:\n  - name: a\n    domain: https://a.example.com\n",
			`bad.yaml:3: applications[0].domain: want a hostname and optional path without a ` +
				`scheme, got "https://a.example.com"`},
		{"app without domain", "applications:\n  - name: a\n",
			"bad.yaml:2: applications[0].domain: missing domain"},
		{"fault status", "faults:\n  - {path: /accounts, status: 200}\n",
			"bad.yaml:2: faults[0].status: want a status from 400 to 599, or 0 for latency " +
				"only, got 200"},
		{"fault path", "faults:\n  - {path: accounts, status: 503}\n",
			`bad.yaml:2: faults[0].path: want a path starting with /, got "accounts"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emulator.ParseWorld("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("ParseWorld accepted:\n%s", tc.yaml)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func TestLoadWorld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(path, []byte("team: lab\nstrict: yes please\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := emulator.LoadWorld(path)
	if want := path + `:2: strict: want true or false, got "yes please"`; err == nil ||
		err.Error() != want {
		t.Errorf("LoadWorld = %v, want %s", err, want)
	}
	if _, err := emulator.LoadWorld(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadWorld of a missing file = nil error")
	}
	if err := os.WriteFile(path, []byte(goodWorld), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.LoadWorld(path); err != nil {
		t.Errorf("LoadWorld of a good world: %v", err)
	}
}

func TestEmptyAndGoBuiltWorlds(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "{}\n"} {
		w, err := emulator.ParseWorld("empty.yaml", []byte(text))
		if err != nil || w.TeamDomain() != "demo.cloudflareaccess.com" || w.TokenLimit != 50 {
			t.Errorf("ParseWorld(%q) = %+v, %v", text, w, err)
		}
	}
	w := &emulator.World{Applications: []emulator.WorldApp{{Name: "a", Domain: "a.example.com",
		Origin: "sideways"}}}
	want := `world: applications[0].origin: unknown origin "sideways" (want ok, down, ` +
		`tunnel-down, slow:<duration>, status:<code> or a URL)`
	if err := w.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	srv := startWorld(t, nil)
	if srv.APIToken() != "" || len(srv.AccountID()) != 32 {
		t.Errorf("an empty world: token %q, account %q", srv.APIToken(), srv.AccountID())
	}
}

func TestDefaultWorld(t *testing.T) {
	w := emulator.DefaultWorld()
	if err := w.Validate(); err != nil {
		t.Fatalf("the default world does not validate: %v", err)
	}
	var names []string
	for _, app := range w.Applications {
		names = append(names, app.Name)
		if app.Domain != app.Name+".example.com" {
			t.Errorf("%s is at %s, want %s.example.com", app.Name, app.Domain, app.Name)
		}
	}
	want := []string{"pihole", "jaeger", "langfuse", "ha", "sprinkler", "code", "webhook"}
	if !slices.Equal(names, want) {
		t.Errorf("services = %v, want %v", names, want)
	}
	origins := map[string]string{}
	for _, app := range w.Applications {
		origins[app.Name] = app.Origin
	}
	if origins["langfuse"] != "down" || origins["sprinkler"] != "tunnel-down" ||
		origins["jaeger"] != "ok" {
		t.Errorf("origins = %v", origins)
	}
	if w.TeamDomain() != "demo.cloudflareaccess.com" || len(w.ServiceTokens) != 1 ||
		w.ServiceTokens[0].Name != "legacy-monitor" {
		t.Errorf("team %q, tokens %+v", w.TeamDomain(), w.ServiceTokens)
	}
	if a, b := emulator.DefaultWorld(), emulator.DefaultWorld(); a.Applications[0].AUD !=
		b.Applications[0].AUD || &a.Applications[0] == &b.Applications[0] {
		t.Error("DefaultWorld must return equal but separate worlds")
	}
	if !strings.Contains(string(emulator.DefaultWorldYAML()), "legacy-monitor") {
		t.Error("DefaultWorldYAML lacks the default world's text")
	}
}

func TestDefaultWorldPolicies(t *testing.T) {
	w := emulator.DefaultWorld()
	decisions := map[string][]access.Decision{}
	byID := map[string]access.Decision{}
	for _, p := range w.Policies {
		byID[p.ID] = p.Decision
	}
	for _, app := range w.Applications {
		for _, p := range app.Policies {
			decisions[app.Name] = append(decisions[app.Name], byID[p.Ref])
		}
	}
	if !slices.Equal(decisions["code"], []access.Decision{access.DecisionAllow}) {
		t.Errorf("code's decisions = %v, want only allow", decisions["code"])
	}
	for _, name := range []string{"pihole", "jaeger", "langfuse", "ha", "sprinkler", "webhook"} {
		if !slices.Contains(decisions[name], access.DecisionNonIdentity) {
			t.Errorf("%s has no Service Auth policy: %v", name, decisions[name])
		}
	}
}
