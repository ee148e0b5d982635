package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecOptions(t *testing.T) {
	var got *execOptions
	record := func(_ context.Context, _ *App, opts *execOptions) error { got = opts; return nil }

	err := parse(t, execCommand(testApp(), record), "--as", "cloudflared", "--", "tool", "-x",
		"--as", "y")
	if err != nil {
		t.Fatal(err)
	}
	if got.As != asCloudflared || !slices.Equal(got.Command, []string{"tool", "-x", "--as", "y"}) {
		t.Errorf("got %+v", *got)
	}
	got = nil
	if err := parse(t, execCommand(testApp(), record), "tool", "--flag"); err != nil ||
		!slices.Equal(got.Command, []string{"tool", "--flag"}) || got.As != asDefault {
		t.Errorf("without --: %v %+v", err, got)
	}
	got = nil
	if err := parse(t, execCommand(testApp(), record)); err == nil || got != nil {
		t.Errorf("no command: %v", err)
	}
}

func TestTokenEnvironment(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	tests := []struct {
		as, script, want string
	}{
		{asDefault,
			`printf '%s %s' "$CF_SERVICE_TOKEN_CLIENT_ID" "$CF_SERVICE_TOKEN_CLIENT_SECRET"`,
			testClientID + " " + testCanary},
		{asCloudflared, `printf '%s %s' "$TUNNEL_SERVICE_TOKEN_ID" "$TUNNEL_SERVICE_TOKEN_SECRET"`,
			testClientID + " " + testCanary},
		{asHeader, `printf '%s' "$CF_ACCESS_HEADERS"`, "CF-Access-Client-Id: " + testClientID +
			"\nCF-Access-Client-Secret: " + testCanary + "\n"},
	}
	for _, tt := range tests {
		run := f.run("exec", "--as", tt.as, "--", "sh", "-c", tt.script)
		if run.code != 0 || run.stdout != tt.want || run.stderr != "" {
			t.Errorf("--as %s: exit %d, stdout %q, stderr %q", tt.as, run.code, run.stdout,
				run.stderr)
		}
	}
}

// TestExecPassesStreamsAndExitCode: stdin reaches the command, its stdout and stderr
// come back, and its exit code (or 128+signal) is cfst's, without a word from cfst.
func TestExecPassesStreamsAndExitCode(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	app, stdout, stderr := f.newApp("piped in\n")
	code := Run(context.Background(), app, []string{"--env-file", f.envFile, "exec", "--",
		"sh", "-c", "read line; echo \"out: $line\"; echo err >&2; exit 7"})
	if code != 7 || stdout.String() != "out: piped in\n" || stderr.String() != "err\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	tests := []struct {
		command []string
		code    int
		stderr  string
	}{
		{[]string{"true"}, 0, ""},
		{[]string{"sh", "-c", "kill -TERM $$"}, 128 + int(syscall.SIGTERM), ""},
		{[]string{"no-such-command-cfst"}, exitNotFound,
			`cfst: command "no-such-command-cfst" not found`},
		{[]string{f.envFile}, exitCannotRun, "cfst: cannot run"},
	}
	for _, tt := range tests {
		run := f.run(append([]string{"exec", "--"}, tt.command...)...)
		if run.code != tt.code || !strings.HasPrefix(run.stderr, tt.stderr) ||
			tt.stderr == "" && run.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", tt.command, run.code, run.stderr)
		}
	}
	f.writeEnv("")
	if run := f.run("exec", "--", "true"); run.code != ExitUsage ||
		!strings.Contains(run.stderr, "no service token") {
		t.Errorf("without credentials: exit %d, stderr %q", run.code, run.stderr)
	}
}

// cfstProcess is cfst (this test binary, which testscript put on $PATH) running as a
// real process in its own session, so that no terminal sends it signals.
type cfstProcess struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	done   chan error
}

func startCfst(t *testing.T, f *emuFixture, args ...string) *cfstProcess {
	t.Helper()
	cmd := exec.Command("cfst", append([]string{"--env-file", f.envFile}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + f.dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cfst: %v (testscript puts it on $PATH)", err)
	}
	p := &cfstProcess{cmd: cmd, stdout: bufio.NewReader(pipe), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// readLine returns the next stdout line, failing after a while.
func (p *cfstProcess) readLine(t *testing.T) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		line, _ := p.stdout.ReadString('\n')
		lines <- strings.TrimSuffix(line, "\n")
	}()
	select {
	case line := <-lines:
		return line
	case <-time.After(30 * time.Second):
		t.Fatal("no line from cfst in 30s")
		return ""
	}
}

// exitCode waits for cfst to end and returns its exit code.
func (p *cfstProcess) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		p.done <- nil // for the cleanup
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatal("cfst did not exit in 30s")
		return -1
	}
}

