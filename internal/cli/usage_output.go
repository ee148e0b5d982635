package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/usage"
)

// usageView is the report of `cfst usage` as --output json prints it: the analysis,
// and the names of the applications it mentions by id. Its keys are a stable interface.
type usageView struct {
	usage.Report
	AppNames map[string]string `json:"application_names"`
}

// usageListLength is how many values a terminal cell lists before "+N more".
const usageListLength = 3

// printUsage writes the report as --output says, and a note on the window on stderr.
func (app *App) printUsage(opts *usageOptions, view usageView) error {
	if opts.Output == formatJSON {
		return writeJSON(app.Streams.Out, view)
	}
	app.notef("%s", app.usageWindowNote(view.Report))
	if err := app.printUsageTokens(view); err != nil {
		return err
	}
	if app.Streams.OutTTY {
		app.printFindingsList(view)
	} else if err := app.printFindingsTSV(view); err != nil {
		return err
	}
	app.notef("%d %s, %d %s", len(view.Tokens), plural(len(view.Tokens), "token", "tokens"),
		len(view.Findings), plural(len(view.Findings), "finding", "findings"))
	return nil
}

// usageWindowNote says which logins the report covers.
func (app *App) usageWindowNote(r usage.Report) string {
	note := fmt.Sprintf("logins from %s to %s", r.Since.UTC().Format(time.RFC3339),
		r.Until.UTC().Format(time.RFC3339))
	if !r.BaselineSince.IsZero() {
		note += fmt.Sprintf(", compared with the %s before", usageSpan(r.Since.Sub(r.BaselineSince)))
	}
	return note
}

// usageSpan names a duration in days when it is whole days, else as Go does.
func usageSpan(d time.Duration) string {
	if d >= day && d%day == 0 {
		return plural(int(d/day), "day", strconv.Itoa(int(d/day))+" days")
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// printUsageTokens writes one row per token: a table on a terminal, "token" records when
// piped.
func (app *App) printUsageTokens(view usageView) error {
	tty := app.Streams.OutTTY
	t := newTable(app.Streams, "TOKEN", "ADMITTED", "REFUSED", "APPLICATIONS", "ADDRESSES",
		"COUNTRIES", "LAST SEEN")
	for _, tok := range view.Tokens {
		apps := make([]string, len(tok.Applications))
		for i, c := range tok.Applications {
			apps[i] = orValue(view.AppNames[c.Value], c.Value)
		}
		row := []string{strconv.FormatInt(tok.Admitted, 10), strconv.FormatInt(tok.Refused, 10),
			app.usageList(apps), app.usageList(countValues(tok.Addresses)),
			app.usageList(countValues(tok.Countries)), app.timeText(lastSeen(tok))}
		if tty {
			t.add(append([]string{usageTokenLabel(tok)}, row...)...)
		} else {
			t.add(append([]string{"token", orDash(tok.Name), tok.ID}, row...)...)
		}
	}
	if len(view.Tokens) == 0 {
		app.notef("no service tokens")
		return nil
	}
	return t.print()
}

// usageTokenLabel names a token in the terminal table; a token the account no longer
// has is shown by id.
func usageTokenLabel(tok usage.TokenUsage) string {
	if tok.Name == "" {
		return "(deleted) " + tok.ID
	}
	return tok.Name
}

// lastSeen is the latest sign of use: the last login of the window or the API's
// last_seen_at.
func lastSeen(tok usage.TokenUsage) time.Time {
	if tok.LastSeenAt.After(tok.LastLogin) {
		return tok.LastSeenAt
	}
	return tok.LastLogin
}

func countValues(counts []usage.Count) []string {
	values := make([]string, len(counts))
	for i, c := range counts {
		values[i] = orValue(c.Value, "unknown")
	}
	return values
}

// usageList joins values: all of them when piped, the first few and "+N more" on a
// terminal; "-" for none.
func (app *App) usageList(values []string) string {
	if len(values) == 0 {
		return "-"
	}
	if !app.Streams.OutTTY || len(values) <= usageListLength {
		return strings.Join(values, ",")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(values[:usageListLength], ", "),
		len(values)-usageListLength)
}

func orValue(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// printFindingsList writes the findings for people: severity, kind, summary, then the
// evidence on its own line.
func (app *App) printFindingsList(view usageView) {
	out := app.Streams.Out
	if len(view.Findings) == 0 {
		fmt.Fprintln(out, "\nno findings")
		return
	}
	fmt.Fprintf(out, "\n%d %s:\n", len(view.Findings),
		plural(len(view.Findings), "finding", "findings"))
	for _, f := range view.Findings {
		fmt.Fprintf(out, "  %-8s %-13s %s\n", strings.ToUpper(f.Severity), f.Kind, f.Summary)
		if evidence := app.evidenceText(f.Evidence, view.AppNames); evidence != "" {
			fmt.Fprintf(out, "  %-8s %-13s evidence: %s\n", "", "", evidence)
		}
	}
}

// printFindingsTSV writes one "finding" record per finding.
func (app *App) printFindingsTSV(view usageView) error {
	t := newTable(app.Streams)
	for _, f := range view.Findings {
		t.add("finding", f.Severity, f.Kind, orDash(f.TokenName), f.TokenID, f.Summary,
			orDash(app.evidenceText(f.Evidence, view.AppNames)))
	}
	return t.print()
}

// evidenceText writes a finding's evidence as key=value pairs, in a fixed order, leaving
// out what the finding does not set.
func (app *App) evidenceText(e usage.Evidence, appNames map[string]string) string {
	var pairs []string
	add := func(key, value string) {
		if value != "" {
			pairs = append(pairs, key+"="+value)
		}
	}
	number := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	rate := func(r float64) string {
		if r == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f/h", r)
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return app.timeText(t)
	}
	apps := make([]string, len(e.Applications))
	for i, id := range e.Applications {
		apps[i] = orValue(appNames[id], id)
	}
	add("address", e.Address)
	add("country", e.Country)
	add("applications", strings.Join(apps, ","))
	add("logins", number(e.Logins))
	add("refused", number(e.Refused))
	add("first_seen", when(e.FirstSeen))
	add("known_addresses", strings.Join(e.KnownAddresses, ","))
	add("known_countries", strings.Join(e.KnownCountries, ","))
	add("more_new_addresses", number(int64(e.MoreAddresses)))
	add("rate", rate(e.RatePerHour))
	add("baseline_rate", rate(e.BaselineRatePerHour))
	add("from", when(e.From))
	add("to", when(e.To))
	add("refused_from", strings.Join(refusalSources(e.Addresses), ","))
	add("last_seen", when(e.LastSeen))
	add("created", when(e.CreatedAt))
	add("expires", when(e.ExpiresAt))
	add("idle_days", number(int64(e.IdleDays)))
	return strings.Join(pairs, " ")
}

// refusalSources lists a burst's addresses with their refusals: "198.51.100.7(12)".
func refusalSources(counts []usage.Count) []string {
	sources := make([]string, len(counts))
	for i, c := range counts {
		sources[i] = fmt.Sprintf("%s(%d)", orValue(c.Value, "unknown"), c.Refused)
	}
	return sources
}
