package cli

// Planning `cfst grant` and `cfst ungrant`: pure functions from an application, its
// groups and a token to the change that makes the application admit the token, or undo
// that change. The commands print a plan, ask, and apply it.
//
// The API keeps no record of who added a rule, so grant never edits a policy it did not
// create: it adds a whole Service Auth policy named "cfst: <token name>" that includes
// just the token. That name and shape are the marker ungrant goes by; a policy that lacks
// either (an administrator's, or a cfst policy someone has since edited) is left alone.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/cfst/cfst/internal/access"
)

// cfstPolicyPrefix starts the name of every policy cfst creates, so that ungrant can tell
// them from the account's own.
const cfstPolicyPrefix = "cfst: "

// grantStep says how grant makes an application admit a token.
type grantStep int

const (
	grantNothing      grantStep = iota // the policies already let the token through
	grantAppPolicy                     // create an app-scoped Service Auth policy
	grantNewReusable                   // create a reusable Service Auth policy, attach it
	grantAttachShared                  // attach the reusable policy cfst created before
)

// grantPlan is the change grant proposes for one application and token.
type grantPlan struct {
	step grantStep
	app  *access.Application
	// tokenID and tokenName identify the token the plan admits.
	tokenID, tokenName string
	// policy is the reusable policy to attach (grantAttachShared) or the one to create.
	policy access.Policy
	// before and after are the verdicts for a valid token, now and after the change.
	before, after access.Verdict
}

// tokenRule is the rule grant adds: a Service Auth include of exactly this token.
func tokenRule(tokenID string) access.Rule {
	return access.Rule{ServiceToken: &access.ServiceTokenRule{TokenID: tokenID}}
}

// isTokenRule reports whether rule selects exactly this token and nothing else.
func isTokenRule(rule access.Rule, tokenID string) bool {
	return reflect.DeepEqual(rule, tokenRule(tokenID))
}

// cfstPolicy is the Service Auth policy grant creates for a token.
func cfstPolicy(tokenID, tokenName string) access.Policy {
	return access.Policy{Name: cfstPolicyPrefix + tokenName, Decision: access.DecisionNonIdentity,
		Include: []access.Rule{tokenRule(tokenID)}}
}

// isCfstPolicy reports whether p is a policy grant created for the token and that holds
// nothing else: its name starts with "cfst: " and it is Service Auth with one include,
// the token, and no exclude or require.
func isCfstPolicy(p access.Policy, tokenID string) bool {
	return strings.HasPrefix(p.Name, cfstPolicyPrefix) &&
		p.Decision == access.DecisionNonIdentity && len(p.Include) == 1 &&
		isTokenRule(p.Include[0], tokenID) && len(p.Exclude) == 0 && len(p.Require) == 0
}

// judgeValid is the verdict of app's policies for the token, taken as valid: grant and
// ungrant change policies, not credentials.
func judgeValid(app *access.Application, groups []access.Group, tokenID string) access.Verdict {
	return access.Evaluate(app, groups, access.Request{Credentials: access.ValidToken,
		TokenID: tokenID}, false)
}

// planGrant decides how to make app admit the token. reusable lists the account's
// reusable policies, to reuse the one cfst created for the token before; it is nil when
// there is no account, and so no reusable policies. In order:
//   - the policies let the token through already: nothing to do;
//   - a policy blocks the token, excludes it, or includes it but requires more: refused,
//     since grant does not override what an administrator chose;
//   - the application has app-scoped policies (which Cloudflare does not mix with
//     reusable ones), or there is no account: create an app-scoped Service Auth policy
//     "cfst: <token name>";
//   - otherwise attach the reusable policy "cfst: <token name>", creating it if needed.
func planGrant(app *access.Application, groups []access.Group, tokenID, tokenName string,
	reusable []access.Policy) (grantPlan, error) {
	plan := grantPlan{app: app, tokenID: tokenID, tokenName: tokenName}
	plan.before = judgeValid(app, groups, tokenID)
	switch reason := plan.before.Reason; {
	case plan.before.Outcome == access.Admitted || plan.before.Outcome == access.Bypassed:
		plan.after = plan.before
		return plan, nil
	case !grantable(reason):
		return plan, refuseGrant(app, plan.before)
	}
	plan.policy, plan.step = cfstPolicy(tokenID, tokenName), grantNewReusable
	if hasScopedPolicies(app) || reusable == nil {
		plan.step = grantAppPolicy
	} else if i := slices.IndexFunc(reusable, func(p access.Policy) bool {
		return isCfstPolicy(p, tokenID)
	}); i >= 0 {
		plan.policy, plan.step = reusable[i], grantAttachShared
	}
	plan.policy.Precedence = highestPrecedence(app) + 1
	plan.after = judgeValid(plan.changed(), groups, tokenID)
	if plan.after.Outcome != access.Admitted {
		return plan, refuseGrant(app, plan.after)
	}
	return plan, nil
}

