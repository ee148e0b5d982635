package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// envProxyBenchConcurrency sets the number of concurrent clients of BenchmarkProxy.
const envProxyBenchConcurrency = "PROXY_BENCH_CONCURRENCY"

// proxyBenchRound is how many requests each side sends before the other takes a turn.
const proxyBenchRound = 250

// BenchmarkProxy sends the same requests to the same emulator origin (the echo behind
// Access) with the same number of concurrent clients, directly with the credentials and
// through cfst proxy, in alternating rounds so that both see the same machine load. It
// reports requests per second and latency percentiles of each, and the proxy's share of
// the direct throughput. b.N is the number of requests of each side. bench/proxy.sh runs
// it.
func BenchmarkProxy(b *testing.B) {
	concurrency := 16
	if value, err := strconv.Atoi(os.Getenv(envProxyBenchConcurrency)); err == nil && value > 0 {
		concurrency = value
	}
	bench := newProxyBench(b)
	direct := &proxyBenchSide{url: "https://echo.example.com/bench",
		client: proxyTestDirectClient(b, bench.fixture, transport.Credentials{
			ClientID: testClientID, Secret: secret.New(testCanary)}, "echo.example.com")}
	proxied := &proxyBenchSide{url: bench.base + "/bench", client: &http.Client{
		Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: concurrency, MaxIdleConns: concurrency}}}
	sides := []*proxyBenchSide{direct, proxied}
	for _, side := range sides {
		side.run(b, concurrency, concurrency) // open the connections before the clock starts
		side.reset()
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += proxyBenchRound {
		n := min(proxyBenchRound, b.N-done)
		for _, side := range sides {
			side.run(b, concurrency, n)
		}
		slices.Reverse(sides) // take turns at going first
	}
	b.StopTimer()
	directRate, proxyRate := direct.rate(), proxied.rate()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(directRate, "direct_req/s")
	b.ReportMetric(proxyRate, "proxy_req/s")
	b.ReportMetric(100*proxyRate/directRate, "proxy_%_of_direct")
	b.ReportMetric(direct.millis(0.50), "direct_p50_ms")
	b.ReportMetric(proxied.millis(0.50), "proxy_p50_ms")
	b.ReportMetric(direct.millis(0.99), "direct_p99_ms")
	b.ReportMetric(proxied.millis(0.99), "proxy_p99_ms")
}

// proxyBenchSide is one way to the origin, and what its requests took.
type proxyBenchSide struct {
	url       string
	client    *http.Client
	elapsed   time.Duration
	latencies []time.Duration
}

// run sends n GETs from concurrency clients and adds their time to the side's.
func (s *proxyBenchSide) run(b *testing.B, concurrency, n int) {
	latencies := make([][]time.Duration, concurrency)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	started := time.Now()
	for worker := range concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				begin := time.Now()
				if err := proxyBenchGet(s.client, s.url); err != nil {
					failed.Store(err)
					return
				}
				latencies[worker] = append(latencies[worker], time.Since(begin))
			}
		})
	}
	wg.Wait()
	s.elapsed += time.Since(started)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	s.latencies = append(s.latencies, slices.Concat(latencies...)...)
}

func (s *proxyBenchSide) reset() { s.elapsed, s.latencies = 0, nil }

func (s *proxyBenchSide) rate() float64 {
	return float64(len(s.latencies)) / s.elapsed.Seconds()
}

// millis is the q quantile of the latencies, in milliseconds.
func (s *proxyBenchSide) millis(q float64) float64 {
	slices.Sort(s.latencies)
	if len(s.latencies) == 0 {
		return 0
	}
	index := min(len(s.latencies)-1, int(q*float64(len(s.latencies))))
	return float64(s.latencies[index].Microseconds()) / 1000
}

// proxyBench is the emulator and a proxy in front of it.
type proxyBench struct {
	fixture *emuFixture
	base    string
}

// newProxyBench starts the emulator with proxyTestWorld's echo and cfst proxy --to it,
// in this process; the proxy's access log is discarded.
func newProxyBench(b *testing.B) *proxyBench {
	b.Helper()
	world, err := emulator.ParseWorld("bench.yaml", []byte(fmt.Sprintf(proxyTestWorld,
		"ok", "ok", "ok")))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	f := &emuFixture{dir: dir, caFile: filepath.Join(dir, "ca.pem"),
		envFile: filepath.Join(dir, ".env")}
	if f.srv, err = emulator.Start(emulator.Config{World: world, CAFile: f.caFile}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.srv.Close)
	env := "CF_SERVICE_TOKEN_CLIENT_ID=" + testClientID + "\n" +
		"CF_SERVICE_TOKEN_CLIENT_SECRET=" + testCanary + "\n"
	if err := os.WriteFile(f.envFile, []byte(env), 0o600); err != nil {
		b.Fatal(err)
	}
	f.env = map[string]string{"SSL_CERT_FILE": f.caFile, "CFST_CONNECT_TO": "::" + f.srv.Addr()}
	app, _, _ := f.newApp("")
	var announced syncBuffer
	app.Streams.Err = &proxyBenchLog{announce: &announced}
	app.EnvFile = f.envFile
	ctx, cancel := context.WithCancel(context.Background())
	running, err := app.startProxy(ctx, &proxyOptions{Listen: "127.0.0.1:0",
		To: []string{"https://echo.example.com"}, ReloadEvery: defaultReloadEvery})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- running.wait(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return &proxyBench{fixture: f, base: "http://" + running.addr.String()}
}

// proxyBenchLog keeps the proxy's notes and drops its access log, as a busy proxy's
// operator would send it to a file.
type proxyBenchLog struct{ announce *syncBuffer }

func (l *proxyBenchLog) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "cfst proxy:") {
		return l.announce.Write(p)
	}
	return len(p), nil
}

func proxyBenchGet(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}
