package cli

// This file holds what every command uses to print results:
//
//	addOutputFlag(cmd, &opts.Output, "text", "json")   --output, validated
//	writeJSON(w, v)                                    indented JSON, a final newline
//	newTable(streams, header...)                       a table on a terminal, TSV when piped
//	app.timeText(t)                                    "in 12 days" on a terminal, RFC 3339 piped
//	app.notef(format, args...)                         a line for people, on stderr
//	newTokenJSON / tokenStateOf                        the token schema of list, show, create
//	apiError(err)                                      *cloudflare.Error → exit code and hint
//
// stdout carries data only; notes, warnings and hints go to stderr. JSON output never
// depends on whether stdout is a terminal.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// The output formats the lifecycle commands offer. Other commands may add their own
// (junit, markdown) through addOutputFlag.
const (
	formatText = "text"
	formatJSON = "json"
)

// outputFormat is the value of --output: one of a fixed set of formats.
type outputFormat struct {
	target  *string
	allowed []string
}

func (o *outputFormat) String() string { return *o.target }
func (o *outputFormat) Type() string   { return strings.Join(o.allowed, "|") }

func (o *outputFormat) Set(value string) error {
	value = strings.ToLower(strings.TrimSpace(value))
	if !slices.Contains(o.allowed, value) {
		return fmt.Errorf("unknown output format %q: use %s", value,
			strings.Join(o.allowed, " or "))
	}
	*o.target = value
	return nil
}

