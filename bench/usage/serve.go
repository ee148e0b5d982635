package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/cfst/cfst/emulator"
)

// serverInfo is the first line the -serve process prints: where its emulator is.
type serverInfo struct {
	URL, APIToken, AccountID, CAFile string
	// Record is how long recording the events took.
	Record time.Duration
}

// serverStats is the answer to "stats": the emulator's API requests and CPU time so far.
type serverStats struct {
	Requests int64
	CPU      time.Duration
}

// serveEmulator is the -serve process: it starts an emulator with n events, prints a
// serverInfo line, answers each "stats" line on stdin with a serverStats line, and stops
// when stdin closes.
func serveEmulator(n int, s shape) int {
	dir, err := os.MkdirTemp("", "cfst-bench-emulator-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	world, err := benchWorld(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	caFile := filepath.Join(dir, "ca.pem")
	srv, err := emulator.Start(emulator.Config{World: world, CAFile: caFile})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	started := time.Now()
	if err := recordEvents(srv, n, s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	runtime.GC()
	out := json.NewEncoder(os.Stdout)
	err = out.Encode(serverInfo{URL: srv.URL, APIToken: srv.APIToken(),
		AccountID: srv.AccountID(), CAFile: caFile, Record: time.Since(started)})
	lines := bufio.NewScanner(os.Stdin)
	for err == nil && lines.Scan() {
		if strings.TrimSpace(lines.Text()) == "stats" {
			err = out.Encode(serverStats{Requests: srv.APIRequestCount(), CPU: processCPU()})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator process:", err)
		return 1
	}
	return 0
}

// emulatorProcess is a running -serve process.
type emulatorProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *json.Decoder
	info  serverInfo
}

// startEmulator runs this program with -serve and reads where its emulator listens.
func startEmulator(n int, s shape) (*emulatorProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", fmt.Sprint(n), "-tokens", fmt.Sprint(s.tokens),
		"-apps", fmt.Sprint(s.apps), "-addresses", fmt.Sprint(s.addressesPerToken))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	emu := &emulatorProcess{cmd: cmd, stdin: stdin, out: json.NewDecoder(stdout)}
	if err := emu.out.Decode(&emu.info); err != nil {
		emu.stop()
		return nil, fmt.Errorf("the emulator process did not start: %w", err)
	}
	return emu, nil
}

func (e *emulatorProcess) stats() (serverStats, error) {
	var stats serverStats
	if _, err := io.WriteString(e.stdin, "stats\n"); err != nil {
		return stats, err
	}
	return stats, e.out.Decode(&stats)
}

func (e *emulatorProcess) stop() {
	e.stdin.Close()
	if err := e.cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "the emulator process:", err)
	}
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
