package cli

// This file reads an account's Access configuration and judges one service token against
// it, for apps, grant, ungrant, doctor and the hints of test:
//
//	app.accessClient()                 an API client that sees account and zone scope
//	loadAccessSetup(ctx, client)       applications, groups and strict mode
//	app.resolveSubject(ctx, client, ref)   the token to judge: --token, or the one in .env
//	setup.predict(app, subject, now)   what the edge will do with the token's request

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// accessClient is app.apiClient widened to both scopes Access applications live in: the
// account (--account, else CLOUDFLARE_ACCOUNT_ID) and the zone (--zone, else
// CLOUDFLARE_ZONE_ID). It reads applications and groups from each scope it knows, and
// service tokens from the account when there is one, else from the zone.
func (app *App) accessClient() (*cloudflare.Client, error) {
	client, err := app.apiClient()
	if err != nil {
		return nil, err
	}
	accountID, zoneID := client.AccountID(), client.ZoneID()
	if accountID == "" {
		if accountID, _, err = app.setting(cloudflare.EnvAccountID); err != nil {
			return nil, err
		}
	}
	if zoneID == "" {
		if zoneID, _, err = app.setting(cloudflare.EnvZoneID); err != nil {
			return nil, err
		}
	}
	if accountID == client.AccountID() && zoneID == client.ZoneID() {
		return client, nil
	}
	return app.scopedClient(accountID, zoneID)
}

// scopedClient is an API client like app.apiClient's, for these scopes.
func (app *App) scopedClient(accountID, zoneID string) (*cloudflare.Client, error) {
	settings, err := app.resolveAPISettings()
	if err != nil {
		return nil, err
	}
	httpClient, err := app.httpClient(connectionOptions{})
	if err != nil {
		return nil, err
	}
	client, err := cloudflare.New(cloudflare.Config{
		APIToken: settings.Token, AccountID: accountID, ZoneID: zoneID,
		BaseURL: settings.BaseURL, HTTPClient: httpClient, Timeout: app.Timeout,
	})
	return client, apiError(err)
}

// accessSetup is what cfst read of an account's Access configuration.
type accessSetup struct {
	apps   []access.Application
	groups []access.Group
	// strict is the organization's strict service token authentication; strictKnown is
	// false when the organization could not be read, and strict is then taken as off.
	strict      bool
	strictKnown bool
	// notes say what could not be read and what was assumed instead, for stderr.
	notes []string
}

// loadAccessSetup reads the applications of every scope with their policies, the Access
// groups and the organization's strict mode. Only the applications are essential: groups
// and the organization that the API token may not read become notes.
func loadAccessSetup(ctx context.Context, client *cloudflare.Client) (*accessSetup, error) {
	apps, err := client.ListApplications(ctx)
	if err != nil {
		return nil, apiError(err)
	}
	setup := &accessSetup{apps: apps}
	if err := setup.completePolicies(ctx, client); err != nil {
		return nil, err
	}
	groups, err := client.ListGroups(ctx)
	switch {
	case err == nil:
		setup.groups = groups
	case !optionalRead(err):
		return nil, apiError(err)
	case setup.refersToGroups():
		setup.notes = append(setup.notes, "cannot read Access groups ("+firstLine(err.Error())+
			"); group rules count as not matching")
	}
	org, err := client.GetOrganization(ctx)
	switch {
	case err == nil && org.StrictServiceTokenAuth != nil:
		setup.strict, setup.strictKnown = *org.StrictServiceTokenAuth, true
	case err == nil:
		setup.notes = append(setup.notes, "the API does not say whether strict mode is on; "+
			"assuming off")
	case optionalRead(err):
		setup.notes = append(setup.notes, "strict mode unknown ("+firstLine(err.Error())+
			"); assuming off")
	default:
		return nil, apiError(err)
	}
	return setup, nil
}

// optionalRead reports whether a failed read of groups or the organization may be worked
// around: the API token lacks the permission, or the API has no such endpoint.
func optionalRead(err error) bool {
	kind := cloudflare.KindOf(err)
	return kind == cloudflare.KindPermission || kind == cloudflare.KindNotFound ||
		kind == cloudflare.KindInvalid
}

// completePolicies fetches the policies of applications whose listing did not carry
// them in full (a policy without a decision), so evaluation never runs on a stub.
func (s *accessSetup) completePolicies(ctx context.Context, client *cloudflare.Client) error {
	for i := range s.apps {
		app := &s.apps[i]
		complete := true
		for _, p := range app.Policies {
			complete = complete && p.Decision != ""
		}
		if complete {
			continue
		}
		policies, err := client.ListAppPolicies(ctx, app.ID)
		if err != nil {
			return apiError(err)
		}
		app.Policies = policies
	}
	return nil
}

// refersToGroups reports whether some policy has a group rule.
func (s *accessSetup) refersToGroups() bool {
	for _, app := range s.apps {
		for _, p := range app.Policies {
			for _, rules := range [][]access.Rule{p.Include, p.Exclude, p.Require} {
				for _, rule := range rules {
					if rule.Group != nil {
						return true
					}
				}
			}
		}
	}
	return false
}

// strictText says "on", "off" or "unknown (assumed off)".
func (s *accessSetup) strictText() string {
	switch {
	case !s.strictKnown:
		return "unknown (assumed off)"
	case s.strict:
		return "on"
	}
	return "off"
}

// tokenSubject is the service token a command judges.
type tokenSubject struct {
	clientID string
	// token is what the API says about it; nil when no token has the client id.
	token *cloudflare.Token
	// secret is the client secret when cfst has it (the token of .env), else zero.
	secret secret.Secret
}

