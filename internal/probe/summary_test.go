package probe_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/cfst/cfst/internal/probe"
)

func resultsOf(classes ...probe.Class) []probe.Result {
	results := make([]probe.Result, len(classes))
	for i, class := range classes {
		results[i] = probe.Result{Class: class}
	}
	return results
}

func TestSummarize(t *testing.T) {
	s := probe.Summarize(resultsOf(probe.Classes...))
	want := probe.Summary{Total: 10, OK: 1, BackendDown: 1, TunnelDown: 1, Rejected: 4,
		NotProtected: 1, Unexpected: 1, NetworkError: 1}
	got := s
	got.ByClass = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, class := range probe.Classes {
		if s.ByClass[class] != 1 {
			t.Errorf("ByClass[%s] = %d", class, s.ByClass[class])
		}
	}
}

func TestExitClass(t *testing.T) {
	tests := []struct {
		classes []probe.Class
		want    probe.ExitClass
	}{
		{nil, probe.ExitOK},
		{[]probe.Class{probe.ClassOK, probe.ClassOK}, probe.ExitOK},
		{[]probe.Class{probe.ClassOK, probe.ClassBackendDown}, probe.ExitDegraded},
		{[]probe.Class{probe.ClassTunnelDown}, probe.ExitDegraded},
		{[]probe.Class{probe.ClassBackendDown, probe.ClassLoginRedirect}, probe.ExitFailed},
		{[]probe.Class{probe.ClassOK, probe.ClassNetworkError}, probe.ExitFailed},
		{[]probe.Class{probe.ClassOK, probe.ClassNotProtected}, probe.ExitFailed},
		{[]probe.Class{probe.ClassUnexpectedStatus}, probe.ExitFailed},
		{[]probe.Class{probe.ClassBlockedByWAF}, probe.ExitFailed},
		{[]probe.Class{probe.ClassForbidden}, probe.ExitFailed},
		{[]probe.Class{probe.ClassUnauthenticated}, probe.ExitFailed},
	}
	for _, tt := range tests {
		if got := probe.Summarize(resultsOf(tt.classes...)).ExitClass(); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.classes, got, tt.want)
		}
	}
}

func ExampleSummarize() {
	results := resultsOf(probe.ClassOK, probe.ClassOK, probe.ClassBackendDown)
	summary := probe.Summarize(results)
	fmt.Println(summary.OK, summary.BackendDown, summary.ExitClass())
	// Output: 2 1 degraded
}

func ExampleParseTarget() {
	target, _ := probe.ParseTarget("app.example.com")
	fmt.Println(target.URL)
	// Output: https://app.example.com/
}
