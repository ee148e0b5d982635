package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/secret"
)

// Config is a monitor's configuration file, parsed. ParseConfig fills every default.
type Config struct {
	// Interval is the time between probe rounds.
	Interval time.Duration
	// Timeout bounds each probe; Concurrency caps the probes in flight.
	Timeout     time.Duration
	Concurrency int
	// History is how many results the status page keeps per service.
	History int
	// Services are probed each round, in the format of `cfst test --services`.
	Services []probe.Target
	// ServicesFile is the file the services came from when the configuration names one
	// (services_file), resolved against the configuration's directory; else empty.
	ServicesFile string
	Tokens       TokenConfig
	Alerts       AlertConfig
}

// TokenConfig says which service tokens to watch and how.
type TokenConfig struct {
	// Watch names the tokens (names, ids or client ids); empty means every token.
	Watch []string
	// Interval is the time between checks of expiry and usage.
	Interval time.Duration
	// ExpiringWithin makes a token expiring.
	ExpiringWithin time.Duration
	// Usage turns on usage findings (new addresses, bursts of refusals...).
	Usage bool
	// UsageSince and UsageBaseline are the usage analysis windows.
	UsageSince    time.Duration
	UsageBaseline time.Duration
}

// AlertConfig says when and where alerts go.
type AlertConfig struct {
	// FailureThreshold consecutive failed probes make a service failing;
	// SuccessThreshold consecutive good ones make it ok again.
	FailureThreshold int
	SuccessThreshold int
	// MinInterval is the least time between two failing alerts for one service or token;
	// those in between are dropped, and so is the resolved message that would follow.
	MinInterval time.Duration
	// Timeout bounds each delivery; QueueSize is how many alerts wait per webhook.
	Timeout   time.Duration
	QueueSize int
	Webhooks  []Webhook
}

// Webhook is a destination for alerts.
type Webhook struct {
	Name string
	// URL is a secret: chat webhooks carry their credential in it.
	URL secret.Secret
	// Format is FormatJSON or FormatSlack.
	Format string
}

// Webhook formats.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// Defaults of a configuration.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 10 * time.Second
	DefaultHistory  = 30
)

// configFile is the YAML form of Config.
type configFile struct {
	Interval     string     `yaml:"interval"`
	Timeout      string     `yaml:"timeout"`
	Concurrency  int        `yaml:"concurrency"`
	History      int        `yaml:"history"`
	Services     yaml.Node  `yaml:"services"`
	ServicesFile string     `yaml:"services_file"`
	Tokens       tokensFile `yaml:"tokens"`
	Alerts       alertsFile `yaml:"alerts"`
}

type tokensFile struct {
	Watch          []string `yaml:"watch"`
	Interval       string   `yaml:"interval"`
	ExpiringWithin string   `yaml:"expiring_within"`
	Usage          *bool    `yaml:"usage"`
	UsageSince     string   `yaml:"usage_since"`
	UsageBaseline  string   `yaml:"usage_baseline"`
}

type alertsFile struct {
	FailureThreshold int           `yaml:"failure_threshold"`
	SuccessThreshold int           `yaml:"success_threshold"`
	MinInterval      string        `yaml:"min_interval"`
	Timeout          string        `yaml:"timeout"`
	QueueSize        int           `yaml:"queue_size"`
	Webhooks         []webhookFile `yaml:"webhooks"`
}

type webhookFile struct {
	Name   string `yaml:"name"`
	URL    string `yaml:"url"`
	URLEnv string `yaml:"url_env"`
	Format string `yaml:"format"`
}

// LoadConfig reads a configuration file; see ParseConfig.
func LoadConfig(path string, lookup func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read monitor config: %w", err)
	}
	return ParseConfig(path, data, lookup)
}

