package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/probe"
)

// checkApplications counts the applications whose policies let the token through,
// taking the token as valid: the credentials check already judged it.
func (run *doctorRun) checkApplications(ctx context.Context) {
	if run.subject == nil || run.subject.token == nil {
		return
	}
	setup, err := loadAccessSetup(ctx, run.client)
	if err != nil {
		run.add(checkApplications, "cannot check: "+firstLine(err.Error()), checkWarn,
			hintOf(err))
		return
	}
	run.setup = setup
	var names []string
	for i := range setup.apps {
		if admits(run.predictValid(&setup.apps[i])) {
			names = append(names, setup.apps[i].Name)
		}
	}
	if len(names) == 0 {
		run.add(checkApplications, fmt.Sprintf("none of the %s lets the token through",
			countText(len(setup.apps), "application")), checkWarn, run.grantFix())
		return
	}
	run.pass(checkApplications, "%d of %d let the token through: %s", len(names),
		len(setup.apps), strings.Join(names, ", "))
}

// predictValid is the edge's answer for app to the token of .env, taken as valid.
func (run *doctorRun) predictValid(app *access.Application) access.Prediction {
	facts := access.TokenFacts{ID: run.subject.token.ID}
	return access.Predict(app, run.setup.groups, facts, run.setup.strict)
}

func (run *doctorRun) grantFix() string {
	return "'cfst apps' says why; 'cfst grant APP --token " + run.subject.ref() +
		"' adds the token to one"
}

// checkSecret proves the secret with one live request, the way apps --probe does, to an
// application whose policies admit the token: the API vouches for the client id only,
// so a wrong secret passes every other check. Bypass applications prove nothing, since
// they let any request through.
func (run *doctorRun) checkSecret(ctx context.Context, conn connectionOptions) {
	if !run.usable {
		return
	}
	if run.setup == nil {
		run.add(checkSecret, "not checked: the applications could not be read", checkWarn,
			"fix the applications check, then run 'cfst doctor' again")
		return
	}
	appIndex, sample, found := run.secretTarget()
	if !found {
		run.add(checkSecret, "not checked: no application with a hostname admits the "+
			"token through a Service Auth policy, so no request can prove the secret",
			checkWarn, run.grantFix())
		return
	}
	client, err := run.app.httpClient(conn)
	if err != nil {
		run.add(checkSecret, "not checked: "+firstLine(err.Error()), checkWarn, hintOf(err))
		return
	}
	prober := &probe.Prober{Client: client, Timeout: run.app.Timeout, Now: run.app.Now}
	target := probe.Target{Name: sample.Host + sample.Path,
		URL: "https://" + sample.Host + sample.Path}
	creds := probe.Credentials{ClientID: run.subject.clientID, Secret: run.subject.secret}
	result := prober.RunAll(ctx, []probe.Target{target}, creds)[0]
	run.judgeSecret(run.predictValid(&run.setup.apps[appIndex]), result)
}

// secretTarget picks the application and request for the secret check: the first that
// admits the token, preferring one whose verdict no address or country rule can change.
func (run *doctorRun) secretTarget() (int, access.HostPath, bool) {
	fallback, fallbackSample, found := -1, access.HostPath{}, false
	for i := range run.setup.apps {
		prediction := run.predictValid(&run.setup.apps[i])
		samples := access.SampleRequests(run.setup.apps, i)
		if prediction.Outcome != access.Admitted || len(samples) == 0 {
			continue
		}
		if !prediction.ClientDependent {
			return i, samples[0], true
		}
		if !found {
			fallback, fallbackSample, found = i, samples[0], true
		}
	}
	return fallback, fallbackSample, found
}

// judgeSecret reads the live answer as apps --probe does: the policies admit the token,
// so a refusal means the edge did not accept the secret.
func (run *doctorRun) judgeSecret(prediction access.Prediction, result probe.Result) {
	where := "https://" + result.Target.Name
	verdict := compareProbe(prediction, *run.subject, result, run.app.Now())
	switch {
	case verdict.agreement == probeAgrees:
		run.pass(checkSecret, "the edge accepted the credentials (from %s) at %s (%s, HTTP "+
			"%d)", run.source, where, result.Class, result.Status)
	case verdict.agreement == probeUnconfirmed:
		run.add(checkSecret, "not confirmed: "+verdict.explanation, checkWarn, result.Hint)
	case prediction.ClientDependent:
		run.add(checkSecret, "not confirmed: "+verdict.explanation, checkWarn,
			"run 'cfst apps --probe' from a client the address and country rules admit")
	default:
		ref := run.subject.ref()
		run.add(checkSecret, "the edge refused the credentials (from "+run.source+") at "+
			where+": "+verdict.explanation, checkFail,
			"put back the secret "+run.source+" held when the token was created or last "+
				"rotated, or get a new one with 'cfst rotate "+ref+"' (then update every "+
				"other place that holds the old one)")
	}
}
