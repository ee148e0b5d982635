package emulator

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// eventTable is a consistent snapshot of the event log for one query. The log is
// append-only, so the slices stay valid without the lock.
type eventTable struct {
	events  []storedEvent
	strings []string
	index   map[string]uint32 // set only while a filter is compiled, under the read lock
}

// queryTable snapshots the log and compiles f against it.
func (l *eventLog) queryTable(f *loginFilter) (*eventTable, eventPredicate) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	table := &eventTable{events: l.events, strings: l.strings, index: l.index}
	predicate := f.compile(table)
	table.index = nil
	return table, predicate
}

// lookup returns the interned ids of the values the log has seen.
func (t *eventTable) lookup(values []string) []uint32 {
	var ids []uint32
	for _, value := range values {
		if id, ok := t.index[value]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// groupQuery is one accessLoginRequestsAdaptiveGroups request, checked.
type groupQuery struct {
	limit     int
	dims      dimensionSet
	order     []orderKey
	timeRange timeRange
	predicate eventPredicate
}

type orderKey struct {
	dim  string // a dimension name, or "count"
	desc bool
}

// parseOrder reads orderBy values such as datetime_ASC. Ordering by a dimension the query
// does not ask for is refused: its value would be the same for every group.
func parseOrder(values []string, dims dimensionSet) ([]orderKey, error) {
	var keys []orderKey
	for _, value := range values {
		i := strings.LastIndex(value, "_") // the schema's enum values all have one
		name, direction := value[:i], value[i+1:]
		if name != "count" && !dims.has(name) {
			return nil, fmt.Errorf("orderBy %s: %s is not among the requested dimensions",
				value, name)
		}
		keys = append(keys, orderKey{dim: name, desc: direction == "DESC"})
	}
	return keys, nil
}

// dimensionSet is the set of dimensions a query groups by.
type dimensionSet map[string]bool

// selectedDimensions reads the dimensions from the selected field paths, such as
// "dimensions.datetime".
func selectedDimensions(paths []string) dimensionSet {
	dims := dimensionSet{}
	for _, path := range paths {
		if name, found := strings.CutPrefix(path, "dimensions."); found {
			dims[name] = true
		}
	}
	return dims
}

func (d dimensionSet) has(name string) bool { return d[name] }

// groupKey holds the values of the requested dimensions of one event; the others are
// zero, so events that agree on the requested dimensions share a key.
type groupKey struct {
	second  int64
	day     int64
	ray     uint64
	ip      storedIP
	text    [textFields]uint32
	success uint8
	rayKind uint8
}

// keyer builds group keys for a dimension set.
type keyer struct {
	second, day, ray, ip, success bool
	text                          []int
}

func newKeyer(dims dimensionSet) keyer {
	k := keyer{second: dims["datetime"], day: dims["date"], ray: dims["cfRayId"],
		ip: dims["ipAddress"], success: dims["isSuccessfulLogin"]}
	for name, field := range internedField {
		if dims[name] {
			k.text = append(k.text, field)
		}
	}
	return k
}

func (k keyer) key(ev *storedEvent) groupKey {
	var key groupKey
	second := eventSecond(ev)
	if k.second {
		key.second = second
	}
	if k.day {
		key.day = floorDiv(second, secondsPerDay)
	}
	if k.ray {
		key.ray, key.rayKind, key.text[fieldRayText] = ev.ray, ev.rayKind, ev.text[fieldRayText]
	}
	if k.ip {
		key.ip = storedIP{bytes: ev.ip, kind: ev.ipKind}
	}
	if k.success && ev.allowed {
		key.success = 1
	}
	for _, field := range k.text {
		key.text[field] = ev.text[field]
	}
	return key
}

// loginGroup is one row of the answer before it becomes GraphQL output.
type loginGroup struct {
	key   groupKey
	count uint64
}

// groups answers q over the table: the groups in q's order, at most q.limit of them.
func (t *eventTable) groups(q groupQuery) []loginGroup {
	counts := t.count(q)
	rows := make([]loginGroup, 0, len(counts))
	for key, count := range counts {
		rows = append(rows, loginGroup{key: key, count: count})
	}
	slices.SortFunc(rows, func(a, b loginGroup) int { return t.compareGroups(q.order, a, b) })
	return rows[:min(len(rows), q.limit)]
}

// count groups the events in q's time range that pass its filter. When the first order
// key is datetime and the log is in time order, as it is unless events were injected out
// of order, it reads only as far as the first q.limit groups reach.
func (t *eventTable) count(q groupQuery) map[groupKey]uint64 {
	counts := map[groupKey]uint64{}
	keys := newKeyer(q.dims)
	add := func(ev *storedEvent) {
		if q.predicate(ev) {
			counts[keys.key(ev)]++
		}
	}
	from, to := q.timeRange.from, q.timeRange.to
	byTime := len(q.order) > 0 && q.order[0].dim == "datetime"
	if !byTime || !t.inTimeOrder() {
		for i := range t.events {
			if second := eventSecond(&t.events[i]); second >= from && second <= to {
				add(&t.events[i])
			}
		}
		return counts
	}
	first := sort.Search(len(t.events), func(i int) bool {
		return eventSecond(&t.events[i]) >= from
	})
	end := sort.Search(len(t.events), func(i int) bool {
		return eventSecond(&t.events[i]) > to
	})
	step, i, stop := 1, first, end
	if q.order[0].desc {
		step, i, stop = -1, end-1, first-1
	}
	current := int64(0)
	for ; i != stop; i += step {
		second := eventSecond(&t.events[i])
		if second != current && len(counts) >= q.limit {
			break // every group so far is complete and comes before the rest
		}
		current = second
		add(&t.events[i])
	}
	return counts
}

// inTimeOrder reports whether the events are sorted by their second.
func (t *eventTable) inTimeOrder() bool {
	for i := 1; i < len(t.events); i++ {
		if t.events[i].unixNano < t.events[i-1].unixNano &&
			eventSecond(&t.events[i]) < eventSecond(&t.events[i-1]) {
			return false
		}
	}
	return true
}

// compareGroups orders two groups by the order keys, then by every dimension ascending,
// so that the answer is the same from run to run.
func (t *eventTable) compareGroups(order []orderKey, a, b loginGroup) int {
	for _, key := range order {
		c := t.compareDimension(key.dim, a, b)
		if key.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	for _, dim := range loginDimensions {
		if c := t.compareDimension(dim.name, a, b); c != 0 {
			return c
		}
	}
	return 0
}

func (t *eventTable) compareDimension(name string, a, b loginGroup) int {
	switch name {
	case "count":
		return cmp.Compare(a.count, b.count)
	case "datetime":
		return cmp.Compare(a.key.second, b.key.second)
	case "date":
		return cmp.Compare(a.key.day, b.key.day)
	case "isSuccessfulLogin":
		return cmp.Compare(a.key.success, b.key.success)
	case "cfRayId":
		return strings.Compare(t.rayText(a.key), t.rayText(b.key))
	case "ipAddress":
		return addrOf(a.key.ip).Compare(addrOf(b.key.ip))
	}
	if field, ok := internedField[name]; ok {
		return strings.Compare(t.strings[a.key.text[field]], t.strings[b.key.text[field]])
	}
	return 0 // a dimension with one value for every event
}

func (t *eventTable) rayText(key groupKey) string {
	if key.rayKind == rayNumeric {
		return formatRay(key.ray)
	}
	return t.strings[key.text[fieldRayText]]
}

func addrOf(ip storedIP) netip.Addr {
	switch ip.kind {
	case 4:
		return netip.AddrFrom16(ip.bytes).Unmap()
	case 6:
		return netip.AddrFrom16(ip.bytes)
	}
	return netip.Addr{}
}

// gqlGroup is an AccessLoginRequestsGroup.
type gqlGroup struct {
	Count      gqlUint64
	Dimensions *gqlDimensions
}

// gqlDimensions is an AccessLoginRequestsDimensions. Only the requested fields are
// written out; graphql-go matches the field names without regard to case.
type gqlDimensions struct {
	Datetime          gqlTime
	Date              gqlDate
	IsSuccessfulLogin gqlUint8
	HasExistingJWT    gqlUint8
	HasWarpEnabled    gqlUint8
	HasGatewayEnabled gqlUint8
	ServiceTokenID    gqlString
	AppID             gqlString
	ApprovingPolicyID gqlString
	CfRayID           gqlString
	IPAddress         gqlString
	Country           gqlString
	IdentityProvider  gqlString
	UserUUID          gqlString
	DeviceID          gqlString
	MtlsStatus        gqlString
	MtlsCertSerialID  gqlString
	MtlsCommonName    gqlString
}

// output turns groups into GraphQL objects.
func (t *eventTable) output(groups []loginGroup, dims dimensionSet) []*gqlGroup {
	out := make([]*gqlGroup, len(groups))
	for i, group := range groups {
		out[i] = &gqlGroup{Count: gqlUint64(group.count), Dimensions: t.dimensions(group, dims)}
	}
	return out
}

func (t *eventTable) dimensions(group loginGroup, dims dimensionSet) *gqlDimensions {
	key := group.key
	text := func(field int) gqlString { return gqlString(t.strings[key.text[field]]) }
	d := &gqlDimensions{
		IsSuccessfulLogin: gqlUint8(key.success),
		ServiceTokenID:    text(fieldTokenID),
		AppID:             text(fieldAppID),
		ApprovingPolicyID: text(fieldPolicyID),
		Country:           text(fieldCountry),
		IdentityProvider:  identityProviderNonIdentity,
	}
	if dims["datetime"] {
		d.Datetime = gqlTime{time.Unix(key.second, 0).UTC()}
	}
	if dims["date"] {
		d.Date = gqlDate{time.Unix(key.day*secondsPerDay, 0).UTC()}
	}
	if dims["cfRayId"] {
		d.CfRayID = gqlString(t.rayText(key))
	}
	if addr := addrOf(key.ip); addr.IsValid() {
		d.IPAddress = gqlString(addr.String())
	}
	return d
}