// ParseConfig parses the configuration file named name. lookup reads the variables that
// url_env names (the environment, then .env). Errors start with the file name. An example:
//
//	interval: 30s
//	timeout: 10s
//	services:                    # as in cfst test --services, or services_file: FILE
//	  - https://jaeger.example.com/
//	  - {host: pihole.example.com, path: /admin, name: pihole}
//	tokens:
//	  watch: [ci-runner]         # names, ids or client ids; default every token
//	  interval: 5m
//	  expiring_within: 14d
//	  usage: true
//	  usage_since: 1h
//	  usage_baseline: 7d
//	alerts:
//	  failure_threshold: 2
//	  success_threshold: 2
//	  min_interval: 10m
//	  timeout: 5s
//	  webhooks:
//	    - {name: ops, url_env: OPS_WEBHOOK_URL, format: slack}
func ParseConfig(name string, data []byte, lookup func(string) string) (*Config, error) {
	var file configFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) { // EOF: empty file
		return nil, yamlError(name, err)
	}
	cfg, err := file.config(name, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if cfg.Services, err = file.services(name, data); err != nil {
		return nil, err
	}
	cfg.ServicesFile = file.servicesPath(name)
	return cfg, nil
}

func (f *configFile) config(name string, lookup func(string) string) (*Config, error) {
	cfg := &Config{Concurrency: f.Concurrency, History: f.History}
	durations := []struct {
		key   string
		text  string
		value *time.Duration
		def   time.Duration
	}{
		{"interval", f.Interval, &cfg.Interval, DefaultInterval},
		{"timeout", f.Timeout, &cfg.Timeout, DefaultTimeout},
		{"tokens.interval", f.Tokens.Interval, &cfg.Tokens.Interval, 5 * time.Minute},
		{"tokens.expiring_within", f.Tokens.ExpiringWithin, &cfg.Tokens.ExpiringWithin,
			14 * 24 * time.Hour},
		{"tokens.usage_since", f.Tokens.UsageSince, &cfg.Tokens.UsageSince, time.Hour},
		{"tokens.usage_baseline", f.Tokens.UsageBaseline, &cfg.Tokens.UsageBaseline,
			7 * 24 * time.Hour},
		{"alerts.min_interval", f.Alerts.MinInterval, &cfg.Alerts.MinInterval,
			10 * time.Minute},
		{"alerts.timeout", f.Alerts.Timeout, &cfg.Alerts.Timeout, 5 * time.Second},
	}
	for _, d := range durations {
		value, err := parseDuration(d.text, d.def)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.key, err)
		}
		*d.value = value
	}
	cfg.Tokens.Watch = f.Tokens.Watch
	cfg.Tokens.Usage = f.Tokens.Usage == nil || *f.Tokens.Usage
	a := f.Alerts
	cfg.Alerts.FailureThreshold, cfg.Alerts.SuccessThreshold = a.FailureThreshold,
		a.SuccessThreshold
	cfg.Alerts.QueueSize = a.QueueSize
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	webhooks, err := parseWebhooks(a.Webhooks, lookup)
	cfg.Alerts.Webhooks = webhooks
	return cfg, err
}

// fillDefaults sets zero counts to their defaults and checks the ranges.
func (cfg *Config) fillDefaults() error {
	counts := []struct {
		key      string
		value    *int
		def, max int
	}{
		{"concurrency", &cfg.Concurrency, probe.DefaultConcurrency, 1000},
		{"history", &cfg.History, DefaultHistory, 1000},
		{"alerts.failure_threshold", &cfg.Alerts.FailureThreshold, 2, 100},
		{"alerts.success_threshold", &cfg.Alerts.SuccessThreshold, 2, 100},
		{"alerts.queue_size", &cfg.Alerts.QueueSize, 100, 10000},
	}
	for _, c := range counts {
		if *c.value == 0 {
			*c.value = c.def
		}
		if *c.value < 1 || *c.value > c.max {
			return fmt.Errorf("%s: want a number from 1 to %d, got %d", c.key, c.max, *c.value)
		}
	}
	if cfg.Interval < time.Second {
		return fmt.Errorf("interval: want at least 1s, got %s", cfg.Interval)
	}
	if cfg.Tokens.Interval < time.Second {
		return fmt.Errorf("tokens.interval: want at least 1s, got %s", cfg.Tokens.Interval)
	}
	return nil
}