// TestExecSecretNotInArgv reads /proc/PID/cmdline of cfst and of its child: the secret
// is in neither, and it is in the child's environment.
func TestExecSecretNotInArgv(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	p := startCfst(t, f, "exec", "--", "sh", "-c", `echo "$$"; exec sleep 60`)
	childPID, err := strconv.Atoi(p.readLine(t))
	if err != nil {
		t.Fatal(err)
	}
	waitForComm(t, childPID, "sleep")
	if ppid := parentPID(t, childPID); ppid != p.cmd.Process.Pid {
		t.Fatalf("process %d is a child of %d, not of cfst (%d)", childPID, ppid,
			p.cmd.Process.Pid)
	}
	for _, pid := range []int{p.cmd.Process.Pid, childPID} {
		argv := readProc(t, pid, "cmdline")
		assertNoCanary(t, fmt.Sprintf("/proc/%d/cmdline", pid), argv)
		if !strings.Contains(argv, "sleep") && !strings.Contains(argv, "exec") {
			t.Errorf("unexpected argv of %d: %q", pid, argv)
		}
	}
	environ := strings.Split(readProc(t, childPID, "environ"), "\x00")
	if !slices.Contains(environ, "CF_SERVICE_TOKEN_CLIENT_SECRET="+testCanary) {
		t.Errorf("the child's environment lacks the secret")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code %d after SIGTERM, want %d: the signal was not passed on", code,
			128+int(syscall.SIGTERM))
	}
}

func readProc(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), name))
	if err != nil {
		t.Fatalf("read /proc/%d/%s: %v", pid, name, err)
	}
	return string(data)
}

// parentPID reads the parent's pid from /proc/PID/stat, whose second field, the
// command name in parentheses, may hold spaces.
func parentPID(t *testing.T, pid int) int {
	t.Helper()
	stat := readProc(t, pid, "stat")
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	return ppid
}

// waitForComm waits until pid runs the program named comm (after sh's exec).
func waitForComm(t *testing.T, pid int, comm string) {
	t.Helper()
	for range 300 {
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil &&
			strings.TrimSpace(string(data)) == comm {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never ran %s", pid, comm)
}

// TestExecForwardsSignals sends each signal to cfst and checks that the command got it:
// its trap prints the signal's name and exits with a code that cfst passes on.
func TestExecForwardsSignals(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP,
		syscall.SIGUSR1} {
		name := strings.TrimPrefix(sigName(sig), "SIG")
		script := fmt.Sprintf(`trap 'echo got %s; exit %d' %s; echo ready; `+
			`while :; do sleep 0.05; done`, name, 20+i, name)
		p := startCfst(t, f, "exec", "--", "sh", "-c", script)
		if line := p.readLine(t); line != "ready" {
			t.Fatalf("%s: first line %q", name, line)
		}
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if line := p.readLine(t); line != "got "+name {
			t.Errorf("%s: the command printed %q", name, line)
		}
		if code := p.exitCode(t); code != 20+i {
			t.Errorf("%s: exit code %d, want %d", name, code, 20+i)
		}
	}
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	}
	return sig.String()
}

// TestExecNothingOnOwnOutput: cfst exec adds nothing to the command's output.
func TestExecNothingOnOwnOutput(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	p := startCfst(t, f, "exec", "--", "sh", "-c", "echo only; exit 3")
	rest, _ := io.ReadAll(p.stdout)
	if string(rest) != "only\n" || p.exitCode(t) != 3 {
		t.Errorf("stdout %q", rest)
	}
}

// TestExecErrorsHoldNoSecret: cfst's own words on stderr, when the command cannot start
// or the flags are wrong, quiet or with --verbose, in every --as form, never hold the
// secret that the command's environment would have.
func TestExecErrorsHoldNoSecret(t *testing.T) {
	f := newEmuFixture(t, "service_tokens:"+worldToken)
	tests := []struct {
		command []string
		code    int
		stderr  string
	}{
		{[]string{"no-such-command-cfst"}, exitNotFound,
			`cfst: command "no-such-command-cfst" not found`},
		{[]string{filepath.Join(f.dir, "missing", "tool")}, exitNotFound, "cfst: command "},
		{[]string{f.envFile}, exitCannotRun, "cfst: cannot run"},
		{[]string{f.dir}, exitCannotRun, "cfst: cannot run"},
		{[]string{"true"}, 0, ""},
	}
	for _, verbose := range []bool{false, true} {
		for _, as := range []string{asDefault, asCloudflared, asHeader} {
			for _, tt := range tests {
				args := append([]string{"exec", "--as", as, "--"}, tt.command...)
				if verbose {
					args = append([]string{"--verbose"}, args...)
				}
				run := f.run(args...)
				if run.code != tt.code || !strings.HasPrefix(run.stderr, tt.stderr) ||
					tt.stderr == "" && !verbose && run.stderr != "" {
					t.Errorf("%q: exit %d, stderr %q", args, run.code, run.stderr)
				}
				assertNoCanary(t, fmt.Sprintf("%q", args), run.stdout, run.stderr)
			}
		}
	}
	run := f.run("--verbose", "exec", "--as", "nonsense", "--", "true")
	if run.code != ExitUsage || !strings.Contains(run.stderr, `unknown --as form "nonsense"`) {
		t.Errorf("--as nonsense: exit %d, stderr %q", run.code, run.stderr)
	}
	assertNoCanary(t, "--as nonsense", run.stdout, run.stderr)
}
