package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// alertsSetupOptions are the parsed flags of `cfst alerts setup`.
type alertsSetupOptions struct {
	Email   string
	Webhook string
	Name    string
	Output  string
	// webhookURL is Webhook, or the line read from stdin for "-"; it is a secret.
	webhookURL secret.Secret
}

// alertsListOptions are the parsed flags of `cfst alerts list`.
type alertsListOptions struct {
	Output string
}

func newAlertsCmd(app *App) *cobra.Command {
	return alertsCommand(app, runAlertsSetup, runAlertsList)
}

// alertsCommand builds the command around its run functions, so tests can check flag
// parsing alone.
func alertsCommand(app *App, setup func(context.Context, *App, *alertsSetupOptions) error,
	list func(context.Context, *App, *alertsListOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Set up Cloudflare's own alert for service tokens about to expire",
		Long: `Cloudflare sends an "Expiring Access Service Token Alert" a week before a
service token expires, to the destinations of a notification policy. 'cfst alerts
setup' creates that policy (and the webhook destination) through the API; 'cfst alerts
list' shows the policies of that type. Both need an API token with "Notifications
Write" (or "Account Settings Write"), at account scope.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(alertsSetupCommand(app, setup), alertsListCommand(app, list))
	return cmd
}

func alertsSetupCommand(app *App, run func(context.Context, *App, *alertsSetupOptions) error,
) *cobra.Command {
	opts := &alertsSetupOptions{}
	cmd := &cobra.Command{
		Use:   "setup --email ADDR | --webhook URL",
		Short: "Make Cloudflare alert an address or a webhook before a token expires",
		Long: `Make sure an enabled notification policy of type expiring_service_token_alert
sends to the email address, the webhook, or both. Running it again changes nothing and
says "already set up": the webhook destination is found by its URL, the policy by its
destinations.

A webhook URL often carries its credential (chat webhooks do), so cfst never prints it:
messages show its scheme and host only. On the command line the URL is visible to other
users of the machine and in shell history; pass --webhook - to read it from stdin.`,
		Example: `  cfst alerts setup --email ops@example.com
  cfst alerts setup --webhook - --name ops-chat < webhook-url.txt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(app); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Email, "email", "", "send the alert to this email `address`")
	flags.StringVar(&opts.Webhook, "webhook", "",
		"send the alert to this webhook `URL`; - reads it from stdin")
	flags.StringVar(&opts.Name, "name", "cfst",
		"`name` of the webhook destination, when cfst creates it")
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

// complete checks the target flags and reads a webhook URL given as "-".
func (o *alertsSetupOptions) complete(app *App) error {
	hint := "pass --email ADDR, --webhook URL, or both"
	if o.Email == "" && o.Webhook == "" {
		return usageError(hint, "no alert destination")
	}
	if o.Email != "" {
		if err := checkAlertEmail(o.Email); err != nil {
			return err
		}
	}
	if o.Webhook == "" {
		return nil
	}
	raw := o.Webhook
	if raw == "-" {
		line, err := readWebhookLine(app.Streams.In)
		if err != nil {
			return err
		}
		raw = line
	} else {
		app.notef("note: a webhook URL on the command line shows in process listings and " +
			"shell history; --webhook - reads it from stdin")
	}
	o.webhookURL = secret.New(raw)
	app.secrets.Add(o.webhookURL)
	return checkWebhookURL(app, raw)
}

func checkAlertEmail(email string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return usageError("give a bare address such as ops@example.com",
			"--email %q is not an email address", email)
	}
	return nil
}

// readWebhookLine reads the webhook URL from the first line of stdin.
func readWebhookLine(in io.Reader) (string, error) {
	hint := "pipe the webhook URL on stdin, such as --webhook - < url.txt"
	if in == nil {
		return "", usageError(hint, "--webhook -: no stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(in, 8<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", usageError(hint, "--webhook -: read stdin: %w", err)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usageError(hint, "--webhook -: stdin holds no URL")
	}
	return line, nil
}

// checkWebhookURL accepts an http or https URL with a host. Its errors name the scheme
// and host at most, never the path or query, which may hold a credential. Every part of
// the URL that could be a credential is registered with the app's scrubber.
func checkWebhookURL(app *App, raw string) error {
	hint := "give the webhook's full https:// URL"
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usageError(hint, "--webhook is not an http or https URL")
	}
	parts := []string{u.RawQuery, u.Path, u.EscapedPath()}
	if password, ok := u.User.Password(); ok {
		parts = append(parts, password)
	}
	for _, values := range u.Query() {
		parts = append(parts, values...)
	}
	for _, part := range parts {
		if len(part) >= minScrubbedPart { // shorter ones ("/", "v=1") hold no credential
			app.secrets.Add(secret.New(part))
		}
	}
	if u.Scheme == "http" {
		app.notef("warning: the webhook %s is plain http: the alert and its credential "+
			"travel unencrypted", webhookLabel(raw))
	}
	return nil
}

// minScrubbedPart is the shortest part of a webhook URL that is scrubbed from output.
const minScrubbedPart = 8

// webhookLabel shows a webhook URL without what may be its credential: scheme and host.
func webhookLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(webhook)"
	}
	return u.Scheme + "://" + u.Host // Host never holds the user information
}

// alertSetupJSON is the result of `cfst alerts setup --output json`.
type alertSetupJSON struct {
	Created bool   `json:"created"`
	Email   string `json:"email,omitempty"`
	// Webhook is the scheme and host of the webhook URL, never its path or query.
	Webhook string `json:"webhook,omitempty"`
}

// runAlertsSetup creates the notification policy unless one already sends to the target.
func runAlertsSetup(ctx context.Context, app *App, opts *alertsSetupOptions) error {
	client, err := app.alertsClient()
	if err != nil {
		return err
	}
	target := cloudflare.AlertTarget{Email: opts.Email, WebhookURL: opts.webhookURL.Reveal(),
		WebhookName: opts.Name}
	created, err := client.EnsureExpiryAlert(ctx, target)
	if err != nil {
		return apiError(err)
	}
	result := alertSetupJSON{Created: created, Email: opts.Email}
	if !opts.webhookURL.IsZero() {
		result.Webhook = webhookLabel(opts.webhookURL.Reveal())
	}
	if opts.Output == formatJSON {
		return writeJSON(app.Streams.Out, result)
	}
	state := "set up"
	if !created {
		state = "already set up"
	}
	fmt.Fprintf(app.Streams.Out, "expiring service token alert %s: %s\n", state,
		alertDestinations(result))
	if created {
		app.notef("Cloudflare sends it a week before a service token expires")
	}
	return nil
}

func alertDestinations(r alertSetupJSON) string {
	var parts []string
	if r.Email != "" {
		parts = append(parts, "email "+r.Email)
	}
	if r.Webhook != "" {
		parts = append(parts, "webhook "+r.Webhook)
	}
	return strings.Join(parts, " and ")
}

// alertsClient is an API client at account scope: notifications belong to accounts.
func (app *App) alertsClient() (*cloudflare.Client, error) {
	client, err := app.apiClient()
	if err == nil && client.AccountID() == "" {
		err = usageError("set "+cloudflare.EnvAccountID+" or pass --account ID",
			"alerts need an account; notifications are not set per zone")
	}
	return client, err
}
