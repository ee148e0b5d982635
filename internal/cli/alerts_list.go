package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
)

func alertsListCommand(app *App, run func(context.Context, *App, *alertsListOptions) error,
) *cobra.Command {
	opts := &alertsListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the account's expiring service token alerts",
		Long: `List the notification policies of type expiring_service_token_alert: id, name,
whether it is enabled, its email addresses and its webhook destinations (by id; the
webhook URLs are never shown). On a terminal a table, when piped one tab-separated line
per policy, --output json an array of objects.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), app, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

// runAlertsList prints the expiring-token notification policies.
func runAlertsList(ctx context.Context, app *App, opts *alertsListOptions) error {
	client, err := app.alertsClient()
	if err != nil {
		return err
	}
	alerts, err := client.ListAlerts(ctx)
	if err != nil {
		return apiError(err)
	}
	if alerts == nil {
		alerts = []cloudflare.AlertPolicy{}
	}
	if opts.Output == formatJSON {
		return writeJSON(app.Streams.Out, alerts)
	}
	if len(alerts) == 0 {
		app.notef("no expiring service token alert; set one up with " +
			"'cfst alerts setup --email ADDR'")
		return nil
	}
	t := newTable(app.Streams, "ID", "NAME", "ENABLED", "EMAIL", "WEBHOOKS")
	for _, a := range alerts {
		enabled := "no"
		if a.Enabled {
			enabled = "yes"
		}
		t.add(a.ID, a.Name, enabled, orDash(strings.Join(a.Emails, ",")),
			orDash(strings.Join(a.WebhookIDs, ",")))
	}
	return t.print()
}
