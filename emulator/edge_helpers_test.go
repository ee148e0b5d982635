package emulator

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// startEmulator starts an emulator for world, writes its CA where curl can read it, and
// closes it when the test ends.
func startEmulator(t testing.TB, world *World) *Server {
	t.Helper()
	srv, err := Start(Config{World: world, CAFile: filepath.Join(t.TempDir(), "ca.pem")})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// edgeResponse is what a test keeps of an answer.
type edgeResponse struct {
	status int
	header http.Header
	body   string
}

// get sends a request through srv.Client, which follows no redirects.
func get(t testing.TB, srv *Server, url string, header http.Header) edgeResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return edgeResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// hasRay reports whether a cf-ray header has Cloudflare's shape: 16 hex digits and a colo.
func hasRay(header http.Header) bool {
	ray, colo, found := strings.Cut(header.Get("Cf-Ray"), "-")
	_, ok := parseRay(ray)
	return found && ok && len(colo) == 3
}
