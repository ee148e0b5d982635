package cli

// Policy hints for `cfst test`: when a target refuses the token (login_redirect,
// forbidden, unauthenticated) and the API is configured, the hint names the Access
// application that matched and what its policies do with the token, instead of listing
// every possible cause. It is wired in through the prober's hook:
//
//	prober.Annotate = app.policyAnnotator(ctx)
//
// Without an API token, or when the API fails, hints stay as they are; debug output says
// why.

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/probe"
)

// policyAnnotator returns a probe.Prober.Annotate hook that rewrites the hint of every
// login_redirect, forbidden and unauthenticated result to name the matched application
// and the policy cause. The API is read once, on the first refused result, so a run
// where every target passes costs no API request. The hook is safe for concurrent use.
func (app *App) policyAnnotator(ctx context.Context) func(*probe.Result) {
	hinter := &policyHinter{app: app, ctx: ctx}
	return hinter.annotate
}

// policyHinter holds what the hints need, read from the API on first use.
type policyHinter struct {
	app  *App
	ctx  context.Context
	once sync.Once

	setup   *accessSetup
	subject tokenSubject
	ready   bool
}

// policyHintBudget bounds the API reads of the hints, retries included, so that an API
// that is down or slow delays a failing run by this much at most.
const policyHintBudget = 10 * time.Second

// load reads the token and the account's applications and policies, within
// policyHintBudget; on failure the hints stay generic.
func (h *policyHinter) load() {
	client, err := h.app.accessClient()
	if err != nil {
		h.app.debugf("no policy hints: %s", firstLine(err.Error()))
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, policyHintBudget)
	defer cancel()
	if h.subject, err = h.app.resolveSubject(ctx, client, ""); err != nil {
		h.app.debugf("no policy hints: %s", firstLine(err.Error()))
		return
	}
	if h.setup, err = loadAccessSetup(ctx, client); err != nil {
		h.app.debugf("no policy hints: %s", firstLine(err.Error()))
		return
	}
	h.ready = true
}

// annotate rewrites one result's hint, when it is a refusal and the API could be read.
func (h *policyHinter) annotate(result *probe.Result) {
	switch result.Class {
	case probe.ClassLoginRedirect, probe.ClassForbidden, probe.ClassUnauthenticated:
	default:
		return
	}
	h.once.Do(h.load)
	if !h.ready {
		return
	}
	if hint := h.hintFor(result); hint != "" {
		result.Hint = h.app.secrets.Scrub(hint)
	}
}

// hintFor explains a refusal from the matched application's policies, or returns ""
// when nothing better than the generic hint can be said.
func (h *policyHinter) hintFor(result *probe.Result) string {
	target, err := url.Parse(result.Target.URL)
	if err != nil {
		return ""
	}
	matched, _, ok := access.Match(h.setup.apps, target.Hostname(), target.EscapedPath())
	if !ok {
		return fmt.Sprintf("no Access application of this account covers %s%s; the "+
			"answer came from another account or a rule outside Access (%s)",
			target.Hostname(), target.EscapedPath(), result.Hint)
	}
	prediction := h.setup.predict(matched, h.subject, h.app.Now())
	where := fmt.Sprintf("application %q (%s) matched", matched.Name, matched.Domain)
	token := h.subject.ref()
	switch {
	case admits(prediction):
		return fmt.Sprintf("%s and %s, so the edge refused the credentials themselves: "+
			"the secret is wrong, or it is the previous secret and its grace period ended "+
			"(run 'cfst show %s')", where, prediction.Detail, token)
	case grantable(prediction.Reason):
		return fmt.Sprintf("%s; it has no Service Auth policy that admits token %q: %s "+
			"(run 'cfst grant %s --token %s')", where, h.subject.name(), prediction.Detail,
			appRef(matched), token)
	case prediction.Reason == access.ReasonTokenInvalid && h.subject.token != nil:
		return fmt.Sprintf("%s; %s (run 'cfst show %s')", where, prediction.Detail, token)
	}
	return where + "; " + prediction.Detail
}
