package access

import "strings"

// HostPath is a request's hostname and path.
type HostPath struct {
	Host string
	Path string
}

// sampleFillers replace each "*" of a path pattern when SampleRequests builds a path: the
// shortest path first, then one that a narrower application is less likely to cover.
var sampleFillers = []string{"", "cfst-probe"}

// SampleRequests returns one hostname and path per literal hostname of apps[i] such that
// Match(apps, host, path) picks apps[i]: where a request reaches that application. Hosts
// with a wildcard are left out (their real names are unknown), and so is a host whose
// every sample a more specific application takes. The order follows the application's
// patterns.
func SampleRequests(apps []Application, i int) []HostPath {
	var samples []HostPath
	seen := map[string]bool{}
	for candidate := range appPatterns(&apps[i]) {
		if strings.Contains(candidate.host, "*") || seen[candidate.host] {
			continue
		}
		for _, filler := range sampleFillers {
			path := "/" + strings.TrimPrefix(strings.ReplaceAll(candidate.path, "*", filler), "/")
			if app, _, ok := Match(apps, candidate.host, path); ok && app == &apps[i] {
				samples = append(samples, HostPath{Host: candidate.host, Path: path})
				seen[candidate.host] = true
				break
			}
		}
	}
	return samples
}
