package probe

// ExitClass is the overall outcome of a run, which the CLI maps to an exit code.
type ExitClass string

// The outcomes of a run.
const (
	// ExitOK: every target is ok.
	ExitOK ExitClass = "ok"
	// ExitDegraded: the token was accepted everywhere, but some origin or tunnel is down.
	ExitDegraded ExitClass = "degraded"
	// ExitFailed: some target rejected the request, was not protected, answered
	// unexpectedly or could not be reached.
	ExitFailed ExitClass = "failed"
)

// Summary counts results by what they mean for the token.
type Summary struct {
	Total int
	OK    int
	// BackendDown and TunnelDown count targets where Access let the token through.
	BackendDown int
	TunnelDown  int
	// Rejected counts login_redirect, unauthenticated, forbidden and blocked_by_waf.
	Rejected     int
	NotProtected int
	Unexpected   int
	NetworkError int
	// ByClass counts every class.
	ByClass map[Class]int
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results), ByClass: map[Class]int{}}
	for _, result := range results {
		s.ByClass[result.Class]++
		switch result.Class {
		case ClassOK:
			s.OK++
		case ClassBackendDown:
			s.BackendDown++
		case ClassTunnelDown:
			s.TunnelDown++
		case ClassLoginRedirect, ClassUnauthenticated, ClassForbidden, ClassBlockedByWAF:
			s.Rejected++
		case ClassNotProtected:
			s.NotProtected++
		case ClassNetworkError:
			s.NetworkError++
		default:
			s.Unexpected++
		}
	}
	return s
}

// ExitClass is ExitOK when every target is ok (or there are none), ExitDegraded when the
// only failures are origins or tunnels that are down, and ExitFailed otherwise.
func (s Summary) ExitClass() ExitClass {
	switch {
	case s.Rejected+s.NotProtected+s.Unexpected+s.NetworkError > 0:
		return ExitFailed
	case s.BackendDown+s.TunnelDown > 0:
		return ExitDegraded
	}
	return ExitOK
}
