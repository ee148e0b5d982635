// Command peakmem runs a command and reports its wall time and peak memory (the maximum
// resident set size the kernel recorded for it), for the benchmarks in bench/. It is a
// portable stand-in for GNU time's -v.
//
//	go run ./bench/peakmem -o result.txt -- cfst test --services hosts.txt
//
// The command's stdin, stdout and stderr pass through. The report is one line,
// "wall_ms=1234 maxrss_kb=5678 exit=0", written to -o FILE or to stderr; peakmem exits
// with the command's exit code.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	flags := flag.NewFlagSet("peakmem", flag.ContinueOnError)
	outFile := flags.String("o", "", "write the report to `FILE` instead of stderr")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "peakmem: name a command: peakmem [-o FILE] -- COMMAND [ARG...]")
		return 2
	}
	cmd := exec.Command(flags.Arg(0), flags.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	started := time.Now()
	err := cmd.Run()
	wall := time.Since(started)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "peakmem:", err)
		return 127
	}
	code := cmd.ProcessState.ExitCode()
	if err := report(*outFile, wall, maxRSSKiB(cmd.ProcessState), code); err != nil {
		fmt.Fprintln(os.Stderr, "peakmem:", err)
		return 2
	}
	return code
}

// maxRSSKiB returns the peak resident set size in KiB: Linux reports KiB, macOS bytes.
func maxRSSKiB(state *os.ProcessState) int64 {
	usage, ok := state.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(usage.Maxrss) / 1024
	}
	return int64(usage.Maxrss)
}

func report(path string, wall time.Duration, maxRSS int64, code int) error {
	line := fmt.Sprintf("wall_ms=%d maxrss_kb=%d exit=%d\n", wall.Milliseconds(), maxRSS, code)
	if path == "" {
		_, err := io.WriteString(os.Stderr, line)
		return err
	}
	return os.WriteFile(path, []byte(line), 0o644)
}
