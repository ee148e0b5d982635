package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
	"github.com/cfst/cfst/internal/probe"
)

// rotateOptions are the parsed argument and flags of `cfst rotate`.
type rotateOptions struct {
	Token      string
	Grace      string
	GraceFor   time.Duration // parsed from Grace
	Verify     []string
	Finish     bool
	Force      bool
	ShowSecret bool
	Output     string
	Git        gitOptions
	Conn       connectionOptions
}

// defaultGrace is how long the previous secret keeps working after a rotation.
const defaultGrace = 24 * time.Hour

// minVerifyGrace is the least grace a failed verification leaves the previous secret:
// time for a person to look at what went wrong.
const minVerifyGrace = 24 * time.Hour

func newRotateCmd(app *App) *cobra.Command {
	return rotateCommand(app, runRotate)
}

func rotateCommand(app *App, run func(context.Context, *App, *rotateOptions) error,
) *cobra.Command {
	opts := &rotateOptions{}
	cmd := &cobra.Command{
		Use:   "rotate TOKEN",
		Short: "Give a service token a new secret, keeping the old one for a grace period",
		Long: `Give a service token a new client secret and write it to .env atomically. The
previous secret keeps working for --grace (default 24h; 0 ends it at once), so consumers
can switch without downtime. 'cfst rotate TOKEN --finish' ends the grace period once they
have.

The new secret goes to the --prefix variables of the .env file. If they hold another
token's client id, cfst refuses without --force; if they are empty, the secret is written
there. If .env cannot be written, the secret is saved as 'cfst create' does (exit 10).

With --verify URL (repeatable), cfst requests each URL with the new secret. If any
rejects it (any result but ok, backend_down or tunnel_down), the previous secret goes back
into .env, its grace period is extended to at least 24h from now (or --grace if longer),
and cfst exits 11. --verify needs a grace period.`,
		Example: `  cfst rotate ci-runner
  cfst rotate ci-runner --grace 1h --verify https://app.example.com/health
  cfst rotate ci-runner --finish`,
		Args: exactArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(cmd, args); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Grace, "grace", "24h",
		"keep the previous secret working this long (`duration`; 0 ends it now)")
	flags.StringArrayVar(&opts.Verify, "verify", nil,
		"check the new secret against this `URL`; restore the previous one if rejected")
	flags.BoolVar(&opts.Finish, "finish", false, "end the grace period of the previous secret now")
	flags.BoolVar(&opts.Force, "force", false,
		"write the secret even if the prefix holds another token's credentials")
	flags.BoolVar(&opts.ShowSecret, "show-secret", false, "also print the new secret on stdout")
	opts.Git.addFlags(cmd)
	addConnectionFlags(flags, &opts.Conn)
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

func (o *rotateOptions) complete(cmd *cobra.Command, args []string) error {
	o.Token = args[0]
	grace, err := parseDuration(o.Grace)
	if err != nil {
		return durationFlagError("grace", err)
	}
	o.GraceFor = grace
	if o.Finish {
		for _, name := range []string{"grace", "verify", "show-secret", "force"} {
			if cmd.Flags().Changed(name) {
				return usageError("run --finish on its own, after consumers have the new secret",
					"--finish cannot be combined with --%s", name)
			}
		}
		return nil
	}
	if len(o.Verify) > 0 && o.GraceFor == 0 {
		return usageError("give the previous secret a grace period, such as --grace 1h",
			"--verify needs a grace period: with --grace 0 there is no secret to go back to")
	}
	for _, target := range o.Verify {
		if err := checkVerifyURL(target); err != nil {
			return err
		}
	}
	return o.Git.check()
}

// checkVerifyURL accepts what `cfst test` accepts (a URL or a bare hostname) as long as
// it is https: the secret must not cross the network in clear.
func checkVerifyURL(arg string) error {
	target, err := probe.ParseTarget(arg)
	if err == nil && !strings.HasPrefix(target.URL, "https://") {
		err = fmt.Errorf("--verify %q is not an https URL", arg)
	}
	if err != nil {
		return usageError("pass an https URL such as https://app.example.com/health", "%s", err)
	}
	return nil
}

func runRotate(ctx context.Context, app *App, opts *rotateOptions) error {
	if opts.Finish {
		return runFinishRotation(ctx, app, opts)
	}
	slot, err := app.prepareSecretSlot(opts.Git)
	if err != nil {
		return err
	}
	client, tok, err := app.accountClient(ctx, "rotate", opts.Token)
	if err != nil {
		return err
	}
	if err := slot.checkFree(opts.Force, tok.ClientID); err != nil {
		return err
	}
	previous := slot.previousSecret(tok.ClientID)
	graceEnd := time.Time{}
	if opts.GraceFor > 0 {
		graceEnd = app.Now().Add(opts.GraceFor)
	}
	rotated, err := client.RotateToken(ctx, tok.ID, graceEnd)
	if err != nil {
		return apiError(err)
	}
	app.secrets.Add(rotated.ClientSecret)
	storeErr := app.storeSecret(slot, rotated)
	if storeErr == nil && len(opts.Verify) > 0 {
		if err := app.verifyRotation(ctx, client, slot, rotated, previous, opts); err != nil {
			return err
		}
	}
	if err := app.printNewSecret(rotated, opts.Output, opts.ShowSecret, storeErr == nil); err != nil {
		return err
	}
	if storeErr != nil {
		return storeErr
	}
	app.noteRotation(rotated, slot, graceEnd)
	return nil
}

// previousSecret returns the slot's credentials if they are those of clientID.
func (s *secretSlot) previousSecret(clientID string) *dotenv.Credentials {
	creds, err := s.file.Credentials(s.keys)
	if err != nil || creds.ClientID != clientID {
		return nil
	}
	return &creds
}

func (app *App) noteRotation(rotated cloudflare.NewSecret, slot *secretSlot, graceEnd time.Time) {
	app.notef("rotated %q; the new secret is in %s as %s", rotated.Name, slot.file.Path(),
		slot.keys.ClientSecret)
	if graceEnd.IsZero() {
		app.notef("the previous secret stopped working now")
		return
	}
	app.notef("the previous secret works until %s (%s); end that sooner with "+
		"'cfst rotate %s --finish'", graceEnd.UTC().Format(time.RFC3339),
		relativeTime(graceEnd, app.Now()), rotated.ID)
}

// runFinishRotation ends the grace period of the previous secret now.
func runFinishRotation(ctx context.Context, app *App, opts *rotateOptions) error {
	client, tok, err := app.resolveToken(ctx, opts.Token)
	if err != nil {
		return err
	}
	now := app.Now()
	if !tok.PreviousSecretExpiresAt.After(now) {
		app.notef("%q has no grace period running; nothing to finish", tok.Name)
		return app.printToken(tok, opts.Output)
	}
	updated, err := client.UpdateToken(ctx, tok.ID,
		cloudflare.TokenUpdate{PreviousSecretExpiresAt: &now})
	if err != nil {
		return apiError(err)
	}
	if err := app.printToken(updated, opts.Output); err != nil {
		return err
	}
	app.notef("finished the rotation of %q: the previous secret no longer works", tok.Name)
	return nil
}

// verifyRotation probes every --verify URL with the new secret. If any rejects it, it
// puts the previous secret back into .env (when .env held it), extends the grace period
// to max(--grace, 24h) from now, and returns an error with exit code 11.
func (app *App) verifyRotation(ctx context.Context, client *cloudflare.Client, slot *secretSlot,
	rotated cloudflare.NewSecret, previous *dotenv.Credentials, opts *rotateOptions) error {
	rejected, err := app.probeNewSecret(ctx, opts, rotated)
	if err != nil {
		return err
	}
	if rejected == "" {
		app.notef("verified: every --verify URL accepts the new secret")
		return nil
	}
	graceEnd := app.Now().Add(max(opts.GraceFor, minVerifyGrace))
	_, extendErr := client.UpdateToken(ctx, rotated.ID,
		cloudflare.TokenUpdate{PreviousSecretExpiresAt: &graceEnd})
	restored := "the previous secret was not in " + slot.file.Path() + ", so the new one stays"
	if previous != nil {
		restored = "the previous secret is back in " + slot.file.Path()
		if err := app.restoreSecret(slot, *previous); err != nil {
			restored = fmt.Sprintf("putting the previous secret back failed (%v); "+
				"the new one stays in %s", err, slot.file.Path())
		}
	}
	extended := "its grace period now ends at " + graceEnd.UTC().Format(time.RFC3339)
	if extendErr != nil {
		extended = fmt.Sprintf("extending its grace period failed (%v)",
			app.secrets.Scrub(extendErr.Error()))
	}
	return withCode(ExitVerifyFail, fmt.Errorf("the new secret of %q was rejected: %s",
		rotated.Name, rejected), restored+"; "+extended+"; fix the service and rotate again "+
		"before then")
}

// probeNewSecret requests every --verify URL with the new secret through the shared
// prober (package probe, as `cfst test` does) and prints one line per URL on stderr. It
// returns a description of the first rejection, or "" when every URL accepted the secret:
// ok, backend_down and tunnel_down all mean Access let it through.
func (app *App) probeNewSecret(ctx context.Context, opts *rotateOptions,
	rotated cloudflare.NewSecret) (rejected string, err error) {
	targets, err := probe.ParseTargets(opts.Verify)
	if err != nil {
		return "", usageError("pass an https URL such as https://app.example.com/health",
			"--verify: %s", err)
	}
	client, err := app.httpClient(opts.Conn)
	if err != nil {
		return "", err
	}
	prober := &probe.Prober{Client: client, Timeout: app.Timeout, Now: app.Now}
	creds := probe.Credentials{ClientID: rotated.ClientID, Secret: rotated.ClientSecret}
	for _, result := range prober.RunAll(ctx, targets, creds) {
		app.notef("verify %s: %s (%s)", result.Target.Name, result.Class, result.Detail)
		if !acceptsToken(result.Class) && rejected == "" {
			rejected = fmt.Sprintf("%s answered %s", result.Target.Name, result.Class)
		}
	}
	return rejected, nil
}

// acceptsToken reports whether a probe class means Access let the token through.
func acceptsToken(class probe.Class) bool {
	return class == probe.ClassOK || class == probe.ClassBackendDown ||
		class == probe.ClassTunnelDown
}
