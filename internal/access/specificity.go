package access

import "strings"

// specificity ranks patterns that cover the same request; see Match for the order.
type specificity struct {
	exactHost   bool
	hostLiteral int
	pathLiteral int
	pathStars   int
}

func (p appPattern) specificity() specificity {
	hostStars := strings.Count(p.host, "*")
	pathStars := strings.Count(p.path, "*")
	return specificity{
		exactHost:   hostStars == 0,
		hostLiteral: len(p.host) - hostStars,
		pathLiteral: len(p.path) - pathStars,
		pathStars:   pathStars,
	}
}

// beats reports whether s is strictly more specific than other.
func (s specificity) beats(other specificity) bool {
	switch {
	case s.exactHost != other.exactHost:
		return s.exactHost
	case s.hostLiteral != other.hostLiteral:
		return s.hostLiteral > other.hostLiteral
	case s.pathLiteral != other.pathLiteral:
		return s.pathLiteral > other.pathLiteral
	default:
		return s.pathStars < other.pathStars
	}
}

// globMatch reports whether name matches pattern, where "*" stands for any run of bytes,
// "/" included, and every other byte stands for itself. It backtracks only to the last
// "*", so it runs in O(len(pattern)*len(name)) at worst.
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	starP, starN := -1, 0
	for p < len(pattern) || n < len(name) {
		if p < len(pattern) {
			switch {
			case pattern[p] == '*':
				starP, starN = p, n
				p++
				continue
			case n < len(name) && pattern[p] == name[n]:
				p++
				n++
				continue
			}
		}
		if starP < 0 || starN >= len(name) {
			return false
		}
		starN++
		p, n = starP+1, starN
	}
	return true
}
