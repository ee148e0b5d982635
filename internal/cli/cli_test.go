package cli

// The testscript harness: every script in testdata/script runs `cfst` as a real
// subprocess (this test binary, re-executed) against its own in-process emulator.
//
// Setup starts the default world (emulator.DefaultWorld) and sets, for the script:
//
//	CLOUDFLARE_BASE_URL CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID   the emulator's API
//	SSL_CERT_FILE        $WORK/.emulator/ca.pem, the emulator's CA
//	CFST_CONNECT_TO      ::127.0.0.1:PORT, so every hostname reaches the emulator's edge
//	EMU_ADDR             the emulator's host:port
//	HOME, XDG_CONFIG_HOME   inside $WORK, so recovery files land there
//
// Commands scripts can use besides testscript's own (see scriptCommands for details):
//
//	emu world FILE|NAME       restart the emulator with the world in FILE (YAML) or in
//	                          testdata/worlds/NAME.yaml, such as "lifecycle"
//	emu advance DURATION      move the emulator's clock, and cfst's, forward
//	emu fault METHOD PATH STATUS [retry=SECONDS] [times=N] [latency=D]   an API fault
//	emu clear-faults          remove every fault
//	emu origin APP ORIGIN     change what answers behind an application
//	exits CODE PROGRAM ARGS...   run like exec and assert the exit code: exits 5 cfst ...
//	mode FILE PERM            assert FILE's permission bits, such as 0600
//	dotenv-get [-f FILE] KEY  print KEY's value in .env; with !, assert it is absent
//	no-secret KEY FILE...     assert that the value of KEY in .env is in none of FILEs;
//	                          with !, that it is in all of them
//	edge-status [-f FILE] HOST   print the edge's status for a GET of https://HOST/ with
//	                          the CF_SERVICE_TOKEN_* credentials of .env (or FILE)
//	longname-env              set CFST_LONG_ENV to a .env name too long for its temp file
//
// Commands that other cfst commands need (test, curl, exec...) can be added to
// scriptCommands; their scripts go in testdata/script too.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/dotenv"
)

// envClockOffset carries `emu advance` to the cfst subprocess, whose clock follows the
// emulator's. Only this test binary reads it; cfst itself has no such hook.
const envClockOffset = "CFST_TEST_CLOCK_OFFSET"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"cfst": func() { os.Exit(testCfstMain()) }})
}

// testCfstMain is Main with a clock that follows `emu advance`.
func testCfstMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	offset, _ := time.ParseDuration(os.Getenv(envClockOffset))
	app := &App{Streams: SystemStreams(), Getenv: os.Getenv,
		Now: func() time.Time { return time.Now().Add(offset) }}
	return Run(ctx, app, os.Args[1:])
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               setupScript,
		Cmds:                scriptCommands,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// scriptEmulator is the emulator of one script; `emu world` replaces srv.
type scriptEmulator struct {
	srv    *emulator.Server
	caFile string
	offset time.Duration
}

type emulatorKey struct{}

func setupScript(env *testscript.Env) error {
	emu := &scriptEmulator{caFile: filepath.Join(env.WorkDir, ".emulator", "ca.pem")}
	if err := os.MkdirAll(filepath.Dir(emu.caFile), 0o700); err != nil {
		return err
	}
	if err := emu.start(emulator.DefaultWorld()); err != nil {
		return err
	}
	env.Defer(func() { emu.srv.Close() })
	env.Values[emulatorKey{}] = emu
	home := filepath.Join(env.WorkDir, ".home")
	for key, value := range emu.environment() {
		env.Setenv(key, value)
	}
	env.Setenv("HOME", home)
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	env.Setenv("NO_COLOR", "1")
	return nil
}

func (e *scriptEmulator) start(world *emulator.World) error {
	srv, err := emulator.Start(emulator.Config{World: world, CAFile: e.caFile})
	if err != nil {
		return err
	}
	e.srv = srv
	return nil
}

// environment is what points cfst at the emulator.
func (e *scriptEmulator) environment() map[string]string {
	return map[string]string{
		"CLOUDFLARE_BASE_URL":   e.srv.URL,
		"CLOUDFLARE_API_TOKEN":  e.srv.APIToken(),
		"CLOUDFLARE_ACCOUNT_ID": e.srv.AccountID(),
		"SSL_CERT_FILE":         e.caFile,
		"CFST_CONNECT_TO":       "::" + e.srv.Addr(),
		"EMU_ADDR":              e.srv.Addr(),
	}
}

var scriptCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exits":        cmdExits,
	"emu":          cmdEmu,
	"mode":         cmdMode,
	"dotenv-get":   cmdDotenvGet,
	"no-secret":    cmdNoSecret,
	"longname-env": cmdLongNameEnv,
	"edge-status":  cmdEdgeStatus,
}

func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: emu world|advance|fault|clear-faults|origin ...")
	}
	emu := ts.Value(emulatorKey{}).(*scriptEmulator)
	switch args[0] {
	case "world":
		emuWorld(ts, emu, args[1:])
	case "advance":
		emuAdvance(ts, emu, args[1:])
	case "fault":
		emuFault(ts, emu, args[1:])
	case "clear-faults":
		emu.srv.ClearFaults()
	case "origin":
		if len(args) != 3 {
			ts.Fatalf("usage: emu origin APP ORIGIN")
		}
		ts.Check(emu.srv.SetOrigin(args[1], args[2]))
	default:
		ts.Fatalf("unknown emu command %q", args[0])
	}
}

