package access

import (
	"iter"
	"maps"
	"net"
	"slices"
	"strings"
)

// Match finds the application that covers a request to host and path. The path carries no
// query; "" means "/". A port on host is ignored, and hosts compare case-insensitively;
// paths compare case-sensitively (Cloudflare does not document this, so cfst keeps the
// stricter reading).
//
// An application's patterns are its public Destinations, or, when it has none, its Domain
// and SelfHostedDomains. Coverage follows Cloudflare's application paths page:
//   - "*" in a host stands for part or all of exactly one label, so "*.example.com" covers
//     "a.example.com" but neither "example.com" nor "a.b.example.com";
//   - a pattern without a path, or with the path "/*", covers every path of its host;
//   - "*" in a path may span several segments: "example.com/foo*/bar" covers "/food/x/bar";
//   - a path ending in "*" does not cover its parent: "example.com/alpha/*" covers
//     "/alpha/one" but not "/alpha";
//   - a literal path covers itself and what lies below it: "example.com/eng" covers
//     "/eng/exec" but not "/engine".
//
// When several patterns cover the request, the most specific wins, with no inheritance
// from the others. Specificity compares, in order: a host without "*" beats one with it;
// more literal host characters; more literal path characters; fewer "*" in the path.
// Remaining ties go to the earlier application in apps, then its earlier pattern.
//
// Match returns the application, the pattern as written in it, and whether any matched.
func Match(apps []Application, host, path string) (app *Application, pattern string, ok bool) {
	host = normalizeHost(host)
	if host == "" {
		return nil, "", false
	}
	path = normalizePath(path)

	var best specificity
	for i := range apps {
		for candidate := range appPatterns(&apps[i]) {
			if !candidate.coversHost(host) || !candidate.coversPath(path) {
				continue
			}
			if rank := candidate.specificity(); !ok || rank.beats(best) {
				app, pattern, ok, best = &apps[i], candidate.raw, true, rank
			}
		}
	}
	return app, pattern, ok
}

// Hostnames lists the distinct literal hostnames the applications cover, lowercased and
// sorted. Hosts with a wildcard are left out; CoversHost answers for those.
func Hostnames(apps []Application) []string {
	seen := make(map[string]bool)
	for i := range apps {
		for candidate := range appPatterns(&apps[i]) {
			if !strings.Contains(candidate.host, "*") {
				seen[candidate.host] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// CoversHost reports whether some pattern of the applications covers host, on at least
// one of its paths. Wildcard hosts count.
func CoversHost(apps []Application, host string) bool {
	host = normalizeHost(host)
	if host == "" {
		return false
	}
	for i := range apps {
		for candidate := range appPatterns(&apps[i]) {
			if candidate.coversHost(host) {
				return true
			}
		}
	}
	return false
}

// appPattern is one hostname-and-path pattern of an application, ready for matching.
type appPattern struct {
	raw  string // as written in the application; Match returns it
	host string // lowercased, without port; a label may hold "*"
	path string // "" when the pattern covers every path of the host
}

// appPatterns yields the patterns of app, skipping the ones without a host. A destination
// without a type counts as public, so hand-written configurations may leave it out.
func appPatterns(app *Application) iter.Seq[appPattern] {
	return func(yield func(appPattern) bool) {
		public := false
		for _, destination := range app.Destinations {
			if destination.Type == "public" || destination.Type == "" {
				public = true
				if !yieldParsed(destination.URI, yield) {
					return
				}
			}
		}
		if public || !yieldParsed(app.Domain, yield) {
			return
		}
		for _, domain := range app.SelfHostedDomains {
			if !yieldParsed(domain, yield) {
				return
			}
		}
	}
}

// yieldParsed yields raw parsed, when it parses, and returns false when yield asks to stop.
func yieldParsed(raw string, yield func(appPattern) bool) bool {
	parsed, ok := parsePattern(raw)
	return !ok || yield(parsed)
}

// parsePattern splits "host/path" into labels and path. It tolerates a scheme, a port, a
// query and a fragment, none of which Cloudflare supports in application paths.
func parsePattern(raw string) (appPattern, bool) {
	rest := strings.TrimSpace(raw)
	if _, afterScheme, found := strings.Cut(rest, "://"); found {
		rest = afterScheme
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, _, _ = strings.Cut(rest, "?")
	host, path, hasPath := strings.Cut(rest, "/")
	host = normalizeHost(host)
	if host == "" {
		return appPattern{}, false
	}
	if hasPath {
		path = "/" + path
	}
	if path == "/" || path == "/*" {
		path = ""
	}
	return appPattern{raw: raw, host: host, path: path}, true
}

// normalizeHost lowercases host and strips a port and a final dot.
func normalizeHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if !strings.Contains(host, ":") {
		return strings.TrimSuffix(host, ".")
	}
	if withoutPort, _, err := net.SplitHostPort(host); err == nil {
		host = withoutPort
	}
	return strings.TrimSuffix(host, ".")
}

// normalizePath makes sure a request path starts with "/".
func normalizePath(path string) string {
	if !strings.HasPrefix(path, "/") {
		return "/" + path
	}
	return path
}

// coversHost reports whether the pattern's host matches a normalized request host, label
// by label, so that "*" never spans a dot.
func (p appPattern) coversHost(host string) bool {
	patternRest, hostRest := p.host, host
	for {
		patternLabel, patternMore, _ := strings.Cut(patternRest, ".")
		hostLabel, hostMore, _ := strings.Cut(hostRest, ".")
		if !globMatch(patternLabel, hostLabel) {
			return false
		}
		if patternMore == "" || hostMore == "" {
			return patternMore == "" && hostMore == ""
		}
		patternRest, hostRest = patternMore, hostMore
	}
}

// coversPath reports whether the pattern's path matches a request path.
func (p appPattern) coversPath(path string) bool {
	if p.path == "" || globMatch(p.path, path) {
		return true
	}
	if strings.HasSuffix(p.path, "*") {
		return false
	}
	return globMatch(strings.TrimSuffix(p.path, "/")+"/*", path)
}
