package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
)

type demoOptions struct {
	keep bool
}

func newDemoCmd(app *App) *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Tour cfst on the built-in emulator, offline",
		Long: `Start the built-in emulator with its default world (seven services under
example.com, as in the operator's how-to) in a temporary directory, and run cfst's
commands against it one step at a time. Nothing touches your Cloudflare account, your
environment or your files.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.keep, "keep", false, "keep the temporary directory and print it")
	return cmd
}

// demoTour is one run of the demo: the emulator, the directory it works in, and an App
// whose environment points at the emulator and at nothing of the user's.
type demoTour struct {
	out  io.Writer
	srv  *emulator.Server
	dir  string
	env  map[string]string
	step int
	app  *App
}

func runDemo(ctx context.Context, app *App, opts *demoOptions) error {
	dir, err := os.MkdirTemp("", "cfst-demo-")
	if err != nil {
		return fmt.Errorf("create the demo directory: %w", err)
	}
	if opts.keep {
		fmt.Fprintf(app.Streams.Err, "demo directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	caFile := filepath.Join(dir, "emulator-ca.pem")
	srv, err := emulator.Start(emulator.Config{World: emulator.DefaultWorld(), CAFile: caFile})
	if err != nil {
		return err
	}
	defer srv.Close()

	tour := newDemoTour(app, srv, dir, caFile)
	for _, step := range tour.steps() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(tour.out, "\nThat was cfst. Point it at your own account with "+
		"CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID;\nsee 'cfst help environment'.")
	return nil
}

func newDemoTour(app *App, srv *emulator.Server, dir, caFile string) *demoTour {
	env := map[string]string{
		cloudflare.EnvBaseURL:   srv.URL,
		cloudflare.EnvAPIToken:  srv.APIToken(),
		cloudflare.EnvAccountID: srv.AccountID(),
		envCertFile:             caFile,
		"CFST_CONNECT_TO":       "::" + srv.Addr(),
		"HOME":                  dir,
		"XDG_CONFIG_HOME":       filepath.Join(dir, "config"),
	}
	child := &App{
		// Output is shown as on a terminal (tables, relative times); nothing can prompt.
		Streams: &Streams{In: strings.NewReader(""), Out: app.Streams.Out, Err: app.Streams.Out,
			OutTTY: true},
		Getenv:  func(key string) string { return env[key] },
		Now:     srv.Clock().Now,
		EnvFile: filepath.Join(dir, ".env"),
		Timeout: app.Timeout,
	}
	return &demoTour{out: app.Streams.Out, srv: srv, dir: dir, env: env, app: child}
}

// steps lists the tour, one capability a step.
func (t *demoTour) steps() []func(context.Context) error {
	return []func(context.Context) error{
		t.showWorld,
		t.showLifecycle,
		t.showTest,
		t.showPolicyInsight,
		t.showHandoff,
		t.showUsage,
		t.showMonitor,
		t.showRevoke,
	}
}

func (t *demoTour) heading(title, text string) {
	t.step++
	fmt.Fprintf(t.out, "\n== %d. %s\n%s\n", t.step, title, text)
}

// run shows a cfst command line and runs it in-process against the emulator. A failing
// command is part of the tour (the demo shows failures on purpose), so only its exit code
// is reported.
func (t *demoTour) run(ctx context.Context, args ...string) int {
	fmt.Fprintf(t.out, "\n$ cfst %s\n", shellLine(args))
	code := Run(ctx, t.app, args)
	if code != ExitOK {
		fmt.Fprintf(t.out, "(exit code %d)\n", code)
	}
	return code
}

// shellLine writes args as a shell would need them typed, quoting those that need it.
func shellLine(args []string) string {
	quoted := make([]string, len(args))
	for i, arg := range args {
		quoted[i] = arg
		if !shellSafe(arg) && arg != "--" && !strings.HasPrefix(arg, "-") {
			quoted[i] = "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

func (t *demoTour) showWorld(context.Context) error {
	t.heading("The world", "An emulated Cloudflare account with Access in front of seven "+
		"services, as in the operator's how-to.\nAPI: "+t.srv.URL+"  edge: "+t.srv.Addr()+
		"  team: "+t.srv.TeamDomain())
	world := emulator.DefaultWorld()
	decisions := map[string]string{}
	for _, p := range world.Policies {
		decisions[p.Name] = p.Name + " (" + policyLabel(string(p.Decision)) + ")"
		decisions[p.ID] = decisions[p.Name]
	}
	tw := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSERVICE\tPOLICIES\tBACKEND")
	for _, a := range world.Applications {
		var labels []string
		for _, p := range a.Policies {
			labels = append(labels, decisions[p.Ref])
		}
		origin := a.Origin
		if origin == "" {
			origin = "ok"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Domain, strings.Join(labels, ", "), origin)
	}
	return tw.Flush()
}

func policyLabel(decision string) string {
	switch decision {
	case "non_identity":
		return "Service Auth"
	case "allow":
		return "Allow: identity login"
	case "deny":
		return "Block"
	}
	return decision
}

func (t *demoTour) showLifecycle(ctx context.Context) error {
	t.heading("Token lifecycle", "Create a token: the secret goes into .env before "+
		"anything else happens, and never onto the screen.")
	t.run(ctx, "create", "demo-ci", "--duration", "30d")
	t.showEnvFile()
	t.run(ctx, "list")
	t.run(ctx, "rotate", "demo-ci", "--grace", "1h")
	t.run(ctx, "show", "demo-ci")
	return nil
}

// showTest probes every service of the world at once: each failure class of the default
// world shows up once, with the hint that names its cause.
func (t *demoTour) showTest(ctx context.Context) error {
	t.heading("Test every service at once", "One request per service, all in parallel; "+
		"each answer is sorted into a class with a hint.\nThe exit code says whether the "+
		"token was rejected (9) or only a backend is down (8).")
	t.run(ctx, append([]string{"test"}, t.srv.Hostnames()...)...)
	return nil
}

// showRevoke ends the tour the way a token's life ends: deleted, and its credentials
// gone from .env while every other line stays.
func (t *demoTour) showRevoke(ctx context.Context) error {
	t.heading("Revoke", "Deleting a token cuts it off at once; cfst also removes its "+
		"credentials from .env.\nWithout a terminal, --yes is required.")
	t.run(ctx, "delete", "demo-ci", "--yes")
	t.showEnvFile()
	return nil
}

// showEnvFile prints the .env file the way a careful operator would share it: mode first,
// every secret masked.
func (t *demoTour) showEnvFile() {
	path := t.app.EnvFile
	info, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(t.out, "\n(no %s: %v)\n", filepath.Base(path), err)
		return
	}
	fmt.Fprintf(t.out, "\n$ cat .env    # mode %04o, secrets masked by the demo\n",
		info.Mode().Perm())
	file, err := dotenv.Load(path)
	if err != nil {
		fmt.Fprintf(t.out, "(unreadable: %v)\n", err)
		return
	}
	for _, key := range file.Keys() {
		value, _ := file.Get(key)
		if strings.HasSuffix(key, "SECRET") {
			value = "[redacted]"
		}
		fmt.Fprintf(t.out, "%s=%s\n", key, value)
	}
}
