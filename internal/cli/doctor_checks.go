package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
)

// Thresholds of the doctor's warnings.
const (
	doctorExpiryWarning = 30 * day
	doctorClockSkew     = 30 * time.Second
)

// Names of the checks, as the output prints them.
const (
	checkEnvFile      = ".env file"
	checkEnvMode      = ".env mode"
	checkEnvGit       = ".env git"
	checkAPIToken     = "api token"
	checkAccount      = "account"
	checkCredentials  = "credentials"
	checkExpiry       = "expiry"
	checkStrict       = "strict mode"
	checkApplications = "applications"
	checkSecret       = "secret"
	checkClock        = "clock"
)

// checkEnvFile checks that the .env file exists, that only its owner can read it, and
// that git will not commit it.
func (run *doctorRun) checkEnvFile() {
	path := run.app.envFilePath()
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && run.credentialsInEnvironment():
		run.add(checkEnvFile, path+" not found; the credentials come from the environment",
			checkWarn, "keep them out of shell history; 'cfst create NAME' writes them to "+path)
		return
	case errors.Is(err, fs.ErrNotExist):
		run.add(checkEnvFile, path+" not found", checkFail,
			"create a token with 'cfst create NAME', which writes "+path+", or pass --env-file")
		return
	case err != nil:
		run.add(checkEnvFile, fmt.Sprintf("cannot read %s: %v", path, err), checkFail,
			"check the file's permissions, or pass --env-file")
		return
	}
	run.pass(checkEnvFile, "%s found", path)
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		run.add(checkEnvMode, fmt.Sprintf("mode %04o: other users can read or change the "+
			"secret", mode), checkFail, "chmod 600 "+path)
	} else {
		run.pass(checkEnvMode, "mode %04o", mode)
	}
	run.checkGit(path)
}

// credentialsInEnvironment reports whether the environment holds the --prefix pair.
func (run *doctorRun) credentialsInEnvironment() bool {
	keys, err := run.app.credentialKeys()
	return err == nil && run.app.Getenv(keys.ClientID) != ""
}

func (run *doctorRun) checkGit(path string) {
	status, err := dotenv.CheckGitIgnored(path)
	switch {
	case err != nil:
		run.add(checkEnvGit, "cannot ask git: "+firstLine(err.Error()), checkWarn,
			"make sure git ignores "+path)
	case status.GitMissing:
		run.add(checkEnvGit, "git is not installed; cannot tell whether a repository would "+
			"commit it", checkWarn, "make sure no repository commits "+path)
	case status.State == dotenv.Tracked:
		run.add(checkEnvGit, "tracked by git: its secrets are in the repository", checkFail,
			"git rm --cached "+path+", add it to .gitignore, then rotate the token "+
				"('cfst rotate NAME'): the old secret stays in the history")
	case status.State == dotenv.NotIgnored:
		run.add(checkEnvGit, "not ignored by git: 'git add .' would commit it", checkFail,
			"add it to .gitignore")
	default:
		run.pass(checkEnvGit, "%s", status.State)
	}
}

// checkAPI checks the API token, the account and the read permissions. It reports
// whether the API can be used for the checks that follow.
func (run *doctorRun) checkAPI(ctx context.Context) bool {
	client, err := run.app.accessClient()
	if err != nil {
		run.add(checkAPIToken, firstLine(err.Error()), checkFail, hintOf(err))
		return false
	}
	run.client = client
	if run.apiCheck, err = client.CheckAPIToken(ctx); err != nil {
		run.add(checkAPIToken, firstLine(err.Error()), checkFail, cloudflare.HintOf(err))
		return false
	}
	run.checkAPITokenStatus()
	if run.apiCheck.Status != "active" {
		return false
	}
	run.tokens, run.tokensErr = client.ListTokens(ctx, cloudflare.ListOptions{})
	if !run.checkAccount() {
		return false
	}
	run.checkPermissions(ctx)
	return true
}

func (run *doctorRun) checkAPITokenStatus() {
	check := run.apiCheck
	now := run.app.Now()
	switch {
	case check.Status != "active":
		run.add(checkAPIToken, fmt.Sprintf("the API token is %s", orDash(check.Status)),
			checkFail, "create a new one at dash.cloudflare.com/profile/api-tokens and set "+
				cloudflare.EnvAPIToken)
	case !check.ExpiresOn.IsZero() && check.ExpiresOn.Sub(now) < doctorExpiryWarning:
		run.add(checkAPIToken, "valid, but the API token itself expires in "+
			approximate(check.ExpiresOn.Sub(now)), checkWarn,
			"extend it at dash.cloudflare.com/profile/api-tokens")
	default:
		run.pass(checkAPIToken, "valid (%s)", check.Status)
	}
}

