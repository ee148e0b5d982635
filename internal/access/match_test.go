package access

import (
	"fmt"
	"slices"
	"testing"
)

// publicApp is an application whose patterns are public destinations.
func publicApp(id string, uris ...string) Application {
	app := Application{ID: id, Name: id, Type: "self_hosted"}
	for _, uri := range uris {
		app.Destinations = append(app.Destinations, Destination{Type: "public", URI: uri})
	}
	return app
}

func TestMatchDocumentedExamples(t *testing.T) {
	tests := []struct {
		rule    string // the documented rule the case checks
		pattern string
		host    string
		path    string
		covered bool
	}{
		// DOC-PATHS "Match all subdomains": * is one label and never the apex.
		{"wildcard subdomain", "*.example.com", "alpha.example.com", "/", true},
		{"wildcard subdomain", "*.example.com", "beta.example.com", "/x", true},
		{"wildcard never the apex", "*.example.com", "example.com", "/", false},
		{"wildcard is one label", "*.example.com", "foo.bar.example.com", "/", false},
		// DOC-PATHS "Match all paths of an apex domain": no path covers every path.
		{"no path covers the apex", "example.com", "example.com", "/", true},
		{"no path covers all paths", "example.com", "example.com", "/alpha", true},
		{"no path covers all paths", "example.com", "example.com", "/beta/gamma", true},
		{"apex does not cover subdomains", "example.com", "alpha.example.com", "/", false},
		// DOC-PATHS: "example.com/*" is listed as covering example.com itself.
		{"/* covers the apex", "example.com/*", "example.com", "/", true},
		{"/* covers paths", "example.com/*", "example.com", "/alpha", true},
		// DOC-PATHS "Match multi-level subdomains".
		{"multi-level wildcard", "*.test.example.com", "alpha.test.example.com", "/", true},
		{"multi-level not parent", "*.test.example.com", "test.example.com", "/", false},
		{"multi-level not apex", "*.test.example.com", "example.com", "/", false},
		// DOC-PATHS: several wildcards cover several levels.
		{"two wildcards, two levels", "*.*.example.com", "foo.bar.example.com", "/", true},
		// DOC-PATHS "Partially match subdomains".
		{"partial label, empty part", "*test.example.com", "test.example.com", "/", true},
		{"partial label", "*test.example.com", "alphatest.example.com", "/", true},
		{"partial label is one level", "*test.example.com", "beta.test.example.com", "/", false},
		// DOC-PATHS "Match multi-level paths": alpha/* does not cover alpha.
		{"alpha/* covers alpha/one", "example.com/alpha/*", "example.com", "/alpha/one", true},
		{"alpha/* covers deeper paths", "example.com/alpha/*", "example.com", "/alpha/a/b", true},
		{"alpha/* does not cover alpha", "example.com/alpha/*", "example.com", "/alpha", false},
		{"alpha/* does not cover apex", "example.com/alpha/*", "example.com", "/", false},
		{"alpha/* does not cover beta", "example.com/alpha/*", "example.com", "/beta", false},
		// DOC-PATHS "Partially match paths": a mid-path * spans segments.
		{"mid-path *, empty", "example.com/foo*/bar", "example.com", "/foo/bar", true},
		{"mid-path *, one segment", "example.com/foo*/bar", "example.com", "/food/bar", true},
		{"mid-path *, segments", "example.com/foo*/bar", "example.com", "/food/stuff/bar", true},
		{"mid-path *, wrong tail", "example.com/foo*/bar", "example.com", "/food/baz", false},
		// DOC-PATHS "Policy inheritance": a literal path covers what lies below it.
		{"literal path covers itself", "dashboard.com/eng", "dashboard.com", "/eng", true},
		{"literal path covers below", "dashboard.com/eng", "dashboard.com", "/eng/exec", true},
		{"literal path, trailing /", "dashboard.com/eng", "dashboard.com", "/eng/", true},
		{"literal path is no prefix", "dashboard.com/eng", "dashboard.com", "/engine", false},
		// DOC-PATHS "Unsupported URLs": ports are stripped; hosts are case-insensitive.
		{"port ignored", "example.com", "example.com:8443", "/", true},
		{"host case", "*.Example.com", "ALPHA.example.COM", "/", true},
		{"trailing dot", "example.com", "example.com.", "/", true},
		// The brief: "" means "/".
		{"empty path is /", "example.com", "example.com", "", true},
		{"empty path is not alpha", "example.com/alpha/*", "example.com", "", false},
		{"path without slash", "example.com/alpha", "example.com", "alpha", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s%s", tt.rule, tt.host, tt.path), func(t *testing.T) {
			apps := []Application{publicApp("app", tt.pattern)}
			_, pattern, ok := Match(apps, tt.host, tt.path)
			if ok != tt.covered {
				t.Fatalf("Match(%q, %q) with %q: ok = %v, want %v",
					tt.host, tt.path, tt.pattern, ok, tt.covered)
			}
			if ok && pattern != tt.pattern {
				t.Errorf("pattern = %q, want %q", pattern, tt.pattern)
			}
		})
	}
}

