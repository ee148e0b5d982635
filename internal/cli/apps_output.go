package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cfst/cfst/internal/access"
)

// printApps writes the verdicts as --output says, and the notes for people on stderr.
func (app *App) printApps(format string, setup *accessSetup, subject tokenSubject,
	verdicts []appVerdict) error {
	if format == formatJSON {
		return writeJSON(app.Streams.Out, app.appsReportJSON(setup, subject, verdicts))
	}
	app.notef("%s", app.subjectLine(subject, setup))
	for _, note := range setup.notes {
		app.notef("note: %s", note)
	}
	probed := slices.ContainsFunc(verdicts, func(v appVerdict) bool { return v.probes != nil })
	header := []string{"APPLICATION", "ID", "DESTINATIONS", "VERDICT", "STATUS", "WHY"}
	if probed {
		header = append(header, "LIVE")
	}
	tbl := newTable(app.Streams, header...)
	for _, verdict := range verdicts {
		row := []string{verdict.app.Name, verdict.app.ID,
			strings.Join(destinationsOf(verdict.app), ","), string(verdict.prediction.Outcome),
			statusText(verdict.prediction.Status), whyText(verdict.prediction)}
		if probed {
			row = append(row, liveText(verdict.probes))
		}
		tbl.add(row...)
	}
	if err := tbl.print(); err != nil {
		return err
	}
	app.printProbeReport(verdicts)
	app.printAppsSummary(subject, verdicts)
	return nil
}

// subjectLine describes the judged token on stderr: name, client id, state, strict mode.
func (app *App) subjectLine(subject tokenSubject, setup *accessSetup) string {
	state := "unknown to the API"
	name := subject.clientID
	if tok := subject.token; tok != nil {
		state = app.stateText(*tok)
		name = fmt.Sprintf("%s (%s)", tok.Name, tok.ClientID)
	}
	return fmt.Sprintf("token %s: %s; strict mode %s", name, state, setup.strictText())
}

// whyText is the verdict's explanation for the table.
func whyText(prediction access.Prediction) string {
	why := prediction.Detail
	if prediction.Outcome == access.Bypassed {
		why += "; no token is needed"
	}
	if prediction.ClientDependent {
		why += " (rules on the client's address or country taken as not matching)"
	}
	return why
}

// liveText sums up the live requests of one application for the LIVE column: "ok 200",
// "DISAGREES: forbidden 403", "unconfirmed: network_error", or "-" when none was possible.
func liveText(probes []appProbe) string {
	var parts []string
	for _, p := range probes {
		answer := string(p.result.Class) + " " + statusText(p.result.Status)
		switch p.agreement {
		case probeDisagrees:
			answer = "DISAGREES: " + answer
		case probeUnconfirmed:
			answer = "unconfirmed: " + answer
		}
		if len(probes) > 1 {
			answer = p.result.Target.Name + " " + answer
		}
		parts = append(parts, answer)
	}
	return orDash(strings.Join(parts, ", "))
}

// printProbeReport repeats on stderr, prominently, every live answer that disagreed with
// a verdict or could not confirm it, with what it most likely means.
func (app *App) printProbeReport(verdicts []appVerdict) {
	for _, verdict := range verdicts {
		for _, p := range verdict.probes {
			switch p.agreement {
			case probeDisagrees:
				app.notef("DISAGREEMENT %s (application %q): %s", p.result.Target.Name,
					verdict.app.Name, p.explanation)
			case probeUnconfirmed:
				app.notef("not confirmed %s (application %q): %s", p.result.Target.Name,
					verdict.app.Name, p.explanation)
			}
		}
	}
}

// printAppsSummary closes the report on stderr, with a hint when an application could
// be made to admit the token.
func (app *App) printAppsSummary(subject tokenSubject, verdicts []appVerdict) {
	admitted, fixable := 0, ""
	for _, verdict := range verdicts {
		switch {
		case admits(verdict.prediction):
			admitted++
		case fixable == "" && grantable(verdict.prediction.Reason):
			fixable = appRef(verdict.app)
		}
	}
	app.notef("%d of %d %s let the token through", admitted, len(verdicts),
		plural(len(verdicts), "application", "applications"))
	if fixable != "" && subject.token != nil {
		app.notef("hint: 'cfst grant %s --token %s' makes an application admit the token",
			fixable, subject.ref())
	}
}

