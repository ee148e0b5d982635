package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// recordBatch is how many events are recorded at once, so the generator never holds
// more than that many.
const recordBatch = 10000

// countries are spread over the addresses.
var countries = []string{"US", "DE", "FR", "GB", "NL", "JP", "BR", "IN"}

// recordEvents records n events over the day before now, in time order: event i is
// token i%tokens, from one of that token's addresses, to one of three applications.
func recordEvents(srv *emulator.Server, n int, s shape) error {
	tokenIDs, appIDs, err := worldIDs(srv)
	if err != nil {
		return err
	}
	now := srv.Clock().Now()
	start := now.Add(-24 * time.Hour).Add(time.Minute)
	step := (24*time.Hour - 2*time.Minute) / time.Duration(n)
	batch := make([]emulator.LoginEvent, 0, recordBatch)
	for i := range n {
		token := i % len(tokenIDs)
		address := (i / len(tokenIDs)) % s.addressesPerToken
		app := (token + i%3) % len(appIDs)
		ip := netip.AddrFrom4([4]byte{10, byte(token >> 8), byte(token), byte(address + 1)})
		ev := emulator.LoginEvent{Time: start.Add(time.Duration(i) * step),
			RayID: fmt.Sprintf("%016x", i+1), TokenID: tokenIDs[token], AppID: appIDs[app],
			IP: ip, Country: countries[(token+address)%len(countries)], Allowed: i%20 != 0,
			Outcome: "admitted"}
		if !ev.Allowed {
			ev.Outcome, ev.Status = "forbidden", 403
		}
		batch = append(batch, ev)
		if len(batch) == recordBatch {
			srv.RecordLoginEvents(batch...)
			batch = batch[:0]
		}
	}
	srv.RecordLoginEvents(batch...)
	return nil
}

// worldIDs reads the ids of the world's tokens and applications through the API.
func worldIDs(srv *emulator.Server) (tokens, apps []string, err error) {
	client, err := cloudflare.New(cloudflare.Config{APIToken: secret.New(srv.APIToken()),
		AccountID: srv.AccountID(), BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	listed, err := client.ListTokens(ctx, cloudflare.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	for _, tok := range listed {
		tokens = append(tokens, tok.ID)
	}
	applications, err := client.ListApplications(ctx)
	for _, app := range applications {
		apps = append(apps, app.ID)
	}
	return tokens, apps, err
}

// report is the part of cfst's JSON report the benchmark checks.
type report struct {
	Tokens []struct {
		Admitted int64 `json:"admitted"`
		Refused  int64 `json:"refused"`
	} `json:"tokens"`
	Findings []json.RawMessage `json:"findings"`
}

// runOnce runs cfst usage as a child process and checks that it counted n logins.
func runOnce(bins tools, work string, emu *emulatorProcess, n int) (result, error) {
	peakFile := filepath.Join(work, "peakmem.txt")
	cmd := exec.Command(bins.peakmem, "-o", peakFile, "--", bins.cfst, "--env-file",
		filepath.Join(work, "no.env"), "--timeout", "5m", "usage", "--since", "24h",
		"--output", "json")
	cmd.Env = []string{
		"CLOUDFLARE_BASE_URL=" + emu.info.URL, "CLOUDFLARE_API_TOKEN=" + emu.info.APIToken,
		"CLOUDFLARE_ACCOUNT_ID=" + emu.info.AccountID, "SSL_CERT_FILE=" + emu.info.CAFile,
		"HOME=" + work, "PATH=" + os.Getenv("PATH"),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	before, err := emu.stats()
	if err != nil {
		return result{}, err
	}
	started := time.Now()
	runErr := cmd.Run()
	r := result{wall: time.Since(started)}
	after, err := emu.stats()
	if err != nil {
		return result{}, err
	}
	r.requests, r.emuCPU = after.Requests-before.Requests, after.CPU-before.CPU
	if runErr != nil {
		return r, fmt.Errorf("cfst usage: %v\n%s", runErr, stderr.String())
	}
	// peakmem's own time includes cfst's, which it waited for.
	r.cfstCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err := readPeakmem(&r, peakFile); err != nil {
		return r, err
	}
	return r, checkReport(&r, stdout.Bytes(), n)
}

// readPeakmem reads cfst's wall time and peak RSS from peakmem's report,
// "wall_ms=1234 maxrss_kb=5678 exit=0".
func readPeakmem(r *result, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var wallMS, rssKB int64
	var code int
	if _, err := fmt.Sscanf(string(data), "wall_ms=%d maxrss_kb=%d exit=%d", &wallMS, &rssKB,
		&code); err != nil {
		return fmt.Errorf("read peakmem's report %q: %w", data, err)
	}
	r.wall, r.maxRSS = time.Duration(wallMS)*time.Millisecond, rssKB*1024
	return nil
}

// checkReport reads cfst's JSON report into r and checks that it counted n logins.
func checkReport(r *result, data []byte, n int) error {
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("cfst usage printed no JSON report: %v", err)
	}
	total := int64(0)
	for _, tok := range rep.Tokens {
		total += tok.Admitted + tok.Refused
	}
	if total != int64(n) {
		return fmt.Errorf("cfst usage counted %d logins of %d", total, n)
	}
	r.tokens, r.findings = len(rep.Tokens), len(rep.Findings)
	return nil
}

func printResult(r result) {
	fmt.Printf("events=%d wall=%s peak_rss=%.1fMB api_requests=%d cfst_cpu=%s "+
		"emulator_cpu=%s tokens=%d findings=%d (recording took %s)\n", r.events,
		r.wall.Round(time.Millisecond), float64(r.maxRSS)/(1<<20), r.requests,
		r.cfstCPU.Round(time.Millisecond), r.emuCPU.Round(time.Millisecond), r.tokens,
		r.findings, r.record.Round(time.Millisecond))
}

// judge prints the ratios of the largest size to the smallest and checks the goals at
// the largest size; it returns 1 when a goal is missed.
func judge(results []result) int {
	small, large := results[0], results[len(results)-1]
	code := 0
	check := func(ok bool, goal string) {
		verdict := "met"
		if !ok {
			verdict, code = "MISSED", 1
		}
		fmt.Printf("goal %s: %s\n", goal, verdict)
	}
	if len(results) > 1 {
		flat := float64(large.maxRSS) / float64(small.maxRSS)
		fmt.Printf("ratio %d/%d events: wall %.2fx, peak_rss %.2fx\n", large.events,
			small.events, float64(large.wall)/float64(small.wall), flat)
		check(flat <= goalFlat, fmt.Sprintf("memory flat (peak_rss ratio <= %.1f)", goalFlat))
	}
	check(large.wall < goalWall, fmt.Sprintf("under %s at %d events", goalWall, large.events))
	check(large.maxRSS < goalRSS, fmt.Sprintf("under %d MB at %d events", goalRSS>>20,
		large.events))
	return code
}
