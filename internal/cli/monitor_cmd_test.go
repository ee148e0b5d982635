package cli

import (
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/monitor"
)

// monitorTestProbed waits for the first round and the first token check.
func monitorTestProbed(s monitor.Status) bool {
	return s.Rounds >= 1 && !s.Tokens.CheckedAt.IsZero()
}

func TestMonitorServesMetricsOverTheEmulator(t *testing.T) {
	f := newMonitorTestFixture(t)
	run := monitorTestStart(t, f.emuFixture, "--config", f.config)
	run.waitStatus("the first round and token check", monitorTestProbed)
	families := run.scrape()

	wants := []struct {
		family string
		labels []string
		value  float64
	}{
		{"cfst_probe_success", []string{"service", "ok"}, 1},
		{"cfst_probe_success", []string{"service", "https://down.example.com/"}, 0},
		{"cfst_probe_success", []string{"service", "tunnel"}, 0},
		{"cfst_probe_class", []string{"service", "ok", "class", "ok"}, 1},
		{"cfst_probe_class", []string{"service", "https://down.example.com/",
			"class", "backend_down"}, 1},
		{"cfst_probe_class", []string{"service", "tunnel", "class", "tunnel_down"}, 1},
		{"cfst_service_failing", []string{"service", "tunnel"}, 1},
		{"cfst_monitor_rounds_total", nil, 1},
	}
	for _, want := range wants {
		got, ok := monitorTestValue(families, want.family, want.labels...)
		if !ok || got != want.value {
			t.Errorf("%s%v = %v (present %v), want %v", want.family, want.labels, got, ok,
				want.value)
		}
	}
	for _, service := range []string{"ok", "tunnel"} {
		latency, ok := monitorTestValue(families, "cfst_probe_latency_seconds",
			"service", service)
		if !ok || latency <= 0 || latency > 5 {
			t.Errorf("latency of %s = %v (present %v), want a few milliseconds", service,
				latency, ok)
		}
	}
	if _, ok := monitorTestValue(families, "cfst_probe_class", "service", "ok",
		"class", "forbidden"); ok {
		t.Error("cfst_probe_class has a second class for ok")
	}
	expiry, ok := monitorTestValue(families, "cfst_token_expiry_seconds", "token", "probe")
	if want := (240 * time.Hour).Seconds(); !ok || math.Abs(expiry-want) > 120 {
		t.Errorf("cfst_token_expiry_seconds{token=probe} = %v (present %v), want about %v",
			expiry, ok, want)
	}
	if _, ok := monitorTestValue(families, "cfst_token_expiry_seconds", "token", "other"); ok {
		t.Error("the unwatched token other has an expiry series")
	}
}

func TestMonitorStatusJSONHealthAndPage(t *testing.T) {
	f := newMonitorTestFixture(t)
	run := monitorTestStart(t, f.emuFixture, "--config", f.config)
	status := run.waitStatus("the first round and token check", monitorTestProbed)

	states := map[string]string{}
	for _, svc := range status.Services {
		states[svc.Name] = svc.State + "/" + svc.Class
	}
	want := map[string]string{"ok": "ok/ok", "https://down.example.com/": "failing/backend_down",
		"tunnel": "failing/tunnel_down"}
	for name, state := range want {
		if states[name] != state {
			t.Errorf("service %s is %q, want %q (all: %v)", name, states[name], state, states)
		}
	}
	if len(status.Tokens.Tokens) != 1 || status.Tokens.Tokens[0].Name != "probe" ||
		status.Tokens.Tokens[0].State != monitor.TokenExpiring {
		t.Errorf("tokens = %+v, want probe, expiring (in 10 days, within 14)",
			status.Tokens.Tokens)
	}
	if !status.Healthy || status.Shard != "0/1" {
		t.Errorf("healthy %v shard %q, want true and 0/1", status.Healthy, status.Shard)
	}
	if code, body := run.get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	code, page := run.get("/")
	if code != http.StatusOK || !strings.Contains(page, `data-service="tunnel"`) ||
		!strings.Contains(page, `data-state="failing"`) {
		t.Errorf("status page = %d:\n%s", code, page)
	}
}

