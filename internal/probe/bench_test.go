package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/transport"
	"github.com/cfst/cfst/internal/transport/transporttest"
)

// BenchmarkProbe probes N distinct hostnames whose origin takes 100 ms to answer. The
// latencies/op metric is the wall time of a whole run in units of that latency: about 1
// while N ≤ concurrency, ⌈N/concurrency⌉ beyond, and N for the sequential baseline.
func BenchmarkProbe(b *testing.B) {
	const latency = 100 * time.Millisecond
	ca := transporttest.NewCA(b)
	srv := ca.NewServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
		}
		w.Header().Set("Cf-Ray", testRay)
	}))
	client, err := transport.NewClient(transport.Options{RootCAs: ca.Pool(),
		ConnectTo: transporttest.RouteTo(srv)})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name                 string
		targets, concurrency int
	}{
		{"concurrent/targets=8", 8, probe.DefaultConcurrency},
		{"concurrent/targets=32", 32, probe.DefaultConcurrency},
		{"concurrent/targets=64", 64, probe.DefaultConcurrency},
		{"sequential/targets=32", 32, 1},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			targets := make([]probe.Target, bc.targets)
			for i := range targets {
				targets[i] = probe.Target{URL: fmt.Sprintf("https://h%d.bench.test/", i)}
			}
			prober := &probe.Prober{Client: client, Concurrency: bc.concurrency}
			for b.Loop() {
				for _, r := range prober.RunAll(context.Background(), targets,
					testCredentials()) {
					if r.Class != probe.ClassOK {
						b.Fatalf("%s: %s %s", r.Target.URL, r.Class, r.Detail)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(latency), "latencies/op")
		})
	}
}
