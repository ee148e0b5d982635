package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/secret"
	"github.com/cfst/cfst/internal/transport"
)

// Environment variables that tune BenchmarkProxy.
const (
	envProxyBenchConcurrency = "PROXY_BENCH_CONCURRENCY" // concurrent clients; 16
	envProxyBenchDelay       = "PROXY_BENCH_DELAY"       // the far origin's delay; 20ms
)

// proxyBenchRound is how many requests each side sends before the next takes a turn.
const proxyBenchRound = 250

// proxyBenchFarShare is the far setting's share of b.N: its requests each take the
// origin's delay, so it sends fewer.
const proxyBenchFarShare = 10

// BenchmarkProxy sends the same GETs from the same number of concurrent clients to the
// same emulator origins by three ways, in alternating rounds so that all see the same
// machine load: direct (the client adds the credentials itself), bare (an
// httputil.ReverseProxy that only adds the two headers, with cfst's upstream transport
// and buffer pool: the ceiling of a proxy built on it) and proxy (cfst proxy, writing its
// access log to a file). It does so in two settings:
//
//   - near: the echo origin answers at once. Clients, proxies and emulator share this
//     machine's CPUs, so throughput is bound by CPU and the figures measure what each
//     hop costs.
//   - far: the origin answers after PROXY_BENCH_DELAY, as an upstream across a network
//     does. The figures are what a client of the proxy sees. No bare side.
//
// It reports requests per second and latency percentiles of each side, and the shares
// of direct throughput. b.N is the number of requests a side sends in the near setting;
// the far setting sends b.N/proxyBenchFarShare. bench/proxy.sh runs it.
func BenchmarkProxy(b *testing.B) {
	concurrency := 16
	if value, err := strconv.Atoi(os.Getenv(envProxyBenchConcurrency)); err == nil && value > 0 {
		concurrency = value
	}
	delay := 20 * time.Millisecond
	if value, err := time.ParseDuration(os.Getenv(envProxyBenchDelay)); err == nil {
		delay = value
	}
	bench := newProxyBench(b, delay)
	near := bench.sides(b, "echo.example.com", concurrency, true)
	far := bench.sides(b, "rec.example.com", concurrency, false)
	b.ResetTimer()
	runProxyBenchRounds(b, near, concurrency, b.N)
	runProxyBenchRounds(b, far, concurrency, max(1, b.N/proxyBenchFarShare))
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	reportProxyBench(b, "near", near)
	reportProxyBench(b, "far", far)
}

// runProxyBenchRounds sends n requests on every side, proxyBenchRound at a time, the
// sides taking turns at going first.
func runProxyBenchRounds(b *testing.B, sides []*proxyBenchSide, concurrency, n int) {
	sides = slices.Clone(sides)
	for done := 0; done < n; done += proxyBenchRound {
		for _, side := range sides {
			side.run(b, concurrency, min(proxyBenchRound, n-done))
		}
		sides = append(sides[1:], sides[0])
	}
}

// reportProxyBench reports the figures of one setting, each named setting_side_what.
func reportProxyBench(b *testing.B, setting string, sides []*proxyBenchSide) {
	direct := sides[0]
	for _, side := range sides {
		name := setting + "_" + side.name
		b.ReportMetric(side.rate(), name+"_req/s")
		b.ReportMetric(side.millis(0.50), name+"_p50_ms")
		b.ReportMetric(side.millis(0.99), name+"_p99_ms")
		if side != direct {
			b.ReportMetric(100*side.rate()/direct.rate(), name+"_%_of_direct")
		}
	}
}

// proxyBenchSide is one way to the origin, and what its requests took.
type proxyBenchSide struct {
	name      string
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

// proxyBench is the emulator and a cfst proxy in front of it.
type proxyBench struct {
	fixture *emuFixture
	base    string // the cfst proxy's URL
}

// newProxyBench starts the emulator with proxyTestWorld, whose rec origin answers after
// delay here, and cfst proxy --to its echo and rec hostnames, in this process. The
// proxy's stderr, access log included, goes to a file.
func newProxyBench(b *testing.B, delay time.Duration) *proxyBench {
	b.Helper()
	world, err := emulator.ParseWorld("bench.yaml", []byte(fmt.Sprintf(proxyTestWorld,
		"slow:"+delay.String(), "ok", "ok")))
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
	logFile, err := os.Create(filepath.Join(dir, "proxy.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	app.Streams.Err = logFile
	app.EnvFile = f.envFile
	ctx, cancel := context.WithCancel(context.Background())
	running, err := app.startProxy(ctx, &proxyOptions{Listen: "127.0.0.1:0",
		To:          []string{"https://echo.example.com", "https://rec.example.com"},
		ReloadEvery: defaultReloadEvery})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- running.wait(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return &proxyBench{fixture: f, base: "http://" + running.addr.String()}
}

// sides returns the ways to host's /bench, direct first, each with its connections open.
// The proxy is reached by path, /HOST/bench.
func (pb *proxyBench) sides(b *testing.B, host string, concurrency int,
	withBare bool) []*proxyBenchSide {
	creds := transport.Credentials{ClientID: testClientID, Secret: secret.New(testCanary)}
	sides := []*proxyBenchSide{{name: "direct", url: "https://" + host + "/bench",
		client: proxyTestDirectClient(b, pb.fixture, creds, host)}}
	if withBare {
		sides = append(sides, &proxyBenchSide{name: "bare",
			url: pb.startBare(b, host, creds) + "/bench", client: proxyBenchClient(concurrency)})
	}
	sides = append(sides, &proxyBenchSide{name: "proxy", url: pb.base + "/" + host + "/bench",
		client: proxyBenchClient(concurrency)})
	for _, side := range sides {
		side.run(b, concurrency, concurrency) // open the connections before the clock starts
		side.reset()
	}
	return sides
}

// startBare starts the bare side: an httputil.ReverseProxy that sends every request to
// host with the credentials added, over a transport built as cfst proxy builds its own,
// and nothing else (no client checks, header stripping, access log or reload).
func (pb *proxyBench) startBare(b *testing.B, host string, creds transport.Credentials) string {
	app, _, _ := pb.fixture.newApp("")
	opts, err := app.transportOptions(connectionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	upstream, err := transport.NewTransport(opts)
	if err != nil {
		b.Fatal(err)
	}
	target := &url.URL{Scheme: "https", Host: host}
	srv := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set(transport.HeaderClientID, creds.ClientID)
			pr.Out.Header.Set(transport.HeaderClientSecret, creds.Secret.Reveal())
		},
		Transport:  upstream,
		BufferPool: newBufferPool(proxyBufferSize),
		ErrorLog:   quietServerLog(),
	})
	b.Cleanup(srv.Close)
	return srv.URL
}

// proxyBenchClient is a client of a local proxy that keeps a connection per worker.
func proxyBenchClient(concurrency int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: concurrency, MaxIdleConns: concurrency}}
}

func proxyBenchGet(client *http.Client, target string) error {
	resp, err := client.Get(target)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", target, resp.StatusCode)
	}
	return nil
}
