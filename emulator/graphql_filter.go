package emulator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// loginFilter is an AccessLoginRequestsFilter: conditions that must all hold, plus AND
// and OR lists of nested filters. graphql-go has already checked the input against the
// schema when UnmarshalGraphQL runs, so the names and value types are known to be valid.
type loginFilter struct {
	conds []filterCond
	and   []*loginFilter
	or    []*loginFilter
}

// filterCond is one field of a filter, such as serviceTokenId_in: [...].
type filterCond struct {
	dim loginDimension
	op  string // "", "_neq", "_in", "_notin", "_gt", "_geq", "_lt", "_leq"
	// text holds the values of a text dimension, flag the value of a flag, and at the
	// instant of a time or date condition (midnight UTC for a date).
	text []string
	flag uint8
	at   time.Time
}

// ImplementsGraphQLType maps loginFilter to the filter input type.
func (*loginFilter) ImplementsGraphQLType(name string) bool {
	return name == "AccessLoginRequestsFilter"
}

// Nullable tells graphql-go that the filter may be null (or left out): an empty filter.
func (*loginFilter) Nullable() {}

// UnmarshalGraphQL reads a filter object.
func (f *loginFilter) UnmarshalGraphQL(input any) error {
	if input == nil {
		return nil
	}
	fields, ok := input.(map[string]any)
	if !ok {
		return fmt.Errorf("filter: want an object, got %v", input)
	}
	for name, value := range fields {
		if err := f.addField(name, value); err != nil {
			return fmt.Errorf("filter: %s: %w", name, err)
		}
	}
	return nil
}

func (f *loginFilter) addField(name string, value any) error {
	if name == "AND" || name == "OR" {
		list, err := nestedFilters(value)
		if name == "AND" {
			f.and = append(f.and, list...)
		} else {
			f.or = append(f.or, list...)
		}
		return err
	}
	dim, op, ok := splitFilterField(name)
	if !ok {
		return fmt.Errorf("unknown filter field")
	}
	cond := filterCond{dim: dim, op: op}
	if err := cond.setValue(value); err != nil {
		return err
	}
	f.conds = append(f.conds, cond)
	return nil
}

func nestedFilters(value any) ([]*loginFilter, error) {
	items, ok := value.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of filters")
	}
	list := make([]*loginFilter, 0, len(items))
	for _, item := range items {
		nested := &loginFilter{}
		if err := nested.UnmarshalGraphQL(item); err != nil {
			return nil, err
		}
		list = append(list, nested)
	}
	return list, nil
}

// splitFilterField splits "datetime_geq" into the datetime dimension and "_geq".
func splitFilterField(name string) (loginDimension, string, bool) {
	for _, dim := range loginDimensions {
		op, found := strings.CutPrefix(name, dim.name)
		if found && slices.Contains(filterOperators[dim.kind], op) {
			return dim, op, true
		}
	}
	return loginDimension{}, "", false
}

func (c *filterCond) setValue(value any) error {
	switch c.dim.kind {
	case dimText:
		return c.setText(value)
	case dimFlag:
		var flag gqlUint8
		err := flag.UnmarshalGraphQL(value)
		c.flag = uint8(flag)
		return err
	case dimTime:
		var at gqlTime
		err := at.UnmarshalGraphQL(value)
		c.at = at.Time
		return err
	default:
		var day gqlDate
		err := day.UnmarshalGraphQL(value)
		c.at = day.Time
		return err
	}
}

func (c *filterCond) setText(value any) error {
	if c.op != "_in" && c.op != "_notin" {
		text, ok := value.(string)
		if !ok {
			return fmt.Errorf("want a string")
		}
		c.text = []string{text}
		return nil
	}
	items, ok := value.([]any)
	if !ok {
		return fmt.Errorf("want a list of strings")
	}
	for _, item := range items {
		text, ok := item.(string)
		if !ok {
			return fmt.Errorf("want a list of strings")
		}
		c.text = append(c.text, text)
	}
	return nil
}

// timeRange is the range of seconds a filter allows, as far as its top level and its
// AND lists say; OR lists do not narrow it. from and to are inclusive Unix seconds.
type timeRange struct {
	from, to         int64
	hasFrom, hasTo   bool
	fromText, toText string
}

func (f *loginFilter) timeRange() timeRange {
	r := timeRange{}
	f.narrow(&r)
	return r
}

func (f *loginFilter) narrow(r *timeRange) {
	if f == nil {
		return
	}
	for _, c := range f.conds {
		c.narrow(r)
	}
	for _, nested := range f.and {
		nested.narrow(r)
	}
}

// narrow tightens r by one condition on datetime or date.
func (c filterCond) narrow(r *timeRange) {
	if c.dim.kind != dimTime && c.dim.kind != dimDate {
		return
	}
	first, last := c.at.Unix(), c.at.Unix()
	if c.dim.kind == dimDate {
		last += secondsPerDay - 1
	}
	lower := func(sec int64) {
		if !r.hasFrom || sec > r.from {
			r.from, r.hasFrom, r.fromText = sec, true, c.at.UTC().Format(time.RFC3339)
		}
	}
	upper := func(sec int64) {
		if !r.hasTo || sec < r.to {
			r.to, r.hasTo, r.toText = sec, true, c.at.UTC().Format(time.RFC3339)
		}
	}
	switch c.op {
	case "":
		lower(first)
		upper(last)
	case "_gt":
		lower(last + 1)
	case "_geq":
		lower(first)
	case "_lt":
		upper(first - 1)
	case "_leq":
		upper(last)
	}
}