// refuseGrant is the error of a grant that a policy's choice keeps from admitting the
// token, as verdict explains.
func refuseGrant(app *access.Application, verdict access.Verdict) error {
	return withCode(ExitRefused, fmt.Errorf("application %q: %s", app.Name, verdict.Detail),
		"cfst grant does not override Block policies, exclude or require rules; change "+
			"that policy if the token should get in")
}

// changed returns a copy of the application as the plan leaves it.
func (plan *grantPlan) changed() *access.Application {
	app := *plan.app
	app.Policies = slices.Clone(app.Policies)
	if plan.step != grantNothing {
		app.Policies = append(app.Policies, plan.policy)
	}
	return &app
}

// hasScopedPolicies reports whether the application has app-scoped (legacy) policies.
func hasScopedPolicies(app *access.Application) bool {
	return slices.ContainsFunc(app.Policies, func(p access.Policy) bool { return !p.Reusable })
}

func highestPrecedence(app *access.Application) int {
	highest := 0
	for _, p := range app.Policies {
		highest = max(highest, p.Precedence)
	}
	return highest
}

// ungrantStep is one change of an ungrant plan.
type ungrantStep struct {
	kind   ungrantKind
	policy access.Policy
}

type ungrantKind int

const (
	ungrantDeleteScoped ungrantKind = iota // delete cfst's app-scoped policy
	ungrantDetach                          // detach cfst's reusable policy
	ungrantDetachDelete                    // detach it and delete it: no other app uses it
)

// ungrantPlan is what ungrant changes on one application, and what it leaves alone.
type ungrantPlan struct {
	app     *access.Application
	tokenID string
	steps   []ungrantStep
	// kept lists, for people, the policies that name the token but that ungrant leaves.
	kept []string
	// after is the verdict for a valid token once the steps are done.
	after access.Verdict
}

// planUngrant undoes grant on app: it deletes cfst's app-scoped policy for the token,
// and detaches cfst's reusable policy for it, deleting that too when no other
// application in apps uses it. Every other policy stays as it is, even one that names
// the token: nothing in the API says whether grant put the token there.
func planUngrant(app *access.Application, apps []access.Application, groups []access.Group,
	tokenID string) ungrantPlan {
	plan := ungrantPlan{app: app, tokenID: tokenID}
	for _, p := range app.Policies {
		switch {
		case isCfstPolicy(p, tokenID) && !p.Reusable:
			plan.steps = append(plan.steps, ungrantStep{ungrantDeleteScoped, p})
		case isCfstPolicy(p, tokenID) && usedElsewhere(apps, app.ID, p.ID):
			plan.steps = append(plan.steps, ungrantStep{ungrantDetach, p})
		case isCfstPolicy(p, tokenID):
			plan.steps = append(plan.steps, ungrantStep{ungrantDetachDelete, p})
		case namesTokenDirectly(p, tokenID):
			plan.kept = append(plan.kept, fmt.Sprintf("policy %q: cfst did not create it "+
				"for this token; edit it yourself if the token should not be there", p.Name))
		}
	}
	plan.after = judgeValid(plan.changed(), groups, tokenID)
	return plan
}

// namesTokenDirectly reports whether an include rule of p selects exactly the token.
func namesTokenDirectly(p access.Policy, tokenID string) bool {
	return slices.ContainsFunc(p.Include, func(r access.Rule) bool {
		return isTokenRule(r, tokenID)
	})
}

// usedElsewhere reports whether an application other than appID uses the policy.
func usedElsewhere(apps []access.Application, appID, policyID string) bool {
	for _, other := range apps {
		if other.ID != appID && slices.ContainsFunc(other.Policies, func(p access.Policy) bool {
			return p.ID == policyID
		}) {
			return true
		}
	}
	return false
}

// changed returns a copy of the application as the plan leaves it: without the
// policies the steps remove.
func (plan *ungrantPlan) changed() *access.Application {
	app := *plan.app
	app.Policies = slices.DeleteFunc(slices.Clone(plan.app.Policies), func(p access.Policy) bool {
		return slices.ContainsFunc(plan.steps, func(s ungrantStep) bool {
			return s.policy.ID == p.ID
		})
	})
	return &app
}