// grantable reports whether `cfst grant` can fix a refusal for this reason: the token is
// simply not named by any Service Auth policy.
func grantable(reason access.Reason) bool {
	switch reason {
	case access.ReasonOnlyIdentityPolicies, access.ReasonNoMatchingRule,
		access.ReasonNoPolicies, access.ReasonNoServiceAuthPolicy:
		return true
	}
	return false
}

// appsReportJSON is `cfst apps --output json`. Its keys are a stable interface: add
// keys, never rename.
type appsReportJSON struct {
	// Token is the judged token; null when no token has the client id.
	Token    *tokenJSON `json:"token"`
	ClientID string     `json:"client_id"`
	// StrictMode is null when the organization could not be read.
	StrictMode   *bool            `json:"strict_mode"`
	Notes        []string         `json:"notes"`
	Applications []appVerdictJSON `json:"applications"`
}

// appVerdictJSON is one application's verdict.
type appVerdictJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Domain       string   `json:"domain"`
	Destinations []string `json:"destinations"`
	// Verdict is admitted, bypassed, login_redirect, forbidden or unauthenticated.
	Verdict string `json:"verdict"`
	// Admitted is true for admitted and bypassed: the request reaches the origin.
	Admitted bool `json:"admitted"`
	// Status is the edge's own answer (302, 401, 403), or 0 when it forwards.
	Status int `json:"status"`
	// Reason is "" when admitted, else a stable word such as only_identity_policies.
	Reason string         `json:"reason"`
	Policy *policyRefJSON `json:"policy"`
	// Rule is the rule that decided, such as "any valid service token".
	Rule            string          `json:"rule"`
	Detail          string          `json:"detail"`
	SingleHeader    string          `json:"single_header"`
	ClientDependent bool            `json:"client_dependent"`
	Probes          []appProbeJSON  `json:"probes,omitempty"`
	IfAuthenticated *appVerdictJSON `json:"if_authenticated,omitempty"`
}

type policyRefJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Decision string `json:"decision"`
	Reusable bool   `json:"reusable"`
}

// appProbeJSON is one live request of --probe.
type appProbeJSON struct {
	URL         string `json:"url"`
	Class       string `json:"class"`
	Status      int    `json:"status"`
	Agreement   string `json:"agreement"`
	Explanation string `json:"explanation,omitempty"`
}

func (app *App) appsReportJSON(setup *accessSetup, subject tokenSubject,
	verdicts []appVerdict) appsReportJSON {
	report := appsReportJSON{ClientID: subject.clientID, Notes: append([]string{},
		setup.notes...), Applications: []appVerdictJSON{}}
	if tok := subject.token; tok != nil {
		view := newTokenJSON(*tok, app.Now(), !subject.secret.IsZero())
		report.Token = &view
	}
	if setup.strictKnown {
		report.StrictMode = &setup.strict
	}
	for _, verdict := range verdicts {
		report.Applications = append(report.Applications, newAppVerdictJSON(verdict))
	}
	return report
}

func newAppVerdictJSON(verdict appVerdict) appVerdictJSON {
	p := verdict.prediction
	view := verdictJSON(verdict.app, p.Verdict)
	view.SingleHeader, view.ClientDependent = p.SingleHeader, p.ClientDependent
	if p.IfAuthenticated != nil {
		next := verdictJSON(verdict.app, *p.IfAuthenticated)
		next.Destinations = nil
		view.IfAuthenticated = &next
	}
	for _, probed := range verdict.probes {
		view.Probes = append(view.Probes, appProbeJSON{URL: probed.result.Target.URL,
			Class: string(probed.result.Class), Status: probed.result.Status,
			Agreement: string(probed.agreement), Explanation: probed.explanation})
	}
	return view
}

func verdictJSON(app *access.Application, v access.Verdict) appVerdictJSON {
	view := appVerdictJSON{ID: app.ID, Name: app.Name, Domain: app.Domain,
		Destinations: destinationsOf(app), Verdict: string(v.Outcome),
		Admitted: v.Outcome == access.Admitted || v.Outcome == access.Bypassed,
		Status:   v.Status, Reason: string(v.Reason), Rule: v.Rule, Detail: v.Detail}
	if view.Destinations == nil {
		view.Destinations = []string{}
	}
	if p := v.Policy; p != nil {
		view.Policy = &policyRefJSON{ID: p.ID, Name: p.Name, Decision: string(p.Decision),
			Reusable: p.Reusable}
	}
	return view
}

// countText is "3 applications" or "1 application".
func countText(n int, noun string) string {
	return strconv.Itoa(n) + " " + plural(n, noun, noun+"s")
}
