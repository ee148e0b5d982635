// Command usage is issue 7's benchmark of `cfst usage`: for each size N it starts the
// emulator with N login events spread over the last day (over tokens, applications,
// addresses and countries, 5% of them refused), builds cfst, runs
// `cfst usage --since 24h --output json` against the emulator as a child process, checks
// that the report counts every event, and reports the wall time and cfst's peak memory.
//
// The emulator runs in a second process (this program with -serve), not in this one: on
// Linux a child's peak RSS (getrusage's ru_maxrss) includes its parent's resident memory
// at the moment of exec, because Go starts children with vfork, so an emulator holding a
// million events in the measuring process would be counted as cfst's memory. For the same
// reason cfst runs under bench/peakmem, a small process whose report is cfst's own peak.
//
//	go run ./bench/usage                       # 100k and 1M events
//	go run ./bench/usage -n 100000,1000000,3000000 -repeats 3
//
// Goals: at 1M events under 10 s and under 200 MB, and memory flat as events grow (the
// 1M/100k ratio of peak memory near 1). The exit status is 1 when a goal is missed.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cfst/cfst/emulator"
)

// The goals of issue 7.
const (
	goalWall = 10 * time.Second
	goalRSS  = 200 << 20
	// goalFlat is the largest 1M/100k ratio of peak memory that counts as flat.
	goalFlat = 1.5
)

// benchAPIToken is the emulator's API token; it guards nothing.
const benchAPIToken = "cfst-bench-usage-api-token"

// shape is how the events spread.
type shape struct {
	tokens, apps, addressesPerToken int
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	flags := flag.NewFlagSet("usage", flag.ContinueOnError)
	sizes := flags.String("n", "100000,1000000", "comma-separated numbers of login events")
	repeats := flags.Int("repeats", 3, "runs of cfst at each size; the median time counts")
	s := shape{}
	flags.IntVar(&s.tokens, "tokens", 50, "service tokens")
	flags.IntVar(&s.apps, "apps", 7, "applications")
	flags.IntVar(&s.addressesPerToken, "addresses", 20, "client addresses per token")
	serve := flags.Int("serve", 0, "internal: serve an emulator with this many events")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *serve > 0 {
		return serveEmulator(*serve, s)
	}
	counts, err := parseSizes(*sizes)
	if err != nil || *repeats < 1 {
		fmt.Fprintln(os.Stderr, "usage: -n takes positive numbers, -repeats at least 1:", err)
		return 2
	}
	work, err := os.MkdirTemp("", "cfst-bench-usage-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	bins, err := buildTools(work)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build cfst:", err)
		return 1
	}
	var results []result
	for _, n := range counts {
		r, err := measure(bins, work, n, *repeats, s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "at %d events: %v\n", n, err)
			return 1
		}
		results = append(results, r)
		printResult(r)
	}
	return judge(results)
}

func parseSizes(text string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", field)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// tools are the programs the benchmark builds: cfst, and bench/peakmem to run it.
type tools struct{ cfst, peakmem string }

// buildTools compiles cfst and peakmem from the module this program belongs to.
func buildTools(work string) (tools, error) {
	cmd := exec.Command("go", "build", "-o", work+string(filepath.Separator),
		"github.com/cfst/cfst/cmd/cfst", "github.com/cfst/cfst/bench/peakmem")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintln(os.Stderr, "building cfst and peakmem...")
	return tools{cfst: filepath.Join(work, "cfst"), peakmem: filepath.Join(work, "peakmem")},
		cmd.Run()
}

// result is what one size measured.
type result struct {
	events   int
	wall     time.Duration // median of the runs
	maxRSS   int64         // bytes, the largest of the runs
	requests int64         // API requests of one run
	cfstCPU  time.Duration // user+system time of cfst, median run
	emuCPU   time.Duration // CPU time of this process (the emulator) during that run
	record   time.Duration // time to record the events in the emulator
	tokens   int
	findings int
}

// measure starts an emulator with n events and runs cfst usage repeats times.
func measure(bins tools, work string, n, repeats int, s shape) (result, error) {
	emu, err := startEmulator(n, s)
	if err != nil {
		return result{}, err
	}
	defer emu.stop()
	r := result{events: n, record: emu.info.Record}
	var runs []result
	for range repeats {
		one, err := runOnce(bins, work, emu, n)
		if err != nil {
			return result{}, err
		}
		runs = append(runs, one)
		r.maxRSS = max(r.maxRSS, one.maxRSS)
	}
	slices.SortFunc(runs, func(a, b result) int { return int(a.wall - b.wall) })
	median := runs[len(runs)/2]
	r.wall, r.requests, r.cfstCPU, r.emuCPU = median.wall, median.requests, median.cfstCPU,
		median.emuCPU
	r.tokens, r.findings = median.tokens, median.findings
	return r, nil
}

// benchWorld has s.tokens service tokens and s.apps applications.
func benchWorld(s shape) (*emulator.World, error) {
	var b strings.Builder
	b.WriteString("team: bench\napi_tokens:\n  - {name: bench, value: " + benchAPIToken +
		", permissions: [all]}\nservice_tokens:\n")
	for i := range s.tokens {
		fmt.Fprintf(&b, "  - {name: bench-token-%03d}\n", i)
	}
	b.WriteString("policies:\n  - name: tokens\n    decision: non_identity\n" +
		"    include: [{any_valid_service_token: {}}]\napplications:\n")
	for i := range s.apps {
		fmt.Fprintf(&b, "  - {name: app-%02d, domain: app-%02d.bench.example.com, "+
			"policies: [tokens]}\n", i, i)
	}
	return emulator.ParseWorld("bench.yaml", []byte(b.String()))
}
