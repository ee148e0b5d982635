package cli

// Flag parsing, tested apart from behaviour: each command is built around a run function
// that only records the options it was given.

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// parse runs cmd with args, without output, and reports whether run was reached.
func parse(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(context.Background())
}

func testApp() *App { return &App{Streams: &Streams{}, Now: time.Now} }

func TestCreateOptions(t *testing.T) {
	var got *createOptions
	record := func(_ context.Context, _ *App, opts *createOptions) error { got = opts; return nil }

	err := parse(t, createCommand(testApp(), record), "ci", "--duration", "6mo", "--show-secret",
		"--force", "--gitignore", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	want := createOptions{Name: "ci", Duration: "6mo", Lifetime: tokenLifetime{Length: 4380 * time.Hour},
		ShowSecret: true, Force: true, Output: formatJSON, Git: gitOptions{AddToGitignore: true}}
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}

	got = nil
	if err := parse(t, createCommand(testApp(), record), "ci"); err != nil {
		t.Fatal(err)
	}
	if got.Lifetime != defaultLifetime || got.Output != formatText || got.Force {
		t.Errorf("defaults: %+v", *got)
	}

	for _, args := range [][]string{
		{},
		{"a", "b"},
		{"ci", "--duration", "1x"},
		{"ci", "--duration", "forever!"},
		{"ci", "--output", "yaml"},
		{"ci", "--gitignore", "--allow-unignored"},
		{""},
	} {
		got = nil
		if err := parse(t, createCommand(testApp(), record), args...); err == nil || got != nil {
			t.Errorf("create %q: err %v, run reached: %v", args, err, got != nil)
		}
	}
}

func TestListOptions(t *testing.T) {
	var got *listOptions
	record := func(_ context.Context, _ *App, opts *listOptions) error { got = opts; return nil }
	if err := parse(t, listCommand(testApp(), record), "--expiring-within", "2w"); err != nil {
		t.Fatal(err)
	}
	if got.Within != 14*day || got.Output != formatText {
		t.Errorf("got %+v", *got)
	}
	for _, args := range [][]string{{"x"}, {"--expiring-within", "soon"}, {"-o", "csv"}} {
		got = nil
		if err := parse(t, listCommand(testApp(), record), args...); err == nil || got != nil {
			t.Errorf("list %q: err %v, run reached: %v", args, err, got != nil)
		}
	}
}

func TestRotateOptions(t *testing.T) {
	var got *rotateOptions
	record := func(_ context.Context, _ *App, opts *rotateOptions) error { got = opts; return nil }
	err := parse(t, rotateCommand(testApp(), record), "ci", "--grace", "1w",
		"--verify", "a.example.com", "--verify", "https://b.example.com/x", "--cacert", "ca.pem",
		"--connect-to", "::127.0.0.1:8443", "--allow-unignored")
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "ci" || got.GraceFor != 7*day || len(got.Verify) != 2 ||
		got.Conn.CAFile != "ca.pem" || len(got.Conn.ConnectTo) != 1 || !got.Git.AllowUnignored {
		t.Errorf("got %+v", *got)
	}

	if err := parse(t, rotateCommand(testApp(), record), "ci"); err != nil {
		t.Fatal(err)
	}
	if got.GraceFor != defaultGrace || got.Finish {
		t.Errorf("defaults: %+v", *got)
	}
	if err := parse(t, rotateCommand(testApp(), record), "ci", "--grace", "0"); err != nil ||
		got.GraceFor != 0 {
		t.Errorf("--grace 0: %v, %+v", err, got)
	}
	if err := parse(t, rotateCommand(testApp(), record), "ci", "--finish"); err != nil ||
		!got.Finish {
		t.Errorf("--finish: %v, %+v", err, got)
	}

	for _, args := range [][]string{
		{},
		{"ci", "--grace", "-1h"},
		{"ci", "--finish", "--grace", "1h"},
		{"ci", "--finish", "--verify", "a.example.com"},
		{"ci", "--grace", "0", "--verify", "a.example.com"},
		{"ci", "--verify", "http://a.example.com"},
		{"ci", "--verify", "ftp://a.example.com"},
		{"ci", "--connect-to", "nonsense"},
	} {
		got = nil
		if err := parse(t, rotateCommand(testApp(), record), args...); err == nil || got != nil {
			t.Errorf("rotate %q: err %v, run reached: %v", args, err, got != nil)
		}
	}
}

func TestTokenCommandOptions(t *testing.T) {
	app := testApp()
	var token, output string
	var yes, enabled bool
	commands := map[string]func() *cobra.Command{
		"show": func() *cobra.Command {
			return showCommand(app, func(_ context.Context, _ *App, o *showOptions) error {
				token, output = o.Token, o.Output
				return nil
			})
		},
		"refresh": func() *cobra.Command {
			return refreshCommand(app, func(_ context.Context, _ *App, o *refreshOptions) error {
				token, output = o.Token, o.Output
				return nil
			})
		},
		"enable": func() *cobra.Command {
			return switchCommand(app, true,
				func(_ context.Context, _ *App, o *switchOptions, enable bool) error {
					token, output, enabled = o.Token, o.Output, enable
					return nil
				})
		},
	}
	for name, build := range commands {
		token, output = "", ""
		if err := parse(t, build(), "tok", "-o", "json"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if token != "tok" || output != formatJSON {
			t.Errorf("%s: token %q output %q", name, token, output)
		}
		if err := parse(t, build()); err == nil {
			t.Errorf("%s without TOKEN: no error", name)
		}
		if err := parse(t, build(), "a", "b"); err == nil {
			t.Errorf("%s with two TOKENs: no error", name)
		}
	}
	if !enabled {
		t.Error("enable passed enable=false")
	}

	del := deleteCommand(app, func(_ context.Context, _ *App, o *deleteOptions) error {
		token, yes = o.Token, o.Yes
		return nil
	})
	if err := parse(t, del, "tok", "-y"); err != nil || token != "tok" || !yes {
		t.Errorf("delete -y: %v %q %v", err, token, yes)
	}
	if !slices.Contains(del.Aliases, "revoke") {
		t.Error("delete has no revoke alias")
	}
}
