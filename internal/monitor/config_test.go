package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/probe"
)

func TestParseConfig(t *testing.T) {
	const text = `# a monitor
interval: 45s
timeout: 3s
services:
  - https://jaeger.example.com/
  - {host: pihole.example.com, path: /admin, name: pihole, expect: 200}
tokens:
  watch: [ci-runner]
  interval: 10m
  expiring_within: 21d
  usage: false
alerts:
  failure_threshold: 3
  min_interval: 0s
  webhooks:
    - {name: ops, url_env: OPS_HOOK, format: slack}
    - {name: log, url: "http://127.0.0.1:9000/hook"}
`
	lookup := func(key string) string {
		return map[string]string{"OPS_HOOK": "https://hooks.example.com/T0/B0/secret"}[key]
	}
	cfg, err := ParseConfig("monitor.yaml", []byte(text), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != 45*time.Second || cfg.Timeout != 3*time.Second || cfg.History != 30 ||
		cfg.Concurrency != probe.DefaultConcurrency {
		t.Errorf("schedule: %+v", cfg)
	}
	if len(cfg.Services) != 2 || cfg.Services[1].Name != "pihole" ||
		cfg.Services[1].URL != "https://pihole.example.com/admin" ||
		cfg.Services[1].ExpectStatus != 200 {
		t.Errorf("services: %+v", cfg.Services)
	}
	tokens := cfg.Tokens
	if tokens.Usage || tokens.Interval != 10*time.Minute || tokens.ExpiringWithin != 21*24*time.Hour ||
		tokens.UsageSince != time.Hour || tokens.UsageBaseline != 7*24*time.Hour ||
		len(tokens.Watch) != 1 {
		t.Errorf("tokens: %+v", tokens)
	}
	alerts := cfg.Alerts
	if alerts.FailureThreshold != 3 || alerts.SuccessThreshold != 2 || alerts.MinInterval != 0 ||
		alerts.Timeout != 5*time.Second || len(alerts.Webhooks) != 2 ||
		alerts.Webhooks[0].Format != FormatSlack || alerts.Webhooks[1].Format != FormatJSON ||
		alerts.Webhooks[0].URL.Reveal() != "https://hooks.example.com/T0/B0/secret" {
		t.Errorf("alerts: %+v", alerts)
	}
	if strings.Contains(fmt.Sprintf("%+v", cfg), "secret") {
		t.Errorf("a webhook URL prints: %+v", cfg)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("empty.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != DefaultInterval || !cfg.Tokens.Usage || cfg.Alerts.MinInterval != 10*time.Minute ||
		cfg.Alerts.QueueSize != 100 || len(cfg.Services) != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestParseConfigErrors(t *testing.T) {
	lookup := func(string) string { return "" }
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", "interval: 5s\ncolour: red\n", `m.yaml:2: unknown key "colour"`},
		{"bad type", "history: many\n", "m.yaml:1: cannot unmarshal"},
		{"bad duration", "interval: soon\n", `m.yaml: interval: invalid duration "soon"`},
		{"short interval", "interval: 10ms\n", "interval: want at least 1s"},
		{"threshold", "alerts: {failure_threshold: -1}\n", "alerts.failure_threshold: want"},
		{"bad service keeps its line", "interval: 5s\n\nservices:\n  - ok.example.com\n" +
			"  - {host: x.example.com, colour: red}\ntokens: {usage: true}\n",
			`m.yaml:5: unknown key "colour"`},
		{"both urls", "alerts:\n  webhooks: [{name: a, url: 'https://x/', url_env: A}]\n",
			`webhook "a": give url or url_env, not both`},
		{"unset variable", "alerts:\n  webhooks: [{name: a, url_env: HOOK}]\n",
			`webhook "a": HOOK is not set`},
		{"no url", "alerts:\n  webhooks: [{name: a}]\n", "url or url_env is required"},
		{"not a URL", "alerts:\n  webhooks: [{name: a, url: 'ftp://credential@x/'}]\n",
			"not an http or https URL"},
		{"format", "alerts:\n  webhooks: [{name: a, url: 'https://x/', format: xml}]\n",
			`format "xml"`},
		{"twice", "alerts:\n  webhooks: [{name: a, url: 'https://x/'}, {name: a, url: " +
			"'https://y/'}]\n", `webhook "a" is defined twice`},
		{"services and file", "services: [a.example.com]\nservices_file: s.txt\n",
			"give services or services_file, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("m.yaml", []byte(tt.text), lookup)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "credential") {
				t.Errorf("the error quotes a webhook URL: %v", err)
			}
		})
	}
}

func TestParseConfigReadsAServicesFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "services.txt"),
		[]byte("a.example.com\nhttps://b.example.com/health\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "monitor.yaml")
	if err := os.WriteFile(path, []byte("services_file: services.txt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, nil)
	if err != nil || len(cfg.Services) != 2 || cfg.Services[1].URL != "https://b.example.com/health" {
		t.Fatalf("services %+v, %v", cfg, err)
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		text string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},
		{"2/3", Shard{2, 3}, true},
		{" 1/2 ", Shard{1, 2}, true},
		{"3/3", Shard{}, false},
		{"-1/3", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
		{"0/0", Shard{}, false},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.text)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v", tt.text, got, err)
		}
	}
}

// TestShardsSplitTargets checks that every target belongs to exactly one shard, that
// the split does not depend on the other targets, and that it is roughly even.
func TestShardsSplitTargets(t *testing.T) {
	const count = 4
	owners := map[string]int{}
	perShard := make([]int, count)
	for i := range 400 {
		target := probe.Target{URL: fmt.Sprintf("https://svc%d.example.com/", i)}
		owned := 0
		for index := range count {
			if (Shard{index, count}).Owns(target) {
				owned++
				perShard[index]++
				owners[target.URL] = index
			}
		}
		if owned != 1 {
			t.Fatalf("%s belongs to %d shards", target.URL, owned)
		}
	}
	for index, n := range perShard {
		if n < 60 {
			t.Errorf("shard %d has %d of 400 targets", index, n)
		}
	}
	again := probe.Target{URL: "https://svc7.example.com/"}
	if !(Shard{owners[again.URL], count}).Owns(again) {
		t.Error("the split changed between calls")
	}
	if !(Shard{}).Owns(again) || !(Shard{0, 1}).Owns(again) {
		t.Error("a single shard does not own everything")
	}
}

func TestServiceNameDropsQueries(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"https://a.example.com/x?token=credential", "https://a.example.com/x"},
		{"jaeger", "jaeger"},
		{"b.example.com#frag", "b.example.com"},
	} {
		if got := serviceName(probe.Target{Name: tt.name}); got != tt.want {
			t.Errorf("serviceName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