// name is the token's name, or its client id when the API does not know it.
func (s tokenSubject) name() string {
	if s.token != nil {
		return s.token.Name
	}
	return s.clientID
}

// ref is how a command line names the token: its name when that is unambiguous enough
// to paste, else its id.
func (s tokenSubject) ref() string {
	if s.token == nil {
		return s.clientID
	}
	if shellSafe(s.token.Name) {
		return s.token.Name
	}
	return s.token.ID
}

// resolveSubject finds the token ref names (an id, client id or name), or, when ref is
// empty, the token whose credentials .env holds under --prefix. A client id from .env
// that the API does not know is not an error: the subject then has no token.
func (app *App) resolveSubject(ctx context.Context, client *cloudflare.Client, ref string,
) (tokenSubject, error) {
	if ref != "" {
		tok, err := app.resolveAnyScope(ctx, client, ref)
		if err != nil {
			return tokenSubject{}, apiError(err)
		}
		subject := tokenSubject{clientID: tok.ClientID, token: &tok}
		if clientID, clientSecret, _, err := app.credentials(); err == nil &&
			clientID == tok.ClientID {
			subject.secret = clientSecret
		}
		return subject, nil
	}
	clientID, clientSecret, _, err := app.credentials()
	if err != nil {
		return tokenSubject{}, err
	}
	subject := tokenSubject{clientID: clientID, secret: clientSecret}
	tok, err := app.resolveAnyScope(ctx, client, clientID)
	switch {
	case err == nil:
		subject.token = &tok
	case cloudflare.KindOf(err) != cloudflare.KindNotFound:
		return tokenSubject{}, apiError(err)
	}
	return subject, nil
}

// resolveAnyScope finds the token ref names where client keeps service tokens (the
// account, when it has one), and then, when the client has a zone too, among the zone's
// own tokens. The error is the first scope's.
func (app *App) resolveAnyScope(ctx context.Context, client *cloudflare.Client, ref string,
) (cloudflare.Token, error) {
	tok, err := client.ResolveToken(ctx, ref)
	if cloudflare.KindOf(err) != cloudflare.KindNotFound || client.AccountID() == "" ||
		client.ZoneID() == "" {
		return tok, err
	}
	zoneClient, zoneErr := app.scopedClient("", client.ZoneID())
	if zoneErr != nil {
		return tok, err
	}
	if zoneTok, zoneErr := zoneClient.ResolveToken(ctx, ref); zoneErr == nil {
		return zoneTok, nil
	}
	return tok, err
}

// facts is what Predict needs to know of the token at now.
func (s tokenSubject) facts(now time.Time) access.TokenFacts {
	if s.token == nil {
		return access.TokenFacts{}
	}
	return access.TokenFacts{ID: s.token.ID, Problem: tokenProblem(*s.token, now)}
}

// tokenProblem says why tok cannot authenticate at now: "disabled", "expired at <time>",
// or "" when it can.
func tokenProblem(tok cloudflare.Token, now time.Time) string {
	switch tokenStateOf(tok, now) {
	case stateDisabled:
		return "disabled"
	case stateExpired:
		return "expired at " + tok.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return ""
}

// predict says what the edge does with a request for app with the subject's credentials.
func (s *accessSetup) predict(app *access.Application, subject tokenSubject,
	now time.Time) access.Prediction {
	return access.Predict(app, s.groups, subject.facts(now), s.strict)
}

// admits reports whether a prediction lets the request through Access.
func admits(prediction access.Prediction) bool {
	return prediction.Outcome == access.Admitted || prediction.Outcome == access.Bypassed
}

// findApp finds the application ref names: its id, its name, or a domain or destination
// it covers as written. A name several applications share is a usage error.
func findApp(apps []access.Application, ref string) (*access.Application, error) {
	var byName []*access.Application
	for i := range apps {
		app := &apps[i]
		if app.ID == ref {
			return app, nil
		}
		if app.Name == ref || coversDomain(app, ref) {
			byName = append(byName, app)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return nil, withCode(ExitNotFound, fmt.Errorf("no Access application is named or "+
			"covers %q", ref), "run 'cfst apps' to list the applications")
	}
	ids := make([]string, 0, len(byName))
	for _, app := range byName {
		ids = append(ids, app.ID)
	}
	return nil, usageError("name the application by its id", "%q matches %d applications: %s",
		ref, len(ids), strings.Join(ids, ", "))
}

// coversDomain reports whether ref is the application's domain or one of its
// destinations, compared without case and without a trailing slash.
func coversDomain(app *access.Application, ref string) bool {
	same := func(domain string) bool {
		return domain != "" && strings.EqualFold(strings.TrimSuffix(domain, "/"),
			strings.TrimSuffix(ref, "/"))
	}
	if same(app.Domain) {
		return true
	}
	for _, d := range app.Destinations {
		if same(d.URI) {
			return true
		}
	}
	return false
}

// appRef is how a command line names the application: its name when that pastes safely
// into a shell, else its id.
func appRef(app *access.Application) string {
	if shellSafe(app.Name) {
		return app.Name
	}
	return app.ID
}

// shellSafe reports whether name can be pasted into a shell command line unquoted.
func shellSafe(name string) bool {
	return name != "" && !strings.HasPrefix(name, "-") &&
		!strings.ContainsAny(name, " \t\n'\"$`\\;&|<>()*?[]{}~#!")
}

// destinationsOf lists the hostnames and paths an application covers.
func destinationsOf(app *access.Application) []string {
	var out []string
	for _, d := range app.Destinations {
		if d.Type == "" || d.Type == "public" {
			out = append(out, d.URI)
		}
	}
	if len(out) > 0 {
		return out
	}
	if app.Domain != "" {
		out = append(out, app.Domain)
	}
	return append(out, app.SelfHostedDomains...)
}
