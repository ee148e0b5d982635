package access

import "fmt"

// TokenFacts is what the API says about a service token, for Predict. The secret is not
// part of it: a prediction assumes the client sends the token's current secret.
type TokenFacts struct {
	// ID is the token's id; "" when no token has the client id the client sends.
	ID string
	// Problem says why the token cannot authenticate, such as "disabled" or "expired";
	// "" when it can.
	Problem string
}

// Prediction is what Predict expects the edge to do with a request.
type Prediction struct {
	Verdict
	// Credentials is how the edge sees the request's credentials.
	Credentials CredentialState
	// SingleHeader is the application's read_service_tokens_from_header, when it has
	// one: the edge then ignores the standard headers, or refuses them in strict mode.
	SingleHeader string
	// ClientDependent is set when a policy or group of the application has an ip or
	// country rule. Predict takes the client to match none of them; a client that
	// matches one may be treated otherwise.
	ClientDependent bool
	// IfAuthenticated is the verdict for the same token, valid and sent where the
	// application reads it, when the prediction is a refusal for credentials alone
	// (ReasonTokenInvalid or ReasonHeaderIgnored); nil otherwise. It says whether
	// fixing the credentials is enough.
	IfAuthenticated *Verdict
}

// ReasonHeaderIgnored says the application reads credentials from a single header, so
// the standard CF-Access-Client-* headers were ignored (or refused, in strict mode).
const ReasonHeaderIgnored Reason = "standard_headers_ignored"

// Predict says what the edge does with a request for app that carries the token's
// credentials in the standard CF-Access-Client-Id and CF-Access-Client-Secret headers.
// It builds the request the edge would see and calls Evaluate, as the edge does, so a
// prediction and the emulator's edge cannot disagree about policies:
//   - a token without a problem is ValidToken, any other (unknown, expired, disabled)
//     InvalidToken (fact sheet §3.2: Access has no distinct "invalid token" answer);
//   - when the application reads credentials from a single header, the standard
//     headers count as absent, or as invalid in strict mode (§3.1, §3.3);
//   - the client's address and country are unknown and match no ip or country rule.
func Predict(app *Application, groups []Group, token TokenFacts, strict bool) Prediction {
	if app == nil {
		app = &Application{}
	}
	valid := Request{Credentials: ValidToken, TokenID: token.ID}
	sent := valid
	if token.ID == "" || token.Problem != "" {
		sent = Request{Credentials: InvalidToken}
	}
	prediction := Prediction{SingleHeader: app.ReadServiceTokensFromHeader,
		ClientDependent: usesClientRules(app, groups)}
	if prediction.SingleHeader != "" {
		sent = Request{Credentials: NoCredentials}
		if strict {
			sent.Credentials = InvalidToken
		}
	}
	prediction.Credentials = sent.Credentials
	prediction.Verdict = Evaluate(app, groups, sent, strict)
	if token.ID != "" && prediction.refusedForCredentials() {
		ifValid := Evaluate(app, groups, valid, strict)
		prediction.IfAuthenticated = &ifValid
	}
	prediction.explainCredentials(token, strict)
	return prediction
}

// refusedForCredentials reports whether the verdict refused the request before looking
// at what the policies say about the token.
func (p *Prediction) refusedForCredentials() bool {
	admitted := p.Outcome == Admitted || p.Outcome == Bypassed
	return !admitted && (p.Reason == ReasonTokenInvalid || p.Reason == ReasonNoCredentials)
}

// explainCredentials rewrites the detail of a refusal that the credentials caused, so it
// names the actual cause rather than what the edge saw.
func (p *Prediction) explainCredentials(token TokenFacts, strict bool) {
	if !p.refusedForCredentials() {
		return
	}
	switch {
	case p.SingleHeader != "":
		p.Reason = ReasonHeaderIgnored
		p.Detail = fmt.Sprintf("the application reads credentials only from the %s header "+
			"(a JSON object), so the standard CF-Access-Client-* headers are %s",
			p.SingleHeader, map[bool]string{false: "ignored", true: "refused"}[strict])
	case token.ID == "":
		p.Detail = "no service token has this client id"
	default:
		p.Detail = "the service token cannot authenticate: " + token.Problem
	}
	if next := p.IfAuthenticated; next != nil {
		p.Detail += "; " + afterFix(*next)
	}
}

// afterFix says what the policies do once the credentials are fixed.
func afterFix(verdict Verdict) string {
	switch verdict.Outcome {
	case Admitted:
		return "once it authenticates there, " + verdict.Detail
	case Bypassed:
		return verdict.Detail
	}
	return "even then it would not be admitted: " + verdict.Detail
}

// usesClientRules reports whether a policy of app, or a group one refers to, has an ip or
// country selector.
func usesClientRules(app *Application, groups []Group) bool {
	byID := make(map[string]*Group, len(groups))
	for i := range groups {
		byID[groups[i].ID] = &groups[i]
	}
	seen := map[string]bool{}
	var anyClientRule func(rules ...[]Rule) bool
	anyClientRule = func(sets ...[]Rule) bool {
		for _, rules := range sets {
			for _, rule := range rules {
				switch {
				case rule.IP != nil || rule.Geo != nil:
					return true
				case rule.Group != nil && !seen[rule.Group.ID] && byID[rule.Group.ID] != nil:
					seen[rule.Group.ID] = true
					g := byID[rule.Group.ID]
					if anyClientRule(g.Include, g.Exclude, g.Require) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, policy := range app.Policies {
		if anyClientRule(policy.Include, policy.Exclude, policy.Require) {
			return true
		}
	}
	return false
}
