package emulator

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The defaults of a world.
const (
	defaultTeam       = "demo"
	defaultTokenLimit = 50
	defaultDuration   = "8760h"
	defaultConnection = "nonidentity"
	scopeAccount      = "account"
	scopeZone         = "zone"
	maxNameLength     = 350
)

var (
	hex32     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	teamLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// complete fills in what the world leaves out: ids, secrets, AUD tags and defaults. It
// changes nothing that is set, so a second call does nothing.
func (w *World) complete() {
	account := newIDSource(w.Seed, "account")
	setDefault(&w.Team, defaultTeam)
	setDefault(&w.AccountID, account.hex(16))
	setDefault(&w.ZoneID, account.hex(16))
	setDefault(&w.LoginEvents.Connection, defaultConnection)
	if w.TokenLimit == 0 {
		w.TokenLimit = defaultTokenLimit
	}
	for i := range w.APITokens {
		setDefault(&w.APITokens[i].ID, w.source("api_tokens", strconv.Itoa(i)).hex(16))
	}
	for i, t := range w.ServiceTokens {
		completeServiceToken(&w.ServiceTokens[i], w.source("service_tokens", t.Name))
	}
	for i, g := range w.Groups {
		setDefault(&w.Groups[i].ID, w.source("groups", g.Name).uuid())
		setDefault(&w.Groups[i].Scope, scopeAccount)
	}
	for i, p := range w.Policies {
		setDefault(&w.Policies[i].ID, w.source("policies", p.Name).uuid())
	}
	for i, app := range w.Applications {
		completeApp(&w.Applications[i], w.source("applications", app.Name))
	}
}

// source returns the id source of one entity of a world, named by its list and its name
// (or index, for API tokens, whose names are optional).
func (w *World) source(list, name string) *idSource {
	return newIDSource(w.Seed, list+"/"+name)
}

func completeServiceToken(t *WorldServiceToken, gen *idSource) {
	setDefault(&t.ID, gen.uuid())
	setDefault(&t.Scope, scopeAccount)
	setDefault(&t.ClientID, gen.clientID())
	setDefault(&t.Duration, defaultDuration)
	if generated := gen.clientSecret(); t.ClientSecret.IsZero() {
		t.ClientSecret = Secret{generated}
	}
	if t.ClientSecretVersion == 0 {
		t.ClientSecretVersion = 1
	}
}

func completeApp(app *WorldApp, gen *idSource) {
	setDefault(&app.ID, gen.uuid())
	setDefault(&app.AUD, gen.aud())
	setDefault(&app.Scope, scopeAccount)
	setDefault(&app.Origin, originSpecOK)
	for i := range app.Policies {
		p := &app.Policies[i]
		if p.Precedence == 0 {
			p.Precedence = i + 1
		}
		if id := gen.uuid(); p.Ref == "" {
			setDefault(&p.ID, id)
		}
	}
}

// setDefault sets *field to value when it is empty. value is computed either way, which
// keeps a seeded entity's generated values independent of which of its fields are set.
func setDefault(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

// check reports the first problem with a completed world, in the order of its fields, and
// resolves references by name to ids.
func (w *World) check() error {
	checks := []func() error{
		w.checkAccount, w.checkAPITokens, w.checkServiceTokens, w.checkGroups,
		w.checkPolicies, w.checkApps, w.checkFaults,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) checkAccount() error {
	switch {
	case !hex32.MatchString(w.AccountID):
		return problemAt(fieldPath{"account_id"}, "want 32 lowercase hex digits, got %q",
			w.AccountID)
	case !hex32.MatchString(w.ZoneID):
		return problemAt(fieldPath{"zone_id"}, "want 32 lowercase hex digits, got %q", w.ZoneID)
	case !teamLabel.MatchString(w.Team):
		return problemAt(fieldPath{"team"}, "want a DNS label such as \"demo\", got %q", w.Team)
	case w.TokenLimit < 0:
		return problemAt(fieldPath{"token_limit"}, "want a positive number, got %d", w.TokenLimit)
	}
	if rl := w.RateLimit; rl != nil {
		if rl.Requests <= 0 {
			return problemAt(fieldPath{"rate_limit", "requests"}, "want a positive number")
		}
		if _, err := parsePositiveDuration(rl.Window); err != nil {
			return problemAt(fieldPath{"rate_limit", "window"}, "%v", err)
		}
	}
	return nil
}

func (w *World) checkAPITokens() error {
	seen := map[string]bool{}
	for i, tok := range w.APITokens {
		path := fieldPath{"api_tokens", i}
		value := tok.Value.Reveal()
		switch {
		case value == "":
			return problemAt(path.with("value"), "missing token value")
		case strings.ContainsAny(value, " \t\r\n"):
			return problemAt(path.with("value"), "token value contains white space")
		case seen[value]:
			return problemAt(path.with("value"), "the same value as another API token")
		case len(tok.Permissions) == 0:
			return problemAt(path.with("permissions"), "missing permissions (want %s or all)",
				strings.Join(allPermissions, ", "))
		}
		seen[value] = true
		for j, perm := range tok.Permissions {
			if !knownPermission(perm) {
				return problemAt(path.with("permissions", j), "unknown permission %q "+
					"(want %s or all)", perm, strings.Join(allPermissions, ", "))
			}
		}
	}
	return nil
}

func (w *World) checkServiceTokens() error {
	ids, names, clientIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, tok := range w.ServiceTokens {
		path := fieldPath{"service_tokens", i}
		if err := checkName(path, tok.Name, names); err != nil {
			return err
		}
		switch {
		case !validID(tok.ID) || ids[tok.ID]:
			return badID(path, tok.ID)
		case clientIDs[tok.ClientID] || !validID(tok.ClientID):
			return problemAt(path.with("client_id"), "want a unique client id, got %q",
				tok.ClientID)
		case tok.ClientSecretVersion < 0:
			return problemAt(path.with("client_secret_version"), "want a positive number")
		}
		ids[tok.ID], clientIDs[tok.ClientID] = true, true
		if err := checkTokenTimes(path, tok); err != nil {
			return err
		}
	}
	return nil
}

func checkTokenTimes(path fieldPath, tok WorldServiceToken) error {
	if err := checkScope(path, tok.Scope); err != nil {
		return err
	}
	if _, err := parseTokenDuration(tok.Duration); err != nil {
		return problemAt(path.with("duration"), "%v", err)
	}
	times := []struct{ field, value string }{
		{"expires_at", tok.ExpiresAt},
		{"last_seen_at", tok.LastSeenAt},
		{"previous_client_secret_expires_at", tok.PreviousClientSecretExpiresAt},
	}
	for _, t := range times {
		if _, err := parseWorldTime(t.value, startOfTime); t.value != "" && err != nil {
			return problemAt(path.with(t.field), "%v", err)
		}
	}
	if !tok.PreviousClientSecret.IsZero() && tok.PreviousClientSecretExpiresAt == "" {
		return problemAt(path.with("previous_client_secret"),
			"a previous secret needs previous_client_secret_expires_at, the end of its grace")
	}
	if tok.ExpiresAt != "" && tok.Duration == durationForever {
		return problemAt(path.with("expires_at"),
			"a token whose duration is forever never expires")
	}
	return nil
}

func checkName(path fieldPath, name string, seen map[string]bool) error {
	switch {
	case strings.TrimSpace(name) == "":
		return problemAt(path.with("name"), "missing name")
	case nameTooLong(name):
		return problemAt(path.with("name"), "name is longer than %d characters", maxNameLength)
	case seen[name]:
		return problemAt(path.with("name"), "the name %q is used twice", name)
	}
	seen[name] = true
	return nil
}

// nameTooLong reports whether a name has more characters than Cloudflare allows. It
// counts characters, not bytes, as cfst create does.
func nameTooLong(name string) bool {
	return utf8.RuneCountInString(name) > maxNameLength
}

func checkScope(path fieldPath, scope string) error {
	if scope != scopeAccount && scope != scopeZone {
		return problemAt(path.with("scope"), "unknown scope %q (want account or zone)", scope)
	}
	return nil
}

// badID is the problem of an id that is empty, repeated, or unfit for a URL path.
func badID(path fieldPath, id string) error {
	return problemAt(path.with("id"), "want a unique id without / or spaces, got %q", id)
}

// validID reports whether id can be used in a URL path segment.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "/?#% \t\r\n")
}
