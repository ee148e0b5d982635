package emulator

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// recordingUpstream is a real origin server that keeps the headers of the last request.
type recordingUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	last http.Header
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	up := &recordingUpstream{}
	up.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.mu.Lock()
		up.last = r.Header.Clone()
		up.last.Set("Host", r.Host)
		up.mu.Unlock()
		w.Header().Set("Cf-Ray", "upstream-ray")
		_, _ = io.WriteString(w, "from upstream "+r.URL.RequestURI())
	}))
	t.Cleanup(up.Close)
	return up
}

func (up *recordingUpstream) lastHeader() http.Header {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.last
}

func TestEdgeProxiesToUpstreamWithVerifiableJWT(t *testing.T) {
	up := newRecordingUpstream(t)
	srv := startEmulator(t, edgeWorld(false, up.URL))
	resp := get(t, srv, "https://proxy.example.com/v1/items?page=2", http.Header{
		"Cf-Access-Client-Id":     {goodClientID},
		"Cf-Access-Client-Secret": {goodSecret},
		"Cf-Access-Jwt-Assertion": {"forged"},
		"X-Emulator-Client-Ip":    {"198.51.100.9"},
		"X-Emulator-Country":      {"de"},
	})
	if resp.status != 200 || resp.body != "from upstream /v1/items?page=2" {
		t.Fatalf("got %d %q", resp.status, resp.body)
	}
	if rays := resp.header.Values("Cf-Ray"); len(rays) != 1 || !hasRay(resp.header) {
		t.Errorf("cf-ray headers %q, want the edge's alone", rays)
	}
	seen := up.lastHeader()
	checks := map[string]string{
		"Host": "proxy.example.com", "Cf-Access-Client-Id": goodClientID,
		"Cf-Access-Client-Secret": "", "X-Emulator-Client-Ip": "", "X-Emulator-Country": "",
		"Cf-Connecting-Ip": "198.51.100.9", "Cf-Ipcountry": "DE",
	}
	for name, want := range checks {
		if got := seen.Get(name); got != want {
			t.Errorf("origin saw %s = %q, want %q", name, got, want)
		}
	}
	token := seen.Get(headerJWTAssertion)
	claims := verifyAppToken(t, srv, token, appNamed(t, srv, "proxy").AUD)
	if claims["common_name"] != goodClientID || claims["type"] != "app" {
		t.Errorf("claims %v", claims)
	}
	if cookie := cookieValue(resp.header); cookie != token {
		t.Errorf("CF_Authorization cookie differs from the JWT the origin got")
	}
}

func cookieValue(header http.Header) string {
	for _, line := range header.Values("Set-Cookie") {
		if cookie, err := http.ParseSetCookie(line); err == nil && cookie.Name == cookieName {
			return cookie.Value
		}
	}
	return ""
}

func TestEdgeUpstreamUnreachable(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	up.Close() // nothing listens there any more
	srv := startEmulator(t, edgeWorld(false, up.URL))
	resp := get(t, srv, "https://proxy.example.com/", http.Header{
		"Cf-Access-Client-Id": {goodClientID}, "Cf-Access-Client-Secret": {goodSecret}})
	if resp.status != 502 || !strings.Contains(resp.body, "Error code 502") ||
		!hasRay(resp.header) {
		t.Fatalf("got %d %q", resp.status, resp.body)
	}
}

func TestEdgeStreamsUpstreamResponses(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	defer up.Close()
	srv := startEmulator(t, edgeWorld(false, up.URL))
	req, _ := http.NewRequest(http.MethodGet, "https://proxy.example.com/events", nil)
	req.Header.Set(headerClientID, goodClientID)
	req.Header.Set(headerClientSecret, goodSecret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	reader := bufio.NewReader(resp.Body)
	// The first line must arrive while the upstream still holds the response open.
	if line, err := reader.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	if rest, err := io.ReadAll(reader); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestEdgeProxiesWebSockets(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(headerJWTAssertion) == "" {
			http.Error(w, "no JWT", http.StatusUnauthorized)
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			kind, data, err := conn.Read(r.Context())
			if err != nil {
				return
			}
			if err := conn.Write(r.Context(), kind, append([]byte("echo "), data...)); err != nil {
				return
			}
		}
	}))
	defer up.Close()
	srv := startEmulator(t, edgeWorld(false, up.URL))

	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, "wss://proxy.example.com/socket", &websocket.DialOptions{
		HTTPClient: srv.Client(),
		HTTPHeader: http.Header{headerClientID: {goodClientID}, headerClientSecret: {goodSecret}},
	})
	if err != nil {
		t.Fatalf("dial through the edge: %v", err)
	}
	defer conn.CloseNow()
	for _, message := range []string{"one", "two"} {
		if err := conn.Write(ctx, websocket.MessageText, []byte(message)); err != nil {
			t.Fatal(err)
		}
		_, reply, err := conn.Read(ctx)
		if err != nil || string(reply) != "echo "+message {
			t.Fatalf("reply %q, %v", reply, err)
		}
	}
	_ = conn.Close(websocket.StatusNormalClosure, "")
}

// TestCloseEndsSlowOrigins starts a request to an origin that would answer in an hour and
// closes the server: Close must return, and the client must get Cloudflare's 502.
func TestCloseEndsSlowOrigins(t *testing.T) {
	srv, err := Start(Config{World: edgeWorld(false, "")})
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan edgeResponse, 1)
	started := make(chan struct{})
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "https://slow.example.com/", nil)
		req.Header.Set(headerClientID, goodClientID)
		req.Header.Set(headerClientSecret, goodSecret)
		close(started)
		resp, err := srv.Client().Do(req)
		if err != nil {
			answered <- edgeResponse{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- edgeResponse{status: resp.StatusCode, body: string(body)}
	}()
	<-started
	waitForLogin(t, srv, 1) // the request has passed Access and waits in the origin
	srv.Close()
	if got := <-answered; got.status != 502 {
		t.Fatalf("slow origin during Close: %d %q, want 502", got.status, got.body)
	}
}

// TestSlowOriginHonoursClientCancel cancels a request waiting in a slow origin; the
// server must not keep the handler, which Close would then wait for.
func TestSlowOriginHonoursClientCancel(t *testing.T) {
	srv, err := Start(Config{World: edgeWorld(false, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://slow.example.com/", nil)
		req.Header.Set(headerClientID, goodClientID)
		req.Header.Set(headerClientSecret, goodSecret)
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitForLogin(t, srv, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled request to a slow origin succeeded")
	}
	srv.inflight.Wait() // returns once the handler has seen the cancellation
	srv.Close()
}

// waitForLogin blocks until the edge has recorded n login events.
func waitForLogin(t *testing.T, srv *Server, n int) {
	t.Helper()
	for srv.events.len() < n {
		select {
		case <-t.Context().Done():
			t.Fatal("test ended before the login was recorded")
		default:
			time.Sleep(time.Millisecond)
		}
	}
}
