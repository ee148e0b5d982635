package emulator

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// curlResponse is what curl saw. Every request goes through the real curl binary, with
// credentials in a header file (-H @file) so that no secret is in its arguments: the same
// pattern cfst documents for people.
type curlResponse struct {
	status int
	header http.Header
	body   string
}

// curl requests url from the emulator with the given header lines, as
// "curl --cacert CA --connect-to ::127.0.0.1:PORT -H @file URL" would.
func curl(t *testing.T, srv *Server, url string, headerLines ...string) curlResponse {
	t.Helper()
	curlPath, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl is required for the edge tests: %v", err)
	}
	dir := t.TempDir()
	bodyFile, headersFile := filepath.Join(dir, "body"), filepath.Join(dir, "headers")
	args := []string{"--silent", "--show-error", "--max-time", "30",
		"--cacert", srv.cfg.CAFile, "--connect-to", "::" + srv.Addr(),
		"--output", bodyFile, "--dump-header", headersFile, "--write-out", "%{http_code}"}
	if len(headerLines) > 0 {
		requestHeaders := filepath.Join(dir, "request-headers")
		content := strings.Join(headerLines, "\n") + "\n"
		if err := os.WriteFile(requestHeaders, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--header", "@"+requestHeaders)
	}
	args = append(args, url)
	var stderr bytes.Buffer
	cmd := exec.Command(curlPath, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %s: %v: %s", url, err, stderr.String())
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("curl printed %q, not a status", out)
	}
	body, _ := os.ReadFile(bodyFile)
	headers, _ := os.ReadFile(headersFile)
	return curlResponse{status: status, header: parseDumpedHeaders(headers), body: string(body)}
}

// parseDumpedHeaders reads curl's --dump-header output for one response.
func parseDumpedHeaders(dump []byte) http.Header {
	header := http.Header{}
	scanner := bufio.NewScanner(bytes.NewReader(dump))
	for scanner.Scan() {
		name, value, found := strings.Cut(scanner.Text(), ":")
		if found && !strings.HasPrefix(name, "HTTP/") {
			header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}
	return header
}

// credentialLines are the header lines a client sends for a token.
func credentialLines(clientID, clientSecret string) []string {
	return []string{"CF-Access-Client-Id: " + clientID, "CF-Access-Client-Secret: " + clientSecret}
}

// singleHeaderLine is the one header a read_service_tokens_from_header application reads.
func singleHeaderLine(header, clientID, clientSecret string) string {
	return header + `: {"cf-access-client-id":"` + clientID +
		`","cf-access-client-secret":"` + clientSecret + `"}`
}