func emuWorld(ts *testscript.TestScript, emu *scriptEmulator, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: emu world FILE")
	}
	path := ts.MkAbs(args[0])
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("testdata", "worlds", args[0]+".yaml")
	}
	world, err := emulator.LoadWorld(path)
	ts.Check(err)
	emu.srv.Close()
	ts.Check(emu.start(world))
	for key, value := range emu.environment() {
		ts.Setenv(key, value)
	}
}

func emuAdvance(ts *testscript.TestScript, emu *scriptEmulator, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: emu advance DURATION")
	}
	d, err := parseDuration(args[0])
	ts.Check(err)
	ts.Check(emu.srv.AdvanceClock(d))
	emu.offset += d
	ts.Setenv(envClockOffset, emu.offset.String())
}

// emuFault injects an API fault: emu fault METHOD PATH STATUS [retry=S] [times=N]
// [latency=D]. A METHOD of * matches every method; STATUS 0 only adds latency.
func emuFault(ts *testscript.TestScript, emu *scriptEmulator, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: emu fault METHOD PATH STATUS [retry=SECONDS] [times=N] [latency=D]")
	}
	status, err := strconv.Atoi(args[2])
	ts.Check(err)
	fault := emulator.Fault{Method: strings.Trim(args[0], "*"), Path: args[1], Status: status}
	for _, option := range args[3:] {
		key, value, _ := strings.Cut(option, "=")
		var err error
		switch key {
		case "retry":
			fault.RetryAfter, err = strconv.Atoi(value)
		case "times":
			fault.Times, err = strconv.Atoi(value)
		case "latency":
			fault.Latency, err = time.ParseDuration(value)
		default:
			ts.Fatalf("unknown fault option %q", option)
		}
		ts.Check(err)
	}
	ts.Check(emu.srv.InjectFault(fault))
}

// cmdMode asserts a file's permission bits: mode FILE 0600.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := uint64(info.Mode().Perm())
	switch {
	case neg && got == want:
		ts.Fatalf("%s has mode %04o", args[0], got)
	case !neg && got != want:
		ts.Fatalf("%s has mode %04o; want %04o", args[0], got, want)
	}
}

// cmdDotenvGet prints the value of KEY in .env (or -f FILE) with a newline. With !, it
// asserts that KEY is absent.
func cmdDotenvGet(ts *testscript.TestScript, neg bool, args []string) {
	path := ".env"
	if len(args) == 3 && args[0] == "-f" {
		path, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: dotenv-get [-f FILE] KEY")
	}
	file, err := dotenv.Load(ts.MkAbs(path))
	ts.Check(err)
	value, ok := file.Get(args[0])
	switch {
	case neg && ok:
		ts.Fatalf("%s is set in %s", args[0], path)
	case !neg && !ok:
		ts.Fatalf("%s is not set in %s", args[0], path)
	case !neg:
		fmt.Fprintln(ts.Stdout(), value)
	}
}

// cmdNoSecret asserts that the value of KEY in .env appears in none of the files; copy
// stdout and stderr to files first (cp stdout out.txt). With !, it asserts that the value
// appears in every file.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: no-secret KEY FILE...")
	}
	file, err := dotenv.Load(ts.MkAbs(".env"))
	ts.Check(err)
	value, ok := file.Get(args[0])
	if !ok || len(value) < 8 {
		ts.Fatalf("%s holds no secret in .env", args[0])
	}
	for _, name := range args[1:] {
		found := strings.Contains(ts.ReadFile(name), value)
		switch {
		case found && !neg:
			ts.Fatalf("the secret in %s appears in %s", args[0], name)
		case !found && neg:
			ts.Fatalf("the secret in %s does not appear in %s", args[0], name)
		}
	}
}

// cmdLongNameEnv sets CFST_LONG_ENV to a file name of 250 bytes: a valid name, but too
// long for the temporary file (".NAME.cfst-123.tmp") an atomic write creates next to it,
// so the write fails with ENAMETOOLONG after every check passed, even for root.
func cmdLongNameEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: longname-env")
	}
	ts.Setenv("CFST_LONG_ENV", strings.Repeat("e", 250))
}

// cmdExits runs a program as exec does, keeping its stdout and stderr for the commands
// that follow, and asserts its exit code.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			ts.Fatalf("run %s: %v", args[1], err)
		}
		got = exitErr.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdEdgeStatus prints the status the emulator's edge answers a GET of https://HOST/ with
// the default credentials of .env (or -f FILE), following no redirect.
func cmdEdgeStatus(ts *testscript.TestScript, neg bool, args []string) {
	path := ".env"
	if len(args) == 3 && args[0] == "-f" {
		path, args = args[1], args[2:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: edge-status [-f FILE] HOST")
	}
	file, err := dotenv.Load(ts.MkAbs(path))
	ts.Check(err)
	creds, err := file.Credentials(dotenv.DefaultKeys)
	ts.Check(err)
	req, err := http.NewRequest(http.MethodGet, "https://"+args[0]+"/", nil)
	ts.Check(err)
	req.Header.Set("CF-Access-Client-Id", creds.ClientID)
	req.Header.Set("CF-Access-Client-Secret", creds.ClientSecret.Reveal())
	emu := ts.Value(emulatorKey{}).(*scriptEmulator)
	resp, err := emu.srv.Client().Do(req)
	ts.Check(err)
	resp.Body.Close()
	fmt.Fprintln(ts.Stdout(), resp.StatusCode)
}
