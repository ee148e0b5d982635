package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/probe"
)

// probeAgreement says how a live request compares with the verdict of apps.
type probeAgreement string

const (
	probeAgrees      probeAgreement = "agrees"
	probeDisagrees   probeAgreement = "disagrees"
	probeUnconfirmed probeAgreement = "unconfirmed" // no answer from Access to compare
)

// appProbe is one live request of `cfst apps --probe`.
type appProbe struct {
	result    probe.Result
	agreement probeAgreement
	// explanation says what a disagreement most likely means.
	explanation string
}

// probeVerdicts sends one request per application hostname with the subject's
// credentials and compares each answer with the application's verdict.
func (app *App) probeVerdicts(ctx context.Context, conn connectionOptions, setup *accessSetup,
	subject tokenSubject, verdicts []appVerdict) error {
	client, err := app.httpClient(conn)
	if err != nil {
		return err
	}
	var targets []probe.Target
	var owners []int
	for i := range setup.apps {
		for _, sample := range access.SampleRequests(setup.apps, i) {
			targets = append(targets, probe.Target{Name: sample.Host + sample.Path,
				URL: "https://" + sample.Host + sample.Path})
			owners = append(owners, i)
		}
	}
	prober := &probe.Prober{Client: client, Timeout: app.Timeout, Now: app.Now}
	creds := probe.Credentials{ClientID: subject.clientID, Secret: subject.secret}
	for _, result := range prober.RunAll(ctx, targets, creds) {
		verdict := &verdicts[owners[result.Index]]
		verdict.probes = append(verdict.probes, compareProbe(verdict.prediction, subject,
			result, app.Now()))
	}
	return ctx.Err()
}

// classesFor lists the probe classes that agree with a predicted outcome. Admitted and
// bypassed requests reach the origin, whatever it answers.
func classesFor(outcome access.Outcome) []probe.Class {
	switch outcome {
	case access.Admitted, access.Bypassed:
		return []probe.Class{probe.ClassOK, probe.ClassBackendDown, probe.ClassTunnelDown,
			probe.ClassUnexpectedStatus}
	case access.LoginRedirect:
		return []probe.Class{probe.ClassLoginRedirect}
	case access.Unauthenticated:
		return []probe.Class{probe.ClassUnauthenticated}
	}
	return []probe.Class{probe.ClassForbidden}
}

// compareProbe judges one live answer against the prediction.
func compareProbe(prediction access.Prediction, subject tokenSubject, result probe.Result,
	now time.Time) appProbe {
	p := appProbe{result: result, agreement: probeAgrees}
	switch {
	case slices.Contains(classesFor(prediction.Outcome), result.Class):
	case result.Class == probe.ClassNetworkError || result.Class == probe.ClassBlockedByWAF ||
		result.Class == probe.ClassNotProtected:
		p.agreement = probeUnconfirmed
		p.explanation = "Access did not answer: " + result.Detail
	default:
		p.agreement = probeDisagrees
		p.explanation = explainDisagreement(prediction, subject, result, now)
	}
	return p
}

// explainDisagreement says what most likely made the edge answer otherwise.
func explainDisagreement(prediction access.Prediction, subject tokenSubject,
	result probe.Result, now time.Time) string {
	got := fmt.Sprintf("the edge answered %s (HTTP %d) where cfst expected %s",
		result.Class, result.Status, prediction.Outcome)
	switch {
	case admits(prediction):
		cause := "the secret in .env is not the token's"
		if tok := subject.token; tok != nil && !tok.PreviousSecretExpiresAt.IsZero() &&
			!tok.PreviousSecretExpiresAt.After(now) {
			cause = "the secret in .env is not the current one: if it is the previous " +
				"secret, its grace period ended at " +
				tok.PreviousSecretExpiresAt.UTC().Format(time.RFC3339)
		}
		return got + ": the policies admit the token, so " + cause +
			" (run 'cfst show " + subject.ref() + "')"
	case prediction.ClientDependent:
		return got + ": a rule on the client's address or country decided"
	}
	return got + ": the application or its policies may have changed; run 'cfst apps' again"
}