// addOutputFlag adds --output (-o) to cmd, storing the format in target. The first of
// formats is the default; a value outside formats is a usage error.
func addOutputFlag(cmd *cobra.Command, target *string, formats ...string) {
	*target = formats[0]
	cmd.Flags().VarP(&outputFormat{target: target, allowed: formats}, "output", "o",
		"output `format`: "+strings.Join(formats, ", "))
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// table prints rows aligned under a header on a terminal, and as tab-separated lines
// without a header when stdout is piped, so scripts can cut and awk them reliably. Cells
// must not contain tabs or newlines; table replaces them with spaces.
type table struct {
	out    io.Writer
	tty    bool
	header []string
	rows   [][]string
}

// newTable starts a table for streams.Out with the given column names.
func newTable(streams *Streams, header ...string) *table {
	return &table{out: streams.Out, tty: streams.OutTTY, header: header}
}

// add appends a row.
func (t *table) add(cells ...string) {
	row := make([]string, len(cells))
	for i, cell := range cells {
		row[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(cell)
	}
	t.rows = append(t.rows, row)
}

// print writes the table.
func (t *table) print() error {
	if !t.tty {
		for _, row := range t.rows {
			if _, err := fmt.Fprintln(t.out, strings.Join(row, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.header, "\t"))
	for _, row := range t.rows {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	return w.Flush()
}

// timeText formats t for stdout: relative ("in 12 days", "3h ago") on a terminal, RFC 3339
// in UTC when piped. The zero time is "never" on a terminal and "-" when piped.
func (app *App) timeText(t time.Time) string {
	switch {
	case t.IsZero() && app.Streams.OutTTY:
		return "never"
	case t.IsZero():
		return "-"
	case app.Streams.OutTTY:
		return relativeTime(t, app.Now())
	}
	return t.UTC().Format(time.RFC3339)
}

// relativeTime says how far t is from now in the largest fitting unit: "in 5m",
// "3h ago", "in 12 days", "2 months ago", "in 3 years".
func relativeTime(t, now time.Time) string {
	d := t.Sub(now)
	if d > -time.Minute && d < time.Minute {
		return "just now"
	}
	amount := approximate(d.Abs())
	if d > 0 {
		return "in " + amount
	}
	return amount + " ago"
}

// approximate rounds a positive duration to its largest unit.
func approximate(d time.Duration) string {
	count := func(unit time.Duration) int64 { return int64(d.Round(unit) / unit) }
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d < time.Hour-30*time.Second:
		return strconv.FormatInt(count(time.Minute), 10) + "m"
	case d < 48*time.Hour:
		return strconv.FormatInt(count(time.Hour), 10) + "h"
	case d < 60*day:
		return plural(count(day), "day")
	case d < 2*year:
		return plural(count(month), "month")
	}
	return plural(count(year), "year")
}

// notef writes one line for people to stderr.
func (app *App) notef(format string, args ...any) {
	app.writeErr(fmt.Sprintf(format, args...) + "\n")
}

// expiringSoon is when list and show start saying "expires in N days".
const expiringSoon = 30 * day

// Token states, as JSON's "state" carries them.
const (
	stateActive   = "active"
	stateExpiring = "expiring"
	stateExpired  = "expired"
	stateDisabled = "disabled"
	stateRotating = "rotating"
)

// tokenStateOf classifies tok at now: disabled, expired, rotating (the previous secret is
// still valid), expiring (within 30 days) or active. A disabled token's previous secret
// is dead, so a disabled token is never rotating.
func tokenStateOf(tok cloudflare.Token, now time.Time) string {
	switch {
	case !tok.Enabled:
		return stateDisabled
	case !tok.Forever && !tok.ExpiresAt.IsZero() && !tok.ExpiresAt.After(now):
		return stateExpired
	case tok.PreviousSecretExpiresAt.After(now):
		return stateRotating
	case !tok.Forever && !tok.ExpiresAt.IsZero() && tok.ExpiresAt.Sub(now) < expiringSoon:
		return stateExpiring
	}
	return stateActive
}

// stateText describes tok's state for people: "active", "never expires", "expires in 5
// days", "expired", "disabled", "rotating until <time>" ("rotating, ends in 12h" on a
// terminal).
func (app *App) stateText(tok cloudflare.Token) string {
	now := app.Now()
	switch tokenStateOf(tok, now) {
	case stateExpiring:
		return "expires " + relativeTime(tok.ExpiresAt, now)
	case stateRotating:
		if app.Streams.OutTTY {
			return "rotating, ends " + relativeTime(tok.PreviousSecretExpiresAt, now)
		}
		return "rotating until " + app.timeText(tok.PreviousSecretExpiresAt)
	case stateActive:
		if tok.Forever {
			return "never expires"
		}
		return stateActive
	}
	return tokenStateOf(tok, now)
}

// expiryText is a token's expiry for stdout, "never" for a token that does not expire.
func (app *App) expiryText(tok cloudflare.Token) string {
	if tok.Forever {
		return "never"
	}
	return app.timeText(tok.ExpiresAt)
}

// jsonTime is a time that encodes as RFC 3339 in UTC, or null when zero.
type jsonTime time.Time

// UnmarshalJSON reads what MarshalJSON writes, so consumers in Go can decode tokenJSON.
func (t *jsonTime) UnmarshalJSON(data []byte) error {
	var text *string
	if err := json.Unmarshal(data, &text); err != nil {
		return err
	}
	if text == nil {
		*t = jsonTime{}
		return nil
	}
	parsed, err := time.Parse(time.RFC3339, *text)
	*t = jsonTime(parsed)
	return err
}

// MarshalJSON writes RFC 3339 in UTC, or null.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}

// tokenJSON is the token object of `--output json` in list, show, create, refresh,
// rotate, enable and disable. Its keys are a stable interface: add keys, never rename.
type tokenJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
	// Duration is the API's form: "8760h" or "forever".
	Duration string `json:"duration"`
	// ExpiresAt is null for a token that never expires.
	ExpiresAt jsonTime `json:"expires_at"`
	// State is active, expiring, expired, disabled or rotating (see tokenStateOf).
	State   string `json:"state"`
	Enabled bool   `json:"enabled"`
	// PreviousSecretExpiresAt ends the grace period of the secret before the last
	// rotation; null when there is none.
	PreviousSecretExpiresAt jsonTime `json:"previous_secret_expires_at"`
	LastSeenAt              jsonTime `json:"last_seen_at"`
	CreatedAt               jsonTime `json:"created_at"`
	// Local is true when the --prefix credentials of the .env file hold this client id.
	Local bool `json:"local"`
	// ClientSecret appears only with --show-secret, on the commands that receive one.
	ClientSecret *string `json:"client_secret,omitempty"`
}

// newTokenJSON describes tok at now. local marks the token of the .env file.
func newTokenJSON(tok cloudflare.Token, now time.Time, local bool) tokenJSON {
	view := tokenJSON{
		ID: tok.ID, Name: tok.Name, ClientID: tok.ClientID, Duration: tok.Duration,
		State: tokenStateOf(tok, now), Enabled: tok.Enabled, Local: local,
		PreviousSecretExpiresAt: jsonTime(tok.PreviousSecretExpiresAt),
		LastSeenAt:              jsonTime(tok.LastSeenAt), CreatedAt: jsonTime(tok.CreatedAt),
	}
	if !tok.Forever {
		view.ExpiresAt = jsonTime(tok.ExpiresAt)
	}
	if !tok.PreviousSecretExpiresAt.After(now) {
		view.PreviousSecretExpiresAt = jsonTime{}
	}
	return view
}

// withSecret returns view carrying the secret, for --show-secret only.
func (view tokenJSON) withSecret(clientSecret secret.Secret) tokenJSON {
	value := clientSecret.Reveal()
	view.ClientSecret = &value
	return view
}

// printTokenDetails writes one token as "key: value" lines: the text form of show,
// create, refresh, rotate, enable and disable.
func (app *App) printTokenDetails(tok cloudflare.Token, local bool) error {
	fields := [][2]string{
		{"name", tok.Name},
		{"id", tok.ID},
		{"client id", tok.ClientID + map[bool]string{true: " (in " + app.envFilePath() + ")"}[local]},
		{"state", app.stateText(tok)},
		{"expires", app.expiryText(tok)},
		{"duration", tok.Duration},
		{"last seen", app.timeText(tok.LastSeenAt)},
		{"created", app.timeText(tok.CreatedAt)},
	}
	w := tabwriter.NewWriter(app.Streams.Out, 0, 0, 1, ' ', 0)
	for _, field := range fields {
		fmt.Fprintf(w, "%s:\t%s\n", field[0], field[1])
	}
	return w.Flush()
}

// apiExitCodes maps each kind of API error to cfst's exit code. Kinds not listed exit 1.
var apiExitCodes = map[cloudflare.Kind]int{
	cloudflare.KindConfig:         ExitUsage,
	cloudflare.KindAuth:           ExitAuth,
	cloudflare.KindPermission:     ExitAuth,
	cloudflare.KindNotFound:       ExitNotFound,
	cloudflare.KindAmbiguous:      ExitUsage,
	cloudflare.KindUnknownAccount: ExitNotFound,
	cloudflare.KindLimit:          ExitRefused,
	cloudflare.KindInvalid:        ExitUsage,
	cloudflare.KindRateLimited:    ExitRateLimited,
	cloudflare.KindUnreachable:    ExitUnreachable,
	cloudflare.KindTimeout:        ExitUnreachable,
	cloudflare.KindServer:         ExitError,
	cloudflare.KindCanceled:       ExitCancelled,
}

// apiError gives an error from package cloudflare its exit code and hint; it is the one
// place where API failures become what the user sees. Other errors pass through.
func apiError(err error) error {
	var cfErr *cloudflare.Error
	if err == nil || !errors.As(err, &cfErr) {
		return err
	}
	code, ok := apiExitCodes[cfErr.Kind]
	if !ok {
		code = ExitError
	}
	return withCode(code, err, cfErr.Hint)
}

// expiryNote describes tok's expiry for a note on stderr: "never expires", or "expires at
// <RFC 3339> (in 12 months)".
func (app *App) expiryNote(tok cloudflare.Token) string {
	if tok.Forever || tok.ExpiresAt.IsZero() {
		return "never expires"
	}
	return fmt.Sprintf("expires at %s (%s)", tok.ExpiresAt.UTC().Format(time.RFC3339),
		relativeTime(tok.ExpiresAt, app.Now()))
}
