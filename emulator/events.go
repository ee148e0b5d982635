package emulator

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// LoginEvent is one service-token authentication attempt at the edge, the emulator's
// counterpart of a row of Cloudflare's accessLoginRequestsAdaptiveGroups dataset.
//
// The package doc says which requests make an event: in short, a request whose
// credentials name a client id the account knows, except when a Bypass policy lets it
// through.
type LoginEvent struct {
	Time time.Time
	// RayID is the 16 hex digits of the request's cf-ray header, without the colo.
	RayID string
	// TokenID is the service token's id (not its client id).
	TokenID  string
	ClientID string
	// AppID, AppDomain and Host name the application that matched and the requested host.
	AppID     string
	AppDomain string
	Host      string
	IP        netip.Addr
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
	// Allowed reports whether the request was admitted.
	Allowed bool
	// Outcome is the access.Outcome of the request, such as "admitted" or "login_redirect".
	Outcome string
	// Reason says why a request was refused: the credential check's reason when the
	// credentials did not authenticate, else the policy evaluation's reason.
	Reason string
	// Status is the HTTP status the edge answered with; 0 when the request went to the
	// origin.
	Status int
	// ApprovingPolicyID is the policy that admitted the request, when one did.
	ApprovingPolicyID string
}

// LoginEvents returns a copy of the recorded login events, oldest first.
func (s *Server) LoginEvents() []LoginEvent {
	var out []LoginEvent
	s.events.each(func(ev LoginEvent) bool {
		out = append(out, ev)
		return true
	})
	return out
}

// EachLoginEvent calls f for each recorded event, oldest first, until f returns false. It
// sees the events recorded before it was called; f may record events or call any other
// method of the Server.
func (s *Server) EachLoginEvent(f func(LoginEvent) bool) { s.events.each(f) }

// RecordLoginEvents appends events to the log as if the edge had seen them, for tests and
// benchmarks that need a large or hand-made history.
func (s *Server) RecordLoginEvents(evs ...LoginEvent) { s.events.record(evs...) }

// eventLog stores login events compactly: a million events take about 80 MB. Strings that
// repeat (ids, hosts, outcomes) are interned, and the stored struct holds no pointers, so
// the garbage collector does not scan the log.
//
// The log is append-only: readers take a snapshot of the slice headers under the read lock
// and iterate without it, which is safe because elements are never modified once written.
type eventLog struct {
	mu      sync.RWMutex
	events  []storedEvent
	strings []string          // index 0 is ""
	index   map[string]uint32 // inverse of strings
}

// storedEvent is a LoginEvent with every string replaced by its index in eventLog.strings.
type storedEvent struct {
	unixNano int64
	ray      uint64 // the ray id when rayKind is rayNumeric
	ip       [16]byte
	text     [textFields]uint32
	status   uint16
	ipKind   uint8 // 0: no address, 4: IPv4, 6: IPv6
	rayKind  uint8 // rayNumeric, or rayText when the ray id is interned in text
	allowed  bool
}

// The interned string fields of a storedEvent.
const (
	fieldTokenID = iota
	fieldClientID
	fieldAppID
	fieldAppDomain
	fieldHost
	fieldCountry
	fieldOutcome
	fieldReason
	fieldPolicyID
	fieldRayText
	textFields
)

// zeroTime stands for the zero time.Time, whose UnixNano is undefined.
const zeroTime = math.MinInt64

const (
	rayText    = 0
	rayNumeric = 1
)

func newEventLog() *eventLog {
	return &eventLog{strings: []string{""}, index: map[string]uint32{"": 0}}
}

func (l *eventLog) record(evs ...LoginEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range evs {
		l.events = append(l.events, l.compact(ev))
	}
}

func (l *eventLog) each(f func(LoginEvent) bool) {
	l.mu.RLock()
	events, strings := l.events, l.strings
	l.mu.RUnlock()
	for i := range events {
		if !f(expand(&events[i], strings)) {
			return
		}
	}
}

func (l *eventLog) len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.events)
}

// compact must be called with l.mu held for writing.
func (l *eventLog) compact(ev LoginEvent) storedEvent {
	stored := storedEvent{
		unixNano: zeroTime,
		allowed:  ev.Allowed,
		status:   uint16(min(max(ev.Status, 0), 999)),
	}
	if !ev.Time.IsZero() {
		stored.unixNano = ev.Time.UnixNano()
	}
	if ev.IP.IsValid() {
		stored.ip = ev.IP.As16()
		stored.ipKind = 6
		if ev.IP.Is4() {
			stored.ipKind = 4
		}
	}
	if ray, ok := parseRay(ev.RayID); ok {
		stored.ray, stored.rayKind = ray, rayNumeric
	} else {
		stored.text[fieldRayText] = l.intern(ev.RayID)
	}
	fields := [...]string{
		fieldTokenID: ev.TokenID, fieldClientID: ev.ClientID, fieldAppID: ev.AppID,
		fieldAppDomain: ev.AppDomain, fieldHost: ev.Host, fieldCountry: ev.Country,
		fieldOutcome: ev.Outcome, fieldReason: ev.Reason, fieldPolicyID: ev.ApprovingPolicyID,
	}
	for i, value := range fields {
		stored.text[i] = l.intern(value)
	}
	return stored
}

// intern must be called with l.mu held for writing.
func (l *eventLog) intern(value string) uint32 {
	if i, ok := l.index[value]; ok {
		return i
	}
	i := uint32(len(l.strings))
	l.strings = append(l.strings, value)
	l.index[value] = i
	return i
}

func expand(stored *storedEvent, strings []string) LoginEvent {
	text := func(field int) string { return strings[stored.text[field]] }
	ev := LoginEvent{
		RayID:             text(fieldRayText),
		TokenID:           text(fieldTokenID),
		ClientID:          text(fieldClientID),
		AppID:             text(fieldAppID),
		AppDomain:         text(fieldAppDomain),
		Host:              text(fieldHost),
		Country:           text(fieldCountry),
		Allowed:           stored.allowed,
		Outcome:           text(fieldOutcome),
		Reason:            text(fieldReason),
		Status:            int(stored.status),
		ApprovingPolicyID: text(fieldPolicyID),
	}
	if stored.unixNano != zeroTime {
		ev.Time = time.Unix(0, stored.unixNano).UTC()
	}
	if stored.rayKind == rayNumeric {
		ev.RayID = formatRay(stored.ray)
	}
	switch stored.ipKind {
	case 4:
		ev.IP = netip.AddrFrom16(stored.ip).Unmap()
	case 6:
		ev.IP = netip.AddrFrom16(stored.ip)
	}
	return ev
}

// parseRay reads a ray id of exactly 16 lowercase hex digits, the form the edge generates.
func parseRay(ray string) (uint64, bool) {
	if len(ray) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(ray, 16, 64)
	if err != nil || formatRay(n) != ray {
		return 0, false // uppercase digits would not survive the round trip
	}
	return n, true
}

func formatRay(ray uint64) string {
	const digits = "0123456789abcdef"
	var buf [16]byte
	for i := 15; i >= 0; i-- {
		buf[i] = digits[ray&0xf]
		ray >>= 4
	}
	return string(buf[:])
}
