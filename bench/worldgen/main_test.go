package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cfst/cfst/emulator"
)

// TestGeneratedWorldServes checks that the emulator accepts a generated world, serves every
// hostname it lists, and puts each behind Access.
func TestGeneratedWorldServes(t *testing.T) {
	hostsFile := filepath.Join(t.TempDir(), "hosts.txt")
	var out bytes.Buffer
	if err := run([]string{"-n", "12", "-per-app", "5", "-origin", "status:204", "-hosts", hostsFile},
		&out); err != nil {
		t.Fatal(err)
	}
	world, err := emulator.ParseWorld("generated.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("the emulator refuses the generated world: %v", err)
	}
	srv, err := emulator.Start(emulator.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	data, err := os.ReadFile(hostsFile)
	if err != nil {
		t.Fatal(err)
	}
	hosts := strings.Fields(string(data))
	if len(hosts) != 12 || hosts[0] != "svc-01.bench.example.com" {
		t.Fatalf("hosts file lists %d hosts starting %q, want 12 from svc-01", len(hosts),
			hosts[0])
	}
	served := srv.Hostnames()
	slices.Sort(served)
	if !slices.Equal(served, hosts) {
		t.Errorf("emulator serves %q, hosts file lists %q", served, hosts)
	}
	checkAnonymousRefused(t, srv.Client(), hosts)
}

// checkAnonymousRefused proves each host is behind Access: without a token the edge answers
// with its Forbidden page (the only policy is Service Auth, so there is no login to
// redirect to) and the application's CF-Access-Aud, never with the origin's 204.
func checkAnonymousRefused(t *testing.T, client *http.Client, hosts []string) {
	t.Helper()
	for _, host := range hosts {
		resp, err := client.Get("https://" + host + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Cf-Access-Aud") == "" {
			t.Errorf("%s without a token: status %d, CF-Access-Aud %q; want 403 from Access",
				host, resp.StatusCode, resp.Header.Get("Cf-Access-Aud"))
		}
	}
}

func TestRunRefusesBadCount(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"-n", "0"}, {"-per-app", "0"}} {
		if err := run(args, &out); err == nil || out.Len() != 0 {
			t.Errorf("%q: err %v, %d bytes of output; want an error and nothing", args, err,
				out.Len())
		}
	}
}
