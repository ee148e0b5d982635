package monitor

import (
	"net/url"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/probe"
)

// The states of a service.
const (
	// StatePending: no verdict yet (the first probes failed, but fewer than the
	// failure threshold).
	StatePending = "pending"
	// StateOK: the last probes succeeded.
	StateOK = "ok"
	// StateFailing: FailureThreshold probes in a row failed.
	StateFailing = "failing"
)

// service is what the monitor knows of one service.
type service struct {
	target probe.Target
	key    string
	name   string // for labels and pages: the target's name without any query string

	state string
	since time.Time // when state began
	last  probe.Result
	// okRun and failRun count the latest probes in a row that succeeded or failed.
	okRun, failRun int
	history        []historyEntry // oldest first, at most Config.History

	// alerted is set when a failing alert went out, so that a resolved one follows.
	alerted      bool
	probes, fail int64
}

// historyEntry is one probe result on the status page.
type historyEntry struct {
	At      time.Time
	Class   probe.Class
	Status  int
	Latency time.Duration
}

func newService(target probe.Target, now time.Time) *service {
	return &service{target: target, key: targetKey(target), name: serviceName(target),
		state: StatePending, since: now}
}

// serviceName labels a target: its name, cut at any query string, which could carry a
// credential the user put in a URL.
func serviceName(target probe.Target) string {
	name := target.Name
	if name == "" {
		name = target.URL
	}
	if cut := strings.IndexAny(name, "?#"); cut >= 0 {
		name = name[:cut]
	}
	if u, err := url.Parse(name); err == nil && u.User != nil {
		u.User = nil
		name = u.String()
	}
	return name
}

// transition is a change of a service's state that may deserve an alert.
type transition struct {
	from, to string
	since    time.Time // when the previous state began
}

// observe records one probe result and returns the state change it causes, if any.
func (s *service) observe(result probe.Result, now time.Time, cfg AlertConfig, keep int,
) (transition, bool) {
	s.last = result
	s.probes++
	s.history = append(s.history, historyEntry{At: now, Class: result.Class,
		Status: result.Status, Latency: result.Latency})
	if over := len(s.history) - keep; over > 0 {
		s.history = append(s.history[:0], s.history[over:]...)
	}
	if result.Class == probe.ClassOK {
		s.okRun, s.failRun = s.okRun+1, 0
	} else {
		s.okRun, s.failRun, s.fail = 0, s.failRun+1, s.fail+1
	}
	next := s.state
	switch {
	case s.state == StatePending && s.okRun > 0:
		next = StateOK
	case s.state != StateFailing && s.failRun >= cfg.FailureThreshold:
		next = StateFailing
	case s.state == StateFailing && s.okRun >= cfg.SuccessThreshold:
		next = StateOK
	}
	if next == s.state {
		return transition{}, false
	}
	change := transition{from: s.state, to: next, since: s.since}
	s.state, s.since = next, now
	return change, true
}