func TestMonitorSecretsStayOut(t *testing.T) {
	f := newMonitorTestFixture(t)
	run := monitorTestStart(t, f.emuFixture, "--config", f.config, "--verbose")
	run.waitStatus("the first round and token check", monitorTestProbed)
	outputs := map[string]string{}
	for _, path := range []string{"/", "/api/status", "/metrics", "/healthz"} {
		_, outputs[path] = run.get(path)
	}
	if code := run.stop(); code != ExitOK {
		t.Errorf("exit code after stop = %d, want 0; stderr:\n%s", code, run.stderr)
	}
	alerts := f.hook.received()
	outputs["alerts"] = strings.Join(alerts, "\n")
	outputs["stderr"], outputs["stdout"] = run.stderr.String(), run.stdout.String()

	// Two failing services and an expiring token, each alerted once per webhook: one
	// JSON, one Slack.
	if len(alerts) != 6 {
		t.Errorf("got %d alerts, want 6:\n%s", len(alerts), outputs["alerts"])
	}
	var generic, slack, token int
	for _, body := range alerts {
		var decoded map[string]any
		if err := json.Unmarshal([]byte(body), &decoded); err != nil {
			t.Fatalf("alert is not JSON: %s", body)
		}
		if decoded["source"] == "cfst monitor" && decoded["state"] == "failing" {
			generic++
		}
		if text, ok := decoded["text"].(string); ok && strings.Contains(text, "is failing") {
			slack++
		}
		if decoded["kind"] == "token" && decoded["state"] == "expiring" {
			token++
		}
	}
	if generic != 2 || slack != 2 || token != 1 {
		t.Errorf("%d generic, %d slack service alerts and %d token alerts, want 2, 2, 1",
			generic, slack, token)
	}
	if !strings.Contains(outputs["stderr"], "service tunnel: pending -> failing") {
		t.Errorf("the change of state is not logged:\n%s", outputs["stderr"])
	}
	for where, text := range outputs {
		assertNoCanary(t, where, text)
		if strings.Contains(text, f.srv.APIToken()) {
			t.Errorf("the API token leaked into %s", where)
		}
	}
}

func TestMonitorReloadsConfigAndEnv(t *testing.T) {
	f := newMonitorTestFixture(t)
	f.writeConfig("interval: 1h\nservices: [ok.example.com]\n")
	run := monitorTestStart(t, f.emuFixture, "--config", f.config, "--reload-every", "10ms")
	run.waitStatus("the first round", func(s monitor.Status) bool { return s.Rounds >= 1 })

	f.writeConfig("interval: 1s\nservices: [ok.example.com, tunnel.example.com]\n")
	run.waitStatus("the reloaded services", func(s monitor.Status) bool {
		return len(s.Services) == 2 && s.IntervalSeconds == 1
	})
	run.waitStderr("reloaded: 2 services")

	f.writeConfig("interval: [not a duration\n")
	run.waitStderr("reload failed, keeping the previous configuration")
	if s := run.status(); len(s.Services) != 2 {
		t.Errorf("after a bad reload: %d services, want the previous 2", len(s.Services))
	}
	failed, _ := monitorTestValue(run.scrape(), "cfst_monitor_reloads_total", "result", "error")
	if failed != 1 {
		t.Errorf("cfst_monitor_reloads_total{result=error} = %v, want 1", failed)
	}

	// New credentials in .env reach the next round: a wrong secret is refused.
	f.writeConfig("interval: 1s\nservices: [ok.example.com]\n")
	monitorTestWrite(t, f.envFile, "CF_SERVICE_TOKEN_CLIENT_ID="+testClientID+"\n"+
		"CF_SERVICE_TOKEN_CLIENT_SECRET=cfast_CANARYwrongWRONGwrongWRONGwrong00\n")
	run.waitStatus("a round with the new secret", func(s monitor.Status) bool {
		return len(s.Services) == 1 && s.Services[0].Class != "ok" && s.Services[0].Class != ""
	})
	assertNoCanary(t, "stderr", run.stderr.String())
}

// TestMonitorStdinTargetsSurviveReloads: with --services -, stdin is read once and its
// targets kept, so the reload after `cfst rotate` takes the new secret from .env; the
// probes pass once the old secret no longer works.
func TestMonitorStdinTargetsSurviveReloads(t *testing.T) {
	f := newMonitorTestFixture(t)
	run := monitorTestStartStdin(t, f.emuFixture, "https://ok.example.com/\n",
		"--services", "-", "--interval", "1s", "--reload-every", "10ms")
	run.waitStatus("the first round", func(s monitor.Status) bool { return s.Rounds >= 1 })

	if result := f.run("rotate", "probe", "--grace", "1h"); result.code != ExitOK {
		t.Fatalf("rotate: exit %d\n%s", result.code, result.stderr)
	}
	run.waitStderr("reloaded: 1 services")
	if result := f.run("rotate", "probe", "--finish"); result.code != ExitOK {
		t.Fatalf("rotate --finish: exit %d\n%s", result.code, result.stderr)
	}
	// A round in flight now may have sent the old secret in time; the next one starts
	// after --finish.
	rounds := run.status().Rounds
	status := run.waitStatus("two more rounds", func(s monitor.Status) bool {
		return s.Rounds >= rounds+2
	})
	if len(status.Services) != 1 || status.Services[0].Class != "ok" {
		t.Errorf("after the rotation: services %+v, want ok.example.com ok", status.Services)
	}
	log := run.stderr.String()
	if strings.Contains(log, "reload failed") {
		t.Errorf("a reload failed:\n%s", log)
	}
	assertNoCanary(t, "stderr", log)
	if strings.Contains(log, proxyTestEnvSecret(t, f.emuFixture).Reveal()) {
		t.Error("the new secret is on stderr")
	}
}