func TestMatchMostSpecific(t *testing.T) {
	tests := []struct {
		rule        string
		patterns    []string // one application each, in order
		host, path  string
		wantApp     string // "" when nothing matches
		wantPattern string
	}{
		// DOC-PATHS "Policy inheritance": the more specific app wins, no inheritance.
		{"specific path wins", []string{"dashboard.com/eng", "dashboard.com/eng/exec"},
			"dashboard.com", "/eng/exec", "app1", "dashboard.com/eng/exec"},
		{"specific path wins below", []string{"dashboard.com/eng", "dashboard.com/eng/exec"},
			"dashboard.com", "/eng/exec/report", "app1", "dashboard.com/eng/exec"},
		{"parent still covers siblings", []string{"dashboard.com/eng", "dashboard.com/eng/exec"},
			"dashboard.com", "/eng/other", "app0", "dashboard.com/eng"},
		{"path app beats host app", []string{"example.com", "example.com/alpha/*"},
			"example.com", "/alpha/x", "app1", "example.com/alpha/*"},
		{"host app takes the rest", []string{"example.com", "example.com/alpha/*"},
			"example.com", "/alpha", "app0", "example.com"},
		// Match's order: an exact host beats a wildcard host, whatever the paths.
		{"exact host beats wildcard", []string{"*.example.com", "app.example.com"},
			"app.example.com", "/", "app1", "app.example.com"},
		{"exact host beats longer path", []string{"*.example.com/admin", "app.example.com"},
			"app.example.com", "/admin", "app1", "app.example.com"},
		// Match's order: more literal host characters win among wildcards.
		{"longer wildcard host wins", []string{"*.example.com", "*test.example.com"},
			"atest.example.com", "/", "app1", "*test.example.com"},
		// Match's order: fewer path wildcards win at equal literal length.
		{"fewer wildcards win", []string{"example.com/ab*", "example.com/ab"},
			"example.com", "/ab/x", "app1", "example.com/ab"},
		// Match's order: remaining ties go to the earlier application.
		{"tie goes to first app", []string{"example.com", "example.com"},
			"example.com", "/", "app0", "example.com"},
		{"tie: /* equals no path", []string{"example.com/*", "example.com"},
			"example.com", "/x", "app0", "example.com/*"},
		{"nothing covers", []string{"a.example.com", "b.example.com"},
			"c.example.com", "/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var apps []Application
			for i, uri := range tt.patterns {
				apps = append(apps, publicApp(fmt.Sprintf("app%d", i), uri))
			}
			app, pattern, ok := Match(apps, tt.host, tt.path)
			gotApp := ""
			if ok {
				gotApp = app.ID
			}
			if gotApp != tt.wantApp || pattern != tt.wantPattern {
				t.Errorf("Match(%q, %q) = %q, %q; want %q, %q",
					tt.host, tt.path, gotApp, pattern, tt.wantApp, tt.wantPattern)
			}
		})
	}
}

func TestMatchPatternSources(t *testing.T) {
	legacy := Application{ID: "legacy", Domain: "a.example.com",
		SelfHostedDomains: []string{"b.example.com"}}
	modern := publicApp("modern", "c.example.com", "d.example.com/api")
	modern.Domain = "e.example.com"
	private := Application{ID: "private", Domain: "f.example.com",
		Destinations: []Destination{{Type: "private"}}}
	apps := []Application{legacy, modern, private}

	tests := []struct {
		rule, host, path, wantApp, wantPattern string
	}{
		// §2.3: without destinations, domain and self_hosted_domains are the patterns.
		{"domain", "a.example.com", "/", "legacy", "a.example.com"},
		{"self_hosted_domains", "b.example.com", "/", "legacy", "b.example.com"},
		// §2.3: destinations supersede domain and self_hosted_domains.
		{"destination", "c.example.com", "/", "modern", "c.example.com"},
		{"second destination", "d.example.com", "/api/v1", "modern", "d.example.com/api"},
		{"domain ignored with destinations", "e.example.com", "/", "", ""},
		// Private destinations are not patterns; the app falls back to its domain.
		{"only private destinations", "f.example.com", "/", "private", "f.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			app, pattern, ok := Match(apps, tt.host, tt.path)
			gotApp := ""
			if ok {
				gotApp = app.ID
			}
			if gotApp != tt.wantApp || pattern != tt.wantPattern {
				t.Errorf("Match(%q, %q) = %q, %q; want %q, %q",
					tt.host, tt.path, gotApp, pattern, tt.wantApp, tt.wantPattern)
			}
		})
	}
}

