package access

import (
	"fmt"
	"net/http"
)

// Evaluate decides what the Access edge does with one request to app, resolving group
// references through groups. strict is the organization's strict service token
// authentication setting. A nil app counts as an application without policies.
//
// Policies run in EvaluationOrder. A matching Bypass policy lets the request through, a
// matching Service Auth policy admits it, and a matching Block policy refuses it with 403.
// Allow policies never admit: they need an identity provider login, which a service-token
// request does not have. When nothing decides:
//   - strict mode with credentials: 401 if the token does not authenticate, else 403;
//   - otherwise: a 302 to the login page when the app has an Allow policy, else 403, or
//     401 when the app sets ServiceAuth401Redirect.
//
// A Bypass or Service Auth policy whose rules match decides before the strict-mode check,
// even for a token that does not authenticate: such a policy matched on something else
// (an address, a country, everyone). Cloudflare does not document this case.
func Evaluate(app *Application, groups []Group, req Request, strict bool) Verdict {
	if app == nil {
		app = &Application{}
	}
	rc := newRuleContext(groups, req)
	for _, i := range evaluationIndexes(app.Policies) {
		if verdict, decided := rc.decide(&app.Policies[i]); decided {
			return verdict
		}
	}
	verdict := rc.explain(app)
	verdict.Outcome, verdict.Status = refusal(app, req.Credentials, strict)
	return verdict
}

// decide returns the verdict of one policy when its rules match the request.
func (rc *ruleContext) decide(policy *Policy) (Verdict, bool) {
	if policy.Decision == DecisionAllow {
		return Verdict{}, false
	}
	result := rc.checkPolicy(policy)
	if !result.passed() {
		return Verdict{}, false
	}
	rule := rc.describe(policy.Include[result.include])
	verdict := Verdict{Policy: policy, Rule: rule}
	switch policy.Decision {
	case DecisionNonIdentity:
		verdict.Outcome = Admitted
		verdict.Detail = fmt.Sprintf("policy %q admits it: %s", policyLabel(policy), rule)
	case DecisionBypass:
		verdict.Outcome = Bypassed
		verdict.Detail = fmt.Sprintf("policy %q bypasses Access: %s", policyLabel(policy), rule)
	case DecisionDeny:
		verdict.Outcome, verdict.Status = Forbidden, http.StatusForbidden
		verdict.Reason = ReasonBlocked
		verdict.Detail = fmt.Sprintf("policy %q blocks it: %s", policyLabel(policy), rule)
	default:
		return Verdict{}, false
	}
	return verdict, true
}

// refusal picks the edge's answer when no policy decided (fact sheet §3.2 and §3.3).
func refusal(app *Application, credentials CredentialState, strict bool) (Outcome, int) {
	switch {
	case strict && credentials == InvalidToken:
		return Unauthenticated, http.StatusUnauthorized
	case strict && credentials == ValidToken:
		return Forbidden, http.StatusForbidden
	case hasDecision(app.Policies, DecisionAllow):
		// An identity login could still pass an Allow policy. Whether
		// service_auth_401_redirect turns this redirect into a 401 as well is not
		// documented; cfst assumes it does not, as the fact sheet's table reads.
		return LoginRedirect, http.StatusFound
	case app.ServiceAuth401Redirect:
		return Unauthenticated, http.StatusUnauthorized
	default:
		return Forbidden, http.StatusForbidden
	}
}

// explain says why no policy admitted the request. Credentials come first: without a
// token that authenticates, no Service Auth policy could have named it.
func (rc *ruleContext) explain(app *Application) Verdict {
	switch rc.req.Credentials {
	case NoCredentials:
		return Verdict{Reason: ReasonNoCredentials,
			Detail: "the request presented no service token"}
	case InvalidToken:
		return Verdict{Reason: ReasonTokenInvalid, Detail: "the service token does not " +
			"authenticate: unknown client id, wrong secret, expired or disabled"}
	}
	if len(app.Policies) == 0 {
		return Verdict{Reason: ReasonNoPolicies, Detail: "the application has no policies"}
	}
	if verdict, found := rc.nearMiss(app); found {
		return verdict
	}
	return rc.explainMissing(app)
}

// nearMiss finds the first Service Auth policy whose include matched the request although
// an exclude or a require turned it away.
func (rc *ruleContext) nearMiss(app *Application) (Verdict, bool) {
	for _, i := range evaluationIndexes(app.Policies) {
		policy := &app.Policies[i]
		if policy.Decision != DecisionNonIdentity {
			continue
		}
		result := rc.checkPolicy(policy)
		if !result.included() {
			continue
		}
		name := policyLabel(policy)
		switch {
		case result.exclude >= 0:
			rule := rc.describe(policy.Exclude[result.exclude])
			return Verdict{Policy: policy, Rule: rule, Reason: ReasonExcluded,
				Detail: fmt.Sprintf("policy %q excludes it: %s", name, rule)}, true
		case result.require >= 0:
			rule := rc.describe(policy.Require[result.require])
			return Verdict{Policy: policy, Rule: rule, Reason: ReasonRequireNotMet,
				Detail: fmt.Sprintf("policy %q includes it but requires %s", name, rule)}, true
		}
	}
	return Verdict{}, false
}

// explainMissing says which kind of policy the application lacks for this token.
func (rc *ruleContext) explainMissing(app *Application) Verdict {
	hint := rc.allowHint(app)
	policies := app.Policies
	switch {
	case hasDecision(policies, DecisionNonIdentity) || hasDecision(policies, DecisionBypass):
		return Verdict{Reason: ReasonNoMatchingRule,
			Detail: "no Service Auth or Bypass policy includes this token" + hint}
	case hasDecision(policies, DecisionAllow):
		return Verdict{Reason: ReasonOnlyIdentityPolicies, Detail: "the application has no " +
			"Service Auth policy; Allow policies need an identity provider login" + hint}
	default:
		return Verdict{Reason: ReasonNoServiceAuthPolicy,
			Detail: "the application has no Service Auth, Bypass or Allow policy"}
	}
}

// allowHint points at an Allow policy that names the token, the classic mistake of
// choosing Allow where Service Auth was meant. It returns "" when there is none.
func (rc *ruleContext) allowHint(app *Application) string {
	for _, i := range evaluationIndexes(app.Policies) {
		policy := &app.Policies[i]
		if policy.Decision != DecisionAllow {
			continue
		}
		for _, rule := range policy.Include {
			if namesToken(rule) && rc.matches(rule, groupStack{}) {
				return fmt.Sprintf("; policy %q names it but is an Allow policy "+
					"(set its action to Service Auth)", policyLabel(policy))
			}
		}
	}
	return ""
}

// namesToken reports whether a rule selects service tokens directly.
func namesToken(rule Rule) bool {
	return rule.ServiceToken != nil || rule.AnyValidServiceToken != nil
}

// hasDecision reports whether some policy has the decision.
func hasDecision(policies []Policy, decision Decision) bool {
	for _, policy := range policies {
		if policy.Decision == decision {
			return true
		}
	}
	return false
}

// policyLabel names a policy for operators: its name, or its id when it has none.
func policyLabel(policy *Policy) string {
	if policy.Name != "" {
		return policy.Name
	}
	return policy.ID
}