// checkAccount judges the account by the first listing: an unknown account fails, and
// so does an API that cannot be reached.
func (run *doctorRun) checkAccount() bool {
	where := run.scopeText()
	switch cloudflare.KindOf(run.tokensErr) {
	case "", cloudflare.KindPermission:
		run.pass(checkAccount, "%s reachable", where)
		return true
	case cloudflare.KindUnknownAccount:
		run.add(checkAccount, where+" not found, or not accessible with this API token",
			checkFail, cloudflare.HintOf(run.tokensErr))
	default:
		run.add(checkAccount, firstLine(run.tokensErr.Error()), checkFail,
			cloudflare.HintOf(run.tokensErr))
	}
	return false
}

func (run *doctorRun) scopeText() string {
	if id := run.client.AccountID(); id != "" {
		return fmt.Sprintf("account %s", id)
	}
	return fmt.Sprintf("zone %s", run.client.ZoneID())
}

// permissionProbe is a read that needs one permission, and the commands that need it.
type permissionProbe struct {
	permission string
	commands   string
	read       func(context.Context, *cloudflare.Client) error
	// writeNote names the write permission some of the commands need as well, which
	// doctor cannot check without changing something.
	writeNote string
}

// doctorPermissions lists the reads, each as cheap as the API allows. A nil read is
// judged by the token listing that the account check made.
func doctorPermissions(now time.Time) []permissionProbe {
	return []permissionProbe{{
		permission: cloudflare.PermTokensRead,
		commands:   "list, show, refresh, rotate, delete, doctor",
	}, {
		permission: cloudflare.PermAppsRead,
		commands:   "apps, grant, ungrant, the hints of test",
		read: func(ctx context.Context, c *cloudflare.Client) error {
			_, err := c.ListApplications(ctx)
			return err
		},
	}, {
		permission: cloudflare.PermGroupsRead,
		commands:   "apps and grant with group rules, strict mode",
		read: func(ctx context.Context, c *cloudflare.Client) error {
			_, err := c.ListGroups(ctx)
			return err
		},
	}, {
		permission: cloudflare.PermAnalyticsRead,
		commands:   "usage, the usage findings of monitor",
		read: func(ctx context.Context, c *cloudflare.Client) error {
			return readLastMinuteOfLogins(ctx, c, now)
		},
	}, {
		permission: cloudflare.PermNotificationsRead,
		commands:   "alerts list, alerts setup",
		read: func(ctx context.Context, c *cloudflare.Client) error {
			_, err := c.ListAlerts(ctx)
			return err
		},
		writeNote: fmt.Sprintf("alerts setup also needs %q", cloudflare.PermNotificationsWrite),
	}}
}

// readLastMinuteOfLogins asks the analytics API when a token with no id last logged in
// within the last minute: one query for one row, the smallest read that needs the
// permission of usage.
func readLastMinuteOfLogins(ctx context.Context, c *cloudflare.Client, now time.Time) error {
	_, err := c.LoginTimes(ctx, now.Add(-time.Minute), now, []cloudflare.LoginKey{{}}, false)
	return err
}

// checkPermissions reads what each command needs to read, one line per permission.
func (run *doctorRun) checkPermissions(ctx context.Context) {
	for _, probe := range doctorPermissions(run.app.Now()) {
		err := run.tokensErr
		if probe.read != nil {
			err = probe.read(ctx, run.client)
		}
		check := fmt.Sprintf("permission %q", probe.permission)
		switch kind := cloudflare.KindOf(err); {
		case err == nil && probe.writeNote != "":
			run.pass(check, "granted (%s); %s", probe.commands, probe.writeNote)
		case err == nil:
			run.pass(check, "granted (%s)", probe.commands)
		case kind == cloudflare.KindPermission:
			run.add(check, "missing: "+probe.commands+" will fail", checkFail,
				cloudflare.HintOf(err))
		default:
			run.add(check, "cannot check: "+firstLine(err.Error()), checkWarn,
				cloudflare.HintOf(err))
		}
	}
}