func TestMatchReturnsPointerIntoApps(t *testing.T) {
	apps := []Application{publicApp("one", "one.example.com"), publicApp("two", "two.example.com")}
	app, _, ok := Match(apps, "two.example.com", "/")
	if !ok || app != &apps[1] {
		t.Fatalf("Match returned %p, want &apps[1] = %p", app, &apps[1])
	}
}

func TestHostnames(t *testing.T) {
	apps := []Application{
		publicApp("a", "B.example.com/api", "*.example.com", "a.example.com"),
		{ID: "legacy", Domain: "a.example.com:8443", SelfHostedDomains: []string{"c.example.com"}},
		{ID: "empty"},
	}
	want := []string{"a.example.com", "b.example.com", "c.example.com"}
	if got := Hostnames(apps); !slices.Equal(got, want) {
		t.Errorf("Hostnames = %q, want %q", got, want)
	}
	if got := Hostnames(nil); len(got) != 0 {
		t.Errorf("Hostnames(nil) = %q, want none", got)
	}
}

func TestCoversHost(t *testing.T) {
	apps := []Application{publicApp("a", "*.example.com", "api.example.org/v1/*")}
	tests := []struct {
		host string
		want bool
	}{
		{"x.example.com", true},     // wildcard host counts
		{"X.EXAMPLE.COM:443", true}, // case and port ignored
		{"api.example.org", true},   // covered on some path is enough
		{"example.com", false},      // DOC-PATHS: the wildcard never covers the apex
		{"a.b.example.com", false},  // DOC-PATHS: the wildcard is one label
		{"", false},
	}
	for _, tt := range tests {
		if got := CoversHost(apps, tt.host); got != tt.want {
			t.Errorf("CoversHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"*ab", "aab", true},
		{"a**b", "ab", true},
		{"abc", "abd", false},
		{"ab", "abc", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("*.example.com", "example.com/alpha/*", "example.com", "a.example.com", "/alpha/x")
	f.Add("example.com/foo*/bar", "", "dashboard.com/eng", "example.com:80", "/food/a/bar")
	f.Add("https://x.example.com/?q#f", "*test.*", "[::1]:80", "X.EXAMPLE.COM.", "")
	f.Fuzz(func(t *testing.T, uri1, uri2, domain, host, path string) {
		apps := []Application{
			publicApp("first", uri1, uri2),
			{ID: "second", Domain: domain, SelfHostedDomains: []string{uri2}},
		}
		app, pattern, ok := Match(apps, host, path)
		if !ok {
			if app != nil || pattern != "" {
				t.Fatalf("no match but app %v, pattern %q", app, pattern)
			}
			return
		}
		if app != &apps[0] && app != &apps[1] {
			t.Fatalf("Match returned an application that is not in the input: %p", app)
		}
		if !belongs(app, pattern) {
			t.Fatalf("pattern %q does not belong to application %q", pattern, app.ID)
		}
		if !CoversHost(apps, host) {
			t.Fatalf("Match found %q for host %q but CoversHost says no", pattern, host)
		}
	})
}

// BenchmarkMatch routes a request among 500 applications, Cloudflare's account limit.
func BenchmarkMatch(b *testing.B) {
	apps := make([]Application, 500)
	for i := range apps {
		apps[i] = publicApp(fmt.Sprint(i), fmt.Sprintf("app%d.example.com/api/*", i),
			fmt.Sprintf("*.app%d.example.com", i))
	}
	for b.Loop() {
		if _, _, ok := Match(apps, "app499.example.com", "/api/v1/items"); !ok {
			b.Fatal("no match")
		}
	}
}

// belongs reports whether pattern is one of app's patterns.
func belongs(app *Application, pattern string) bool {
	for candidate := range appPatterns(app) {
		if candidate.raw == pattern {
			return true
		}
	}
	return false
}
