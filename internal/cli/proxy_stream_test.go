package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestProxyStreamsEvents: the first server-sent event reaches the client while the
// origin still holds the stream open.
func TestProxyStreamsEvents(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://stream.example.com")
	resp, err := p.client.Get(p.base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	first := make(chan string, 1)
	go func() {
		line, _ := lines.ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if line != "data: first\n" {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive before the stream ended")
	}
	f.releaseOrigin()
	rest, err := io.ReadAll(lines)
	if err != nil || string(rest) != "\ndata: last\n\n" {
		t.Errorf("rest of the stream %q, %v", rest, err)
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
}

// TestProxyLargeDownload: a download of several megabytes arrives whole and intact.
func TestProxyLargeDownload(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://stream.example.com")
	resp, err := p.client.Get(p.base + "/large")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, want := sha256.New(), sha256.New()
	n, err := io.Copy(got, resp.Body)
	_, _ = io.CopyN(want, &proxyTestPattern{}, proxyTestLargeSize)
	if err != nil || n != proxyTestLargeSize || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Errorf("status %d, %d bytes (want %d), %v, digest matches: %v", resp.StatusCode, n,
			proxyTestLargeSize, err, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
}

// TestProxyWebsocket: a websocket through the proxy and Access echoes messages both ways,
// by path and by Host.
func TestProxyWebsocket(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://stream.example.com", "--to",
		"https://echo.example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dial := range []struct {
		url  string
		host string
	}{{"ws" + strings.TrimPrefix(p.base, "http") + "/stream.example.com/ws", ""},
		{"ws" + strings.TrimPrefix(p.base, "http") + "/ws", "stream.example.com"}} {
		opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
		if dial.host != "" {
			opts.Host = dial.host
		}
		conn, resp, err := websocket.Dial(ctx, dial.url, opts)
		if err != nil {
			t.Fatalf("dial %s (Host %q): %v", dial.url, dial.host, err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Errorf("status %d", resp.StatusCode)
		}
		for i := range 3 {
			message := fmt.Sprintf("hello %d", i)
			if err := conn.Write(ctx, websocket.MessageText, []byte(message)); err != nil {
				t.Fatal(err)
			}
			_, reply, err := conn.Read(ctx)
			if err != nil || string(reply) != "echo: "+message {
				t.Fatalf("reply %q, %v", reply, err)
			}
		}
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}
	if !strings.Contains(p.stderr.String(), " GET /stream.example.com/ws 101 stream.example.com ") {
		t.Errorf("no access log line for the websocket:\n%s", p.stderr)
	}
}

// TestProxyConcurrentClients: 50 clients of 20 requests each, all answered by the echo
// origin with the token's id, none failing.
func TestProxyConcurrentClients(t *testing.T) {
	f := newProxyFixture(t)
	p := f.start(t, "--to", "https://echo.example.com", "--to",
		"https://rec.example.com")
	const clients, requests = 50, 20
	failures := make(chan string, clients*requests)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range requests {
				path := fmt.Sprintf("/echo.example.com/c%d/r%d", c, i)
				if i%2 == 1 {
					path = fmt.Sprintf("/rec.example.com/c%d/r%d", c, i)
				}
				if problem := proxyTestFetch(p, path); problem != "" {
					failures <- problem
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for problem := range failures {
		t.Error(problem)
	}
	if n := proxyTestCount(f.origin); n != clients*requests/2 {
		t.Errorf("the recording origin got %d requests, want %d", n, clients*requests/2)
	}
}

// proxyTestFetch GETs path through the proxy and describes what went wrong, if anything:
// an error, a status other than 200, or an echo without the token's id.
func proxyTestFetch(p *runningTestProxy, path string) string {
	resp, err := p.client.Get(p.base + path)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: read the body: %v", path, err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("%s: status %d: %s", path, resp.StatusCode, body)
	case strings.HasPrefix(path, "/echo.") &&
		!strings.Contains(string(body), `"cf-access-client-id":"`+testClientID+`"`):
		return fmt.Sprintf("%s: the origin did not see the token: %s", path, body)
	}
	return ""
}
