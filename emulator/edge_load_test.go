package emulator

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestEdgeLoad sends 10,000 requests from 200 concurrent clients, half sharing one
// transport and half with their own, and checks every answer. It sends as many under the
// race detector, where it takes 15 to 30 seconds on two busy cores.
func TestEdgeLoad(t *testing.T) {
	const total, clients = 10_000, 200
	srv := startEmulator(t, edgeWorld(false, ""))
	shared := srv.Client()

	var sent, admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range clients {
		client := shared
		if i%2 == 1 {
			client = srv.Client()
		}
		wg.Go(func() {
			for n := sent.Add(1); n <= int64(total); n = sent.Add(1) {
				ok, err := loadRequest(client, n)
				if err != nil {
					t.Errorf("request %d: %v", n, err)
					return
				}
				if ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := len(srv.LoginEvents()); got != total {
		t.Errorf("recorded %d login events for %d requests", got, total)
	}
	if admitted.Load() != int64(total-total/10) {
		t.Errorf("%d requests admitted, want %d", admitted.Load(), total-total/10)
	}
}

// loadRequest sends request n: every tenth has a wrong secret and must be refused.
func loadRequest(client *http.Client, n int64) (admitted bool, err error) {
	secretValue, want := goodSecret, http.StatusOK
	if n%10 == 0 {
		secretValue, want = otherSecret, http.StatusForbidden
	}
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("https://svc.example.com/%d", n), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set(headerClientID, goodClientID)
	req.Header.Set(headerClientSecret, secretValue)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return false, err
	}
	if resp.StatusCode != want || !hasRay(resp.Header) {
		return false, fmt.Errorf("status %d, cf-ray %q; want %d", resp.StatusCode,
			resp.Header.Get("Cf-Ray"), want)
	}
	return want == http.StatusOK, nil
}

// BenchmarkEdgeRequests measures admitted requests through the edge to an ok origin, and,
// as the baseline of the same run, a TLS server that does nothing. Both speak HTTP/2 over
// loopback with kept-alive connections; each parallel goroutine has its own connection.
func BenchmarkEdgeRequests(b *testing.B) {
	srv := startEmulator(b, edgeWorld(false, ""))
	edgeClient := func() *http.Client { return srv.Client() }
	edgeRequest := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, "https://svc.example.com/bench", nil)
		req.Header.Set(headerClientID, goodClientID)
		req.Header.Set(headerClientSecret, goodSecret)
		return req
	}
	b.Run("edge/serial", func(b *testing.B) { benchSerial(b, edgeClient(), edgeRequest) })
	b.Run("edge/parallel", func(b *testing.B) { benchParallel(b, edgeClient, edgeRequest) })

	baseline := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter,
		*http.Request) {
	}))
	baseline.EnableHTTP2 = true
	baseline.StartTLS()
	defer baseline.Close()
	baselineClient := func() *http.Client {
		transport := baseline.Client().Transport.(*http.Transport).Clone()
		return &http.Client{Transport: transport}
	}
	baselineRequest := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, baseline.URL+"/bench", nil)
		return req
	}
	b.Run("baseline/serial", func(b *testing.B) {
		benchSerial(b, baselineClient(), baselineRequest)
	})
	b.Run("baseline/parallel", func(b *testing.B) {
		benchParallel(b, baselineClient, baselineRequest)
	})
}

func benchSerial(b *testing.B, client *http.Client, newRequest func() *http.Request) {
	defer client.CloseIdleConnections()
	for b.Loop() {
		if err := benchDo(client, newRequest()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchParallel(b *testing.B, newClient func() *http.Client,
	newRequest func() *http.Request) {
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := newClient()
		defer client.CloseIdleConnections()
		for pb.Next() {
			if err := benchDo(client, newRequest()); err != nil {
				b.Error(err) // Fatal may not be called from RunParallel's goroutines
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchDo(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
