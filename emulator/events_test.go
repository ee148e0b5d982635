package emulator

import (
	"fmt"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func TestEventLogRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	events := []LoginEvent{
		{Time: at, RayID: "8f3a0c1d2e4b5a69", TokenID: "tok-1", ClientID: "abc.access",
			AppID: "app-1", AppDomain: "app.example.com", Host: "app.example.com",
			IP: netip.MustParseAddr("203.0.113.7"), Country: "US", Allowed: true,
			Outcome: "admitted", ApprovingPolicyID: "pol-1"},
		{Time: at.Add(time.Second), RayID: "0000000000000000",
			IP: netip.MustParseAddr("2001:db8::1"), Outcome: "forbidden", Status: 403,
			Reason: "no_matching_rule"},
		{Time: at, RayID: "8F3A0C1D2E4B5A69", IP: netip.MustParseAddr("::ffff:192.0.2.1")},
		{Time: at, RayID: "short"},
		{Time: at},
	}
	log := newEventLog()
	log.record(events...)

	var got []LoginEvent
	log.each(func(ev LoginEvent) bool { got = append(got, ev); return true })
	if len(got) != len(events) {
		t.Fatalf("got %d events, want %d", len(got), len(events))
	}
	for i := range events {
		if !reflect.DeepEqual(got[i], events[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], events[i])
		}
	}
}

func TestEventLogStopsWhenToldTo(t *testing.T) {
	log := newEventLog()
	for i := range 10 {
		log.record(LoginEvent{RayID: fmt.Sprintf("%016x", i)})
	}
	seen := 0
	log.each(func(LoginEvent) bool { seen++; return seen < 3 })
	if seen != 3 {
		t.Fatalf("each went on after false: saw %d events", seen)
	}
}

// TestEventLogIsCompact keeps the stored form small and free of pointers, so a million
// events stay under 100 MB and cost the garbage collector nothing to scan.
func TestEventLogIsCompact(t *testing.T) {
	if size := unsafe.Sizeof(storedEvent{}); size > 80 {
		t.Errorf("storedEvent is %d bytes, want at most 80", size)
	}
	typ := reflect.TypeFor[storedEvent]()
	for i := range typ.NumField() {
		switch typ.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface:
			t.Errorf("storedEvent.%s holds a pointer", typ.Field(i).Name)
		}
	}
}

func TestEventLogConcurrentRecordAndRead(t *testing.T) {
	log := newEventLog()
	var wg sync.WaitGroup
	for writer := range 4 {
		wg.Go(func() {
			for i := range 500 {
				log.record(LoginEvent{Host: fmt.Sprintf("h%d.example.com", writer),
					RayID: fmt.Sprintf("%016x", i)})
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				previous := time.Time{}
				log.each(func(ev LoginEvent) bool {
					if ev.Host == "" || ev.Time.Before(previous) {
						t.Errorf("torn event %+v", ev)
						return false
					}
					previous = ev.Time
					return true
				})
			}
		})
	}
	wg.Wait()
	if n := log.len(); n != 2000 {
		t.Fatalf("log holds %d events, want 2000", n)
	}
}

func TestServerLoginEventAPI(t *testing.T) {
	srv := startEmulator(t, &World{})
	srv.RecordLoginEvents(LoginEvent{TokenID: "a"}, LoginEvent{TokenID: "b"})

	events := srv.LoginEvents()
	events[0].TokenID = "changed" // a copy: the log must not change
	var ids []string
	srv.EachLoginEvent(func(ev LoginEvent) bool {
		ids = append(ids, ev.TokenID)
		srv.RecordLoginEvents(LoginEvent{TokenID: "during"}) // must not deadlock
		return true
	})
	if !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("EachLoginEvent saw %q, want [a b]", ids)
	}
	if n := len(srv.LoginEvents()); n != 4 {
		t.Fatalf("log holds %d events, want 4", n)
	}
}

// BenchmarkEachLoginEvent measures a full scan of a million events, what a GraphQL query
// over the whole log costs.
func BenchmarkEachLoginEvent(b *testing.B) {
	log := newEventLog()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]LoginEvent, 0, 1000)
	for i := range 1_000_000 {
		batch = append(batch, LoginEvent{
			Time: start.Add(time.Duration(i) * time.Second), RayID: fmt.Sprintf("%016x", i),
			TokenID: fmt.Sprintf("tok-%d", i%50), ClientID: fmt.Sprintf("c%d.access", i%50),
			AppID: "app-1", AppDomain: "app.example.com", Host: "app.example.com",
			IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Country: "US",
			Allowed: i%7 != 0, Outcome: "admitted", ApprovingPolicyID: "pol-1",
		})
		if len(batch) == cap(batch) {
			log.record(batch...)
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	for b.Loop() {
		allowed := 0
		log.each(func(ev LoginEvent) bool {
			if ev.Allowed {
				allowed++
			}
			return true
		})
		if allowed == 0 {
			b.Fatal("no allowed events")
		}
	}
	b.ReportMetric(float64(log.len())*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