func parseWebhooks(files []webhookFile, lookup func(string) string) ([]Webhook, error) {
	var hooks []Webhook
	for i, f := range files {
		where := fmt.Sprintf("alerts.webhooks[%d]", i)
		if f.Name == "" {
			return nil, fmt.Errorf("%s: name is required", where)
		}
		where = fmt.Sprintf("webhook %q", f.Name)
		if slices.ContainsFunc(hooks, func(h Webhook) bool { return h.Name == f.Name }) {
			return nil, fmt.Errorf("%s is defined twice", where)
		}
		raw, err := webhookURL(f, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		format := strings.ToLower(f.Format)
		if format == "" {
			format = FormatJSON
		}
		if format != FormatJSON && format != FormatSlack {
			return nil, fmt.Errorf("%s: format %q: want json or slack", where, f.Format)
		}
		hooks = append(hooks, Webhook{Name: f.Name, URL: secret.New(raw), Format: format})
	}
	return hooks, nil
}

// webhookURL reads and checks a webhook's URL. Errors never quote it.
func webhookURL(f webhookFile, lookup func(string) string) (string, error) {
	raw := f.URL
	switch {
	case f.URL != "" && f.URLEnv != "":
		return "", errors.New("give url or url_env, not both")
	case f.URLEnv != "" && lookup != nil:
		if raw = strings.TrimSpace(lookup(f.URLEnv)); raw == "" {
			return "", fmt.Errorf("%s is not set in the environment or .env", f.URLEnv)
		}
	case f.URLEnv != "":
		return "", fmt.Errorf("%s cannot be read here", f.URLEnv)
	case raw == "":
		return "", errors.New("url or url_env is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("the URL is not an http or https URL")
	}
	return raw, nil
}

// services reads the services: inline, or from services_file (relative to the
// configuration's directory).
func (f *configFile) services(name string, data []byte) ([]probe.Target, error) {
	switch {
	case f.ServicesFile != "" && !f.Services.IsZero():
		return nil, fmt.Errorf("%s: give services or services_file, not both", name)
	case f.ServicesFile != "":
		return probe.LoadServices(f.servicesPath(name))
	case f.Services.IsZero():
		return nil, nil
	}
	return probe.ParseServices(name, servicesOnly(data, &f.Services))
}

// servicesPath is services_file relative to the directory of the configuration name, or
// empty when there is none.
func (f *configFile) servicesPath(name string) string {
	path := f.ServicesFile
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(name), path)
	}
	return path
}

// servicesOnly returns the configuration with every line blanked that is not part of the
// services key, so that probe.ParseServices reads the services in the format of
// `cfst test --services` and its errors name the lines of the real file.
func servicesOnly(data []byte, services *yaml.Node) []byte {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 ||
		root.Content[0].Kind != yaml.MappingNode || root.Content[0].Style&yaml.FlowStyle != 0 {
		fallback, _ := yaml.Marshal(map[string]*yaml.Node{"services": services})
		return fallback
	}
	keys := root.Content[0].Content
	first, last := 0, 0 // the 1-based lines of the services key and its value
	for i := 0; i+1 < len(keys); i += 2 {
		if keys[i].Value != "services" {
			continue
		}
		first, last = keys[i].Line, 1<<30
		if i+2 < len(keys) {
			last = keys[i+2].Line - 1
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	for i := range lines {
		if i+1 < first || i+1 > last {
			lines[i] = "\n"
		}
	}
	return []byte(strings.Join(lines, ""))
}

var (
	yamlLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknownKey = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlError rewrites a YAML decoding error as "name:line: problem", one line.
func yamlError(name string, err error) error {
	var typeErr *yaml.TypeError
	messages := []string{err.Error()}
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		messages = typeErr.Errors
	}
	m := yamlLine.FindStringSubmatch(strings.TrimSpace(messages[0]))
	if m == nil {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(messages[0], "yaml: "))
	}
	problem := m[2]
	if key := yamlUnknownKey.FindStringSubmatch(problem); key != nil {
		problem = fmt.Sprintf("unknown key %q", key[1])
	}
	return fmt.Errorf("%s:%s: %s", name, m[1], problem)
}

// parseDuration reads a Go duration or whole days ("14d"); empty gives def.
func parseDuration(text string, def time.Duration) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return def, nil
	}
	if days, found := strings.CutSuffix(text, "d"); found {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(text)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q: write 30s, 5m, 2h or 14d", text)
	}
	return d, nil
}
