package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/usage"
)

// usageOptions are the parsed flags of `cfst usage`.
type usageOptions struct {
	Since          string
	Baseline       string
	ExpiringWithin string
	UnusedDays     int
	Tokens         []string
	Output         string
	// Analysis holds the windows parsed from the flags; Now and TokenIDs are set by run.
	Analysis usage.Options
}

// Defaults of `cfst usage`.
const (
	usageDefaultSince    = "24h"
	usageDefaultBaseline = "7d"
	usageDefaultExpiring = "30d"
	usageDefaultUnused   = 30
	// usageRetention is how far back the analytics dataset answers.
	usageRetention = 90 * day
)

func newUsageCmd(app *App) *cobra.Command {
	return usageCommand(app, runUsage)
}

// usageCommand builds the command around run, so tests can check flag parsing alone.
func usageCommand(app *App, run func(context.Context, *App, *usageOptions) error,
) *cobra.Command {
	opts := &usageOptions{}
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show how each service token is used, and what looks wrong",
		Long:  usageLongHelp,
		Example: `  cfst usage
  cfst usage --since 1h --token ci-runner
  cfst usage --baseline 0 --expiring-within 14d
  cfst usage -o json | jq '.findings[] | select(.severity != "info")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(); err != nil {
				return err
			}
			return run(cmd.Context(), app, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Since, "since", usageDefaultSince,
		"report the logins of this `duration` up to now, such as 1h, 24h or 7d")
	flags.StringVar(&opts.Baseline, "baseline", usageDefaultBaseline,
		"compare with this `duration` before --since; 0 turns the comparison off")
	flags.StringVar(&opts.ExpiringWithin, "expiring-within", usageDefaultExpiring,
		"report tokens that expire within this `duration`")
	flags.IntVar(&opts.UnusedDays, "unused-days", usageDefaultUnused,
		"report tokens without a login for this many `days` as candidates to delete")
	flags.StringArrayVar(&opts.Tokens, "token", nil,
		"only this `TOKEN` (id, client id or name); repeat for more")
	addOutputFlag(cmd, &opts.Output, formatText, formatJSON)
	return cmd
}

const usageLongHelp = `Report, per service token, the logins of the last --since (default 24h): how many
were admitted and refused, the applications, client addresses and countries, and when
the token was last seen. Then list the findings, each with the evidence behind it:

  new_address     an address the token never used in the --baseline before (default 7d)
  new_country     a country the token never logged in from in the baseline
  rate_spike      at least 20 logins, at 5 times the baseline's hourly rate or more
  refusal_burst   10 refused logins or more within 5 minutes (a wrong or stale secret,
                  or someone guessing)
  unused          no login for --unused-days (default 30): a candidate to delete
  expiring        expires within --expiring-within (default 30d)
  expired         expired: whatever still uses it is refused

Service-token logins are not in the dashboard's logs: cfst reads them from the GraphQL
Analytics API (dataset accessLoginRequestsAdaptiveGroups), grouped and page by page, so
memory stays flat however many logins there are. How long Cloudflare keeps them
depends on the plan (24 hours on Free plans), so a baseline may find nothing to compare
with; --since plus --baseline may reach back at most 90 days.

Needs an API token with "Account Analytics Read" and "Access: Service Tokens Read";
with "Access: Apps and Policies Read" too, applications are shown by name.

Output: on a terminal, a table of tokens then the findings. When piped, one
tab-separated line per record, the first field saying which:

  token    NAME ID ADMITTED REFUSED APPLICATIONS ADDRESSES COUNTRIES LAST_SEEN
  finding  SEVERITY KIND TOKEN_NAME TOKEN_ID SUMMARY EVIDENCE

with lists comma-separated, times in RFC 3339 and "-" for none. --output json prints
one object: since, until, baseline_since, tokens, findings and application_names.`

// complete parses the flags into o.Analysis.
func (o *usageOptions) complete() error {
	since, err := positiveDuration("since", o.Since)
	if err != nil {
		return err
	}
	baseline, err := parseDuration(o.Baseline)
	if err != nil {
		return durationFlagError("baseline", err)
	}
	if since+baseline > usageRetention {
		return usageError("shorten --since or --baseline; the analytics API keeps at most "+
			"90 days", "--since %s and --baseline %s reach back more than 90 days",
			o.Since, o.Baseline)
	}
	expiring, err := positiveDuration("expiring-within", o.ExpiringWithin)
	if err != nil {
		return err
	}
	if o.UnusedDays < 1 {
		return usageError("give a number of days such as 30", "--unused-days must be at "+
			"least 1, got %d", o.UnusedDays)
	}
	o.Analysis = usage.Options{Since: since, Baseline: baseline, ExpiringWithin: expiring,
		UnusedAfter: time.Duration(o.UnusedDays) * day}
	if baseline == 0 {
		o.Analysis.Baseline = -1 // usage.Options reads 0 as the default
	}
	return nil
}

// positiveDuration parses the duration of a flag that must be above zero.
func positiveDuration(flag, text string) (time.Duration, error) {
	d, err := parseDuration(text)
	if err != nil {
		return 0, durationFlagError(flag, err)
	}
	if d <= 0 {
		return 0, usageError(durationHint, "--%s must be above zero, got %q", flag, text)
	}
	return d, nil
}

// runUsage reads the tokens and their logins, and prints the report.
func runUsage(ctx context.Context, app *App, opts *usageOptions) error {
	client, err := app.apiClient()
	if err != nil {
		return err
	}
	listed, err := client.ListTokens(ctx, cloudflare.ListOptions{})
	if err != nil {
		return apiError(err)
	}
	analysis := opts.Analysis
	analysis.Now = app.Now().UTC()
	if analysis.TokenIDs, err = selectUsageTokens(listed, opts.Tokens); err != nil {
		return err
	}
	tokens := make([]usage.Token, 0, len(listed))
	for _, tok := range listed {
		tokens = append(tokens, usage.TokenFrom(tok))
	}
	report, err := usage.Analyze(ctx, client, tokens, analysis)
	if err != nil {
		return apiError(err)
	}
	view := usageView{Report: report, AppNames: app.applicationNames(ctx, client, report)}
	return app.printUsage(opts, view)
}

// selectUsageTokens returns the ids of the tokens refs name (id, client id or name), or
// nil for no refs. A ref that names no token, or several, is an error.
func selectUsageTokens(tokens []cloudflare.Token, refs []string) ([]string, error) {
	var ids []string
	for _, ref := range refs {
		var matched []string
		for _, tok := range tokens {
			if tok.ID == ref || tok.ClientID == ref || tok.Name == ref {
				matched = append(matched, tok.ID)
			}
		}
		switch {
		case len(matched) == 0:
			return nil, withCode(ExitNotFound, fmt.Errorf("no service token %q", ref),
				"run 'cfst list' to see the tokens, and pass a name, id or client id")
		case len(matched) > 1:
			return nil, usageError("pass the token's id or client id instead",
				"%d service tokens are named %q", len(matched), ref)
		}
		if !slices.Contains(ids, matched[0]) {
			ids = append(ids, matched[0])
		}
	}
	return ids, nil
}

// applicationNames names the applications of the report, by id. Reading them needs a
// permission usage does not otherwise need, so a failure only costs the names.
func (app *App) applicationNames(ctx context.Context, client *cloudflare.Client,
	report usage.Report) map[string]string {
	names := map[string]string{}
	used := false
	for _, tok := range report.Tokens {
		used = used || len(tok.Applications) > 0
	}
	if !used {
		return names
	}
	apps, err := client.ListApplications(ctx)
	if err != nil {
		app.debugf("applications are shown by id: %s", strings.TrimSpace(err.Error()))
		return names
	}
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	return names
}