// checkCredentials checks that the credentials of --prefix name an existing, enabled,
// unexpired token, then how long it has left.
func (run *doctorRun) checkCredentials() {
	clientID, clientSecret, source, err := run.app.credentials()
	if err != nil {
		run.add(checkCredentials, firstLine(err.Error()), checkFail, hintOf(err))
		return
	}
	subject := tokenSubject{clientID: clientID, secret: clientSecret}
	run.subject, run.source = &subject, source
	if run.tokensErr != nil {
		run.add(checkCredentials, "cannot look up client id "+clientID+": "+
			firstLine(run.tokensErr.Error()), checkWarn, cloudflare.HintOf(run.tokensErr))
		return
	}
	for i := range run.tokens {
		if run.tokens[i].ClientID == clientID {
			subject.token = &run.tokens[i]
		}
	}
	tok := subject.token
	if tok == nil {
		run.add(checkCredentials, fmt.Sprintf("client id %s (from %s) matches no service "+
			"token of the %s", clientID, source, run.scopeText()), checkFail,
			"the token was deleted or belongs elsewhere: create one with 'cfst create NAME' "+
				"(if it does exist, the API token may lack \""+cloudflare.PermTokensRead+
				"\": Cloudflare can then answer with an empty list)")
		return
	}
	run.judgeToken(*tok, source)
}

// judgeToken reports the token's state and, for a usable one, its expiry.
func (run *doctorRun) judgeToken(tok cloudflare.Token, source string) {
	ref := tokenSubject{token: &tok}.ref()
	now := run.app.Now()
	found := fmt.Sprintf("client id %s (from %s) is token %q (%s)", tok.ClientID, source,
		tok.Name, tok.ID)
	switch tokenStateOf(tok, now) {
	case stateDisabled:
		run.add(checkCredentials, found+", which is disabled", checkFail,
			"cfst enable "+ref)
		return
	case stateExpired:
		run.add(checkCredentials, found+", which "+tokenProblem(tok, now), checkFail,
			"cfst refresh "+ref+" (or create a new one)")
		return
	}
	run.pass(checkCredentials, "%s, enabled", found)
	run.usable = true
	run.checkExpiry(tok, ref, now)
}

func (run *doctorRun) checkExpiry(tok cloudflare.Token, ref string, now time.Time) {
	grace := ""
	if tok.PreviousSecretExpiresAt.After(now) {
		grace = "; the previous secret works until " +
			tok.PreviousSecretExpiresAt.UTC().Format(time.RFC3339)
	}
	left := tok.ExpiresAt.Sub(now)
	switch {
	case tok.Forever:
		run.pass(checkExpiry, "never expires%s", grace)
	case left < doctorExpiryWarning:
		run.add(checkExpiry, fmt.Sprintf("expires in %s, at %s%s", approximate(left),
			tok.ExpiresAt.UTC().Format(time.RFC3339), grace), checkWarn,
			"cfst refresh "+ref+" (same secret, new expiry), or cfst rotate "+ref)
	default:
		run.pass(checkExpiry, "expires in %s, at %s%s", approximate(left),
			tok.ExpiresAt.UTC().Format(time.RFC3339), grace)
	}
}

// checkStrictMode reports the organization's strict mode and what it changes.
func (run *doctorRun) checkStrictMode(ctx context.Context) {
	org, err := run.client.GetOrganization(ctx)
	switch {
	case err != nil:
		run.add(checkStrict, "unknown: "+firstLine(err.Error()), checkWarn,
			cloudflare.HintOf(err))
	case org.StrictServiceTokenAuth == nil:
		run.add(checkStrict, "unknown: the API does not report it", checkWarn,
			"see Zero Trust > Settings > Authentication in the dashboard")
	case *org.StrictServiceTokenAuth:
		run.pass(checkStrict, "on: a token that cannot authenticate gets 401, a valid one "+
			"no policy admits 403; Allow policies and CF_Authorization cookies do not count "+
			"for requests with token headers, and no cookie is set")
	default:
		run.pass(checkStrict, "off: a refused token gets a login redirect (302) or 403, "+
			"never a distinct 'invalid token' answer; a CF_Authorization cookie from a token "+
			"login keeps working until it expires")
	}
}

// checkClock compares the local clock with the Date header of the API's answer.
func (run *doctorRun) checkClock() {
	server := run.apiCheck.ServerTime
	if server.IsZero() {
		run.add(checkClock, "cannot compare: the API's answer had no Date header", checkWarn,
			"make sure the clock is synchronised (NTP)")
		return
	}
	skew := run.app.Now().Sub(server)
	direction := "ahead of"
	if skew < 0 {
		direction = "behind"
	}
	if skew.Abs() > doctorClockSkew {
		run.add(checkClock, fmt.Sprintf("the local clock is %s %s the API's", skew.Abs().
			Round(time.Second), direction), checkWarn, "synchronise the clock (NTP): cfst "+
			"judges expiry and rotation grace periods by it")
		return
	}
	run.pass(checkClock, "within %s of the API's", doctorClockSkew)
}