const secondsPerDay = 24 * 60 * 60

// eventPredicate tells whether a stored event passes a filter.
type eventPredicate func(ev *storedEvent) bool

// compile turns the filter into a predicate over the events of table. Text values are
// looked up in the table's interned strings once, so matching compares integers.
func (f *loginFilter) compile(table *eventTable) eventPredicate {
	if f == nil {
		return func(*storedEvent) bool { return true }
	}
	var all []eventPredicate
	for _, c := range f.conds {
		all = append(all, c.compile(table))
	}
	for _, nested := range f.and {
		all = append(all, nested.compile(table))
	}
	if len(f.or) > 0 {
		var anyOf []eventPredicate
		for _, nested := range f.or {
			anyOf = append(anyOf, nested.compile(table))
		}
		all = append(all, func(ev *storedEvent) bool {
			return slices.ContainsFunc(anyOf, func(p eventPredicate) bool { return p(ev) })
		})
	}
	return func(ev *storedEvent) bool {
		for _, p := range all {
			if !p(ev) {
				return false
			}
		}
		return true
	}
}

func (c filterCond) compile(table *eventTable) eventPredicate {
	switch c.dim.kind {
	case dimText:
		matches := table.textMatcher(c.dim.name, c.text)
		if c.op == "_neq" || c.op == "_notin" {
			return func(ev *storedEvent) bool { return !matches(ev) }
		}
		return matches
	case dimFlag:
		name, want := c.dim.name, c.flag
		equal := func(ev *storedEvent) bool { return flagOf(ev, name) == want }
		if c.op == "_neq" {
			return func(ev *storedEvent) bool { return !equal(ev) }
		}
		return equal
	}
	return c.compileTime()
}

// compileTime compares an event's second (datetime) or day (date) with the condition's.
func (c filterCond) compileTime() eventPredicate {
	unit := int64(1)
	if c.dim.kind == dimDate {
		unit = secondsPerDay
	}
	want := floorDiv(c.at.Unix(), unit)
	value := func(ev *storedEvent) int64 { return floorDiv(eventSecond(ev), unit) }
	compare := map[string]func(a, b int64) bool{
		"":     func(a, b int64) bool { return a == b },
		"_neq": func(a, b int64) bool { return a != b },
		"_gt":  func(a, b int64) bool { return a > b },
		"_geq": func(a, b int64) bool { return a >= b },
		"_lt":  func(a, b int64) bool { return a < b },
		"_leq": func(a, b int64) bool { return a <= b },
	}[c.op]
	return func(ev *storedEvent) bool { return compare(value(ev), want) }
}

// eventSecond is the event's datetime in Unix seconds, rounded down.
func eventSecond(ev *storedEvent) int64 { return floorDiv(ev.unixNano, int64(time.Second)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// flagOf is the value of a flag dimension: isSuccessfulLogin from the event; the others
// are 0 for every service-token login the emulator records.
func flagOf(ev *storedEvent, name string) uint8 {
	if name == "isSuccessfulLogin" && ev.allowed {
		return 1
	}
	return 0
}

// constantText is the value of the text dimensions that are the same for every event.
var constantText = map[string]string{
	"identityProvider": identityProviderNonIdentity,
	"userUuid":         "", "deviceId": "", "mtlsStatus": "", "mtlsCertSerialId": "",
	"mtlsCommonName": "",
}

// internedField is the storedEvent text field of each interned text dimension.
var internedField = map[string]int{
	"serviceTokenId": fieldTokenID, "appId": fieldAppID, "approvingPolicyId": fieldPolicyID,
	"country": fieldCountry,
}

// textMatcher returns a predicate for "the dimension equals one of values".
func (t *eventTable) textMatcher(name string, values []string) eventPredicate {
	if constant, ok := constantText[name]; ok {
		matches := slices.Contains(values, constant)
		return func(*storedEvent) bool { return matches }
	}
	switch name {
	case "cfRayId":
		return t.rayMatcher(values)
	case "ipAddress":
		return ipMatcher(values)
	}
	field, ids := internedField[name], t.lookup(values)
	return func(ev *storedEvent) bool { return slices.Contains(ids, ev.text[field]) }
}

func (t *eventTable) rayMatcher(values []string) eventPredicate {
	var numeric []uint64
	var text []string
	for _, value := range values {
		if ray, ok := parseRay(value); ok {
			numeric = append(numeric, ray)
		} else {
			text = append(text, value)
		}
	}
	ids := t.lookup(text)
	return func(ev *storedEvent) bool {
		if ev.rayKind == rayNumeric {
			return slices.Contains(numeric, ev.ray)
		}
		return slices.Contains(ids, ev.text[fieldRayText])
	}
}

// storedIP is an address as storedEvent keeps it.
type storedIP struct {
	bytes [16]byte
	kind  uint8
}

func storedIPOf(addr netip.Addr) storedIP {
	if !addr.IsValid() {
		return storedIP{}
	}
	addr = addr.Unmap()
	ip := storedIP{bytes: addr.As16(), kind: 6}
	if addr.Is4() {
		ip.kind = 4
	}
	return ip
}

func ipMatcher(values []string) eventPredicate {
	var want []storedIP
	for _, value := range values {
		if addr, err := netip.ParseAddr(value); err == nil {
			want = append(want, storedIPOf(addr))
		} else if value == "" {
			want = append(want, storedIP{})
		}
	}
	return func(ev *storedEvent) bool {
		return slices.Contains(want, storedIP{bytes: ev.ip, kind: ev.ipKind})
	}
}