func TestMonitorTargetsFromArguments(t *testing.T) {
	f := newMonitorTestFixture(t)
	services := filepath.Join(f.dir, "services.txt")
	monitorTestWrite(t, services, "https://tunnel.example.com/\n")
	run := monitorTestStart(t, f.emuFixture, "--interval", "1h", "--services", services,
		"ok.example.com")
	status := run.waitStatus("the first round", monitorTestProbed)
	var names []string
	for _, svc := range status.Services {
		names = append(names, svc.Name+"="+svc.State)
	}
	if got := strings.Join(names, " "); got !=
		"ok.example.com=ok https://tunnel.example.com/=pending" {
		t.Errorf("services = %s, want ok then tunnel, pending below the default threshold 2",
			got)
	}
	if status.IntervalSeconds != 3600 || len(status.Tokens.Tokens) != 2 {
		t.Errorf("interval %vs, %d tokens; want 3600s and every token", status.IntervalSeconds,
			len(status.Tokens.Tokens))
	}
	if !strings.Contains(run.stderr.String(), "2 services, shard 0/1, every 1h0m0s; tokens "+
		"watched through the API") {
		t.Errorf("announcement:\n%s", run.stderr)
	}
}

func TestMonitorShardWithoutAPIToken(t *testing.T) {
	f := newMonitorTestFixture(t)
	f.env["CLOUDFLARE_API_TOKEN"] = ""
	run := monitorTestStart(t, f.emuFixture, "--config", f.config, "--shard", "1/2")
	status := run.waitStatus("the first round", func(s monitor.Status) bool {
		return s.Rounds >= 1
	})
	if status.Shard != "1/2" || len(status.Services) >= 3 || !status.Tokens.CheckedAt.IsZero() {
		t.Errorf("shard %q, %d services, tokens checked at %v; want 1/2, part of the 3, "+
			"no token check", status.Shard, len(status.Services), status.Tokens.CheckedAt)
	}
	if !strings.Contains(run.stderr.String(), "tokens watched by shard 0") {
		t.Errorf("announcement:\n%s", run.stderr)
	}
}

func TestMonitorRefusesForeignHosts(t *testing.T) {
	f := newMonitorTestFixture(t)
	run := monitorTestStart(t, f.emuFixture, "--config", f.config)
	req, err := http.NewRequest(http.MethodGet, run.base+"/api/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "rebound.attacker.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host rebound.attacker.example: %d, want 421", resp.StatusCode)
	}
	if code, _ := run.get("/healthz"); code != http.StatusOK {
		t.Errorf("Host 127.0.0.1: %d, want 200", code)
	}
}

func TestMonitorBadInput(t *testing.T) {
	f := newMonitorTestFixture(t)
	badConfig := filepath.Join(f.dir, "bad.yaml")
	monitorTestWrite(t, badConfig, "interval: 5m\nalerts:\n  treshold: 2\n")
	cases := []struct {
		name  string
		args  []string
		code  int
		error string
	}{
		{"no services", nil, ExitUsage, "needs services to probe"},
		{"config and targets", []string{"--config", f.config, "ok.example.com"}, ExitUsage,
			"--config excludes"},
		{"bad shard", []string{"--shard", "2/2", "ok.example.com"}, ExitUsage,
			`invalid shard "2/2"`},
		{"short interval", []string{"--interval", "10ms", "ok.example.com"}, ExitUsage,
			"--interval must be at least 1s"},
		{"bad listen", []string{"--listen", "nowhere", "ok.example.com"}, ExitUsage,
			`--listen "nowhere"`},
		{"public listen", []string{"--listen", "0.0.0.0:0", "ok.example.com"}, ExitRefused,
			"not a loopback address"},
		{"bad allow-client", []string{"--allow-client", "ten", "ok.example.com"}, ExitUsage,
			`--allow-client "ten"`},
		{"unknown key", []string{"--config", badConfig}, ExitUsage,
			`bad.yaml:3: unknown key "treshold"`},
		{"missing config", []string{"--config", filepath.Join(f.dir, "none.yaml")},
			ExitUsage, "no such file"},
		{"bad target", []string{"ftp://ok.example.com"}, ExitUsage, "ftp"},
		{"unknown flag", []string{"--intervall", "1m"}, ExitUsage, "unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result := f.run(append([]string{"monitor", "--listen", "127.0.0.1:0"},
				c.args...)...)
			t.Log(result.stderr)
			lines := strings.Split(strings.TrimSpace(result.stderr), "\n")
			if result.code != c.code || len(lines) != 2 ||
				!strings.Contains(lines[0], c.error) || !strings.HasPrefix(lines[1], "hint: ") {
				t.Errorf("exit %d, want %d with %q and a hint; stderr:\n%s", result.code, c.code,
					c.error, result.stderr)
			}
		})
	}
	f.writeEnv("")
	result := f.run("monitor", "--listen", "127.0.0.1:0", "ok.example.com")
	if result.code != ExitUsage || !strings.Contains(result.stderr, "hint: create a token") {
		t.Errorf("without credentials: exit %d\n%s", result.code, result.stderr)
	}
}
