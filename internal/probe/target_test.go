package probe_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/probe"
)

func TestParseTarget(t *testing.T) {
	tests := []struct{ arg, url string }{
		{"app.example.com", "https://app.example.com/"},
		{" app.example.com ", "https://app.example.com/"},
		{"app.example.com:8443/health?x=1", "https://app.example.com:8443/health?x=1"},
		{"https://app.example.com", "https://app.example.com/"},
		{"HTTPS://app.example.com/a#frag", "https://app.example.com/a"},
		{"http://app.example.com/", "http://app.example.com/"},
		{"[::1]:8443", "https://[::1]:8443/"},
	}
	for _, tt := range tests {
		target, err := probe.ParseTarget(tt.arg)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tt.arg, err)
			continue
		}
		if target.URL != tt.url || target.Name != strings.TrimSpace(tt.arg) {
			t.Errorf("ParseTarget(%q) = %+v, want URL %q", tt.arg, target, tt.url)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct{ arg, want string }{
		{"", "empty target"},
		{"ftp://app.example.com/", `target "ftp://app.example.com/": scheme "ftp" is not ` +
			`http or https`},
		{"https:///path", `target "https:///path" has no hostname`},
		{"https://user:pw@app.example.com/", "a target URL holds user information: remove it"},
		{"app.example.com:notaport", `target "app.example.com:notaport": invalid port`},
	}
	for _, tt := range tests {
		_, err := probe.ParseTarget(tt.arg)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseTarget(%q) error %v, want %q", tt.arg, err, tt.want)
		}
	}
	if _, err := probe.ParseTargets([]string{"a.test", "ftp://b"}); err == nil {
		t.Error("ParseTargets accepted a bad target")
	}
}

func TestTargetHost(t *testing.T) {
	if got := (probe.Target{URL: "https://App.Test:8443/x"}).Host(); got != "App.Test" {
		t.Errorf("Host() = %q", got)
	}
}

func TestParseServicesYAML(t *testing.T) {
	data := `# services probed by CI
services:
  - https://a.test/health
  - b.test
  - url: https://c.test/ready
    method: head
    expect: 204
    timeout: 2s
    name: c ready
  - host: d.test
    path: /status
`
	want := []probe.Target{
		{Name: "https://a.test/health", URL: "https://a.test/health"},
		{Name: "b.test", URL: "https://b.test/"},
		{Name: "c ready", URL: "https://c.test/ready", Method: "HEAD", ExpectStatus: 204,
			Timeout: 2 * time.Second},
		{Name: "d.test/status", URL: "https://d.test/status"},
	}
	for _, name := range []string{"services.yaml", "services"} {
		got, err := probe.ParseServices(name, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	list := "- a.test\n- url: https://b.test/\n"
	got, err := probe.ParseServices("list", []byte(list))
	if err != nil || len(got) != 2 || got[1].URL != "https://b.test/" {
		t.Errorf("top-level list: %+v, %v", got, err)
	}
}

func TestParseServicesText(t *testing.T) {
	data := "# one per line\n\nhttps://a.test/health  # comment\nb.test\n   \n" +
		"https://c.test/x#y\n"
	got, err := probe.ParseServices("hosts.txt", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, target := range got {
		urls = append(urls, target.URL)
	}
	want := []string{"https://a.test/health", "https://b.test/", "https://c.test/x"}
	if !reflect.DeepEqual(urls, want) {
		t.Errorf("got %v, want %v", urls, want)
	}
}

func TestParseServicesErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"s.yaml", "services:\n  - url: https://a.test/\n    expect: ok\n",
			`s.yaml:3: expect "ok" is not an HTTP status`},
		{"s.yaml", "services:\n  - host: a.test\n    colour: red\n",
			`s.yaml:3: unknown key "colour"`},
		{"s.yaml", "- url: https://a.test/\n  host: a.test\n",
			"s.yaml:2: give url or host, not both"},
		{"s.yaml", "- name: nothing\n", "s.yaml:1: a service needs url or host"},
		{"s.yaml", "- url: https://a.test/\n  path: /x\n",
			"s.yaml:2: path goes with host; put it in the url"},
		{"s.yaml", "- host: a.test\n  path: x\n", `s.yaml:2: path "x" must start with /`},
		{"s.yaml", "- host: https://a.test/\n", `s.yaml:1: host "https://a.test/": give a`},
		{"s.yaml", "- host: a.test\n  timeout: 5\n", `s.yaml:2: timeout "5": want a duration`},
		{"s.yaml", "- host: a.test\n  method: GET /\n", `s.yaml:2: method "GET /" is not`},
		{"s.yaml", "- host: a.test\n  host: b.test\n", `s.yaml:2: `},
		{"s.yaml", "- [a, b]\n", "s.yaml:1: want a URL, a hostname or a map"},
		{"s.yaml", "- url: [a]\n", "s.yaml:1: url: want a single value"},
		{"s.yaml", "targets:\n  - a.test\n", `s.yaml:1: unknown key "targets" (want services)`},
		{"s.yaml", "services: a.test\n", "s.yaml:1: want a list of services"},
		{"s.yaml", "- a.test\n- ftp://b.test\n", `s.yaml:2: target "ftp://b.test": scheme`},
		{"s.yaml", "- a.test\n  - : :\n", "s.yaml:2: "},
		{"s.yaml", "services: []\n", "s.yaml: no services listed"},
		{"s.yaml", "", "s.yaml: no services listed"},
		{"s.txt", "a.test\nb.test c.test\n", "s.txt:2: want one URL per line"},
		{"s.txt", "a.test\n\nftp://c.test\n", `s.txt:3: target "ftp://c.test": scheme`},
		{"s.txt", "# nothing\n", "s.txt: no services listed"},
	}
	for _, tt := range tests {
		_, err := probe.ParseServices(tt.name, []byte(tt.data))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line starting %q", tt.data, err, tt.want)
		}
	}
}

func TestLoadServices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services.yml")
	if err := os.WriteFile(path, []byte("- a.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := probe.LoadServices(path); err != nil || len(got) != 1 {
		t.Errorf("LoadServices: %+v, %v", got, err)
	}
	_, err := probe.LoadServices(path + ".missing")
	if err == nil || !strings.HasPrefix(err.Error(), "read services file: ") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseServices(f *testing.F) {
	f.Add("services:\n  - host: a.test\n    path: /x\n    expect: 204\n")
	f.Add("a.test\nhttps://b.test/ # c\n")
	f.Add("- url: https://a.test/\n  timeout: 1s\n")
	f.Fuzz(func(t *testing.T, data string) {
		targets, err := probe.ParseServices("fuzz", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q should be one line naming the file", err)
			}
			return
		}
		for _, target := range targets {
			again, err := probe.ParseTarget(target.URL)
			if err != nil || again.URL != target.URL {
				t.Fatalf("target URL %q does not round-trip: %v", target.URL, err)
			}
		}
	})
}
