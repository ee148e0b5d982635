package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The API tokens of doctorWorld: one with every permission, and one per read permission
// that doctor checks, without it.
const (
	doctorNoTokensRead = "doctor-api-token-without-service-tokens-read"
	doctorNoAppsRead   = "doctor-api-token-without-apps-read"
	doctorNoGroupsRead = "doctor-api-token-without-policies-read"
	doctorNoLogsRead   = "doctor-api-token-without-logs-read"
	doctorNoAlerts     = "doctor-api-token-without-notifications"
)

// The service tokens of doctorWorld besides the canary token, with their credentials.
const (
	doctorDisabledID     = "d15ab1edd15ab1edd15ab1edd15ab1ed.access"
	doctorExpiringID     = "5007e0005007e0005007e0005007e000.access"
	doctorShortLivedID   = "5407715407715407715407715407715a.access"
	doctorUnknownID      = "0000000000000000000000000000dead.access"
	doctorOtherSecret    = "d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c70d0c7"
	doctorWrongSecret    = "cfast_WRONGwrongWRONGwrongWRONGwrongWRONG12abcdef"
	doctorShortLivedLeft = 100 * time.Hour
)

// doctorWorld: the canary token (probe), one in each state doctor judges, an application
// that admits any valid token and one that admits people only.
const doctorWorld = `
seed: 11
api_tokens:
  - {name: all, value: doctor-api-token-with-every-permission, permissions: [all]}
  - {name: no-tokens, value: ` + doctorNoTokensRead + `,
     permissions: [apps:read, policies:read, logs:read, notifications:write]}
  - {name: no-apps, value: ` + doctorNoAppsRead + `,
     permissions: [service_tokens:read, policies:read, logs:read, notifications:write]}
  - {name: no-groups, value: ` + doctorNoGroupsRead + `,
     permissions: [service_tokens:read, apps:read, logs:read, notifications:write]}
  - {name: no-logs, value: ` + doctorNoLogsRead + `,
     permissions: [service_tokens:read, apps:read, policies:read, notifications:write]}
  - {name: no-alerts, value: ` + doctorNoAlerts + `,
     permissions: [service_tokens:read, apps:read, policies:read, logs:read]}
service_tokens:
  - name: probe
    client_id: ` + testClientID + `
    client_secret: ` + testCanary + `
    expires_at: +4000h
  - name: disabled-one
    client_id: ` + doctorDisabledID + `
    client_secret: ` + doctorOtherSecret + `
    enabled: false
  - name: expiring-soon
    client_id: ` + doctorExpiringID + `
    client_secret: ` + doctorOtherSecret + `
    expires_at: +240h
  - name: short-lived
    client_id: ` + doctorShortLivedID + `
    client_secret: ` + doctorOtherSecret + `
    expires_at: +100h
policies:
  - {name: tokens, decision: non_identity, include: [{any_valid_service_token: {}}]}
  - {name: people, decision: allow, include: [{email_domain: {domain: example.com}}]}
applications:
  - {name: login, domain: login.example.com, policies: [people]}
  - {name: echo, domain: echo.example.com, policies: [tokens]}
`

// doctorPeopleOnlyWorld has no application that admits a service token.
const doctorPeopleOnlyWorld = `
api_tokens:
  - {name: all, value: doctor-api-token-with-every-permission, permissions: [all]}
service_tokens:` + worldToken + `
policies:
  - {name: people, decision: allow, include: [{email_domain: {domain: example.com}}]}
applications:
  - {name: login, domain: login.example.com, policies: [people]}
`

// doctorCase provokes one problem and names the lines doctor must print for it.
type doctorCase struct {
	name  string
	world string // doctorWorld when empty
	// setup provokes the problem; it may return the clock doctor runs with.
	setup func(t *testing.T, f *emuFixture) func() time.Time
	code  int
	// problems are the warn and fail lines, "STATUS  check", in order; every other line
	// passes.
	problems []string
	// lines are patterns that stdout must match, such as the fix of a problem.
	lines []string
}

// runDoctorIn runs cfst doctor with args in the fixture, at now (time.Now when nil).
func runDoctorIn(f *emuFixture, now func() time.Time, args ...string) cliRun {
	app, stdout, stderr := f.newApp("")
	if now != nil {
		app.Now = now
	}
	code := Run(context.Background(), app, append([]string{"--env-file", f.envFile,
		"doctor"}, args...))
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// problemLines returns the "STATUS  check" of every warn and fail line of doctor.
func problemLines(stdout string) []string {
	var problems []string
	for line := range strings.Lines(stdout) {
		if !strings.HasPrefix(line, "WARN  ") && !strings.HasPrefix(line, "FAIL  ") {
			continue
		}
		// A permission's name holds ": " too, so the check ends at its closing quote.
		end := strings.Index(line, ": ")
		if rest, ok := strings.CutPrefix(line[6:], `permission "`); ok {
			end = 6 + len(`permission "`) + strings.Index(rest, `"`) + 1
		}
		problems = append(problems, line[:end])
	}
	return problems
}

// doctorCases provoke every failure doctor names, one at a time.
func doctorCases() []doctorCase {
	return []doctorCase{
		{name: "all pass", code: ExitOK, lines: []string{
			`(?m)^PASS  permission "Account Analytics Read": granted \(usage, `,
			`(?m)^PASS  permission "Notifications Read": granted \(alerts list, alerts ` +
				`setup\); alerts setup also needs "Notifications Write"$`,
			`(?m)^PASS  secret: the edge accepted the credentials \(from .*\.env\) at ` +
				`https://echo\.example\.com/ \(ok, HTTP 200\)$`,
		}},
		{name: "no .env", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				removeDoctorFile(t, f.envFile)
				return nil
			},
			problems: []string{"FAIL  .env file", "FAIL  credentials"},
			lines: []string{`(?m)^FAIL  \.env file: .*\.env not found$`,
				`(?m)^      fix: create a token with 'cfst create NAME'`}},
		{name: "credentials in the environment only", code: ExitOK,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				removeDoctorFile(t, f.envFile)
				f.env["CF_SERVICE_TOKEN_CLIENT_ID"] = testClientID
				f.env["CF_SERVICE_TOKEN_CLIENT_SECRET"] = testCanary
				return nil
			},
			problems: []string{"WARN  .env file"},
			lines: []string{`(?m)^WARN  \.env file: .* not found; the credentials come ` +
				`from the environment$`,
				`(?m)^PASS  secret: the edge accepted the credentials \(from environment\) at `}},
		{name: "no credentials in .env", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				f.writeEnv("# nothing yet\n")
				return nil
			},
			problems: []string{"FAIL  credentials"},
			lines:    []string{`(?m)^FAIL  credentials: no service token: `}},
		{name: ".env mode too loose", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				if err := os.Chmod(f.envFile, 0o644); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			problems: []string{"FAIL  .env mode"},
			lines: []string{`(?m)^FAIL  \.env mode: mode 0644: other users can read`,
				`(?m)^      fix: chmod 600 .*\.env$`}},
		{name: ".env tracked by git", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				doctorGit(t, f.dir, "init", "-q")
				doctorGit(t, f.dir, "add", ".env")
				return nil
			},
			problems: []string{"FAIL  .env git"},
			lines: []string{`(?m)^FAIL  \.env git: tracked by git: its secrets are in `,
				`(?m)^      fix: git rm --cached .*\.env, add it to \.gitignore, then rotate`}},
		{name: ".env not ignored by git", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				doctorGit(t, f.dir, "init", "-q")
				return nil
			},
			problems: []string{"FAIL  .env git"},
			lines: []string{`(?m)^FAIL  \.env git: not ignored by git: 'git add \.' would `,
				`(?m)^      fix: add it to \.gitignore$`}},
		{name: "invalid API token", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				f.env["CLOUDFLARE_API_TOKEN"] = "doctor-api-token-nobody-issued"
				return nil
			},
			problems: []string{"FAIL  api token"},
			lines:    []string{`(?m)^FAIL  api token: `, `(?m)^      fix: `}},
		{name: "no API token", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				delete(f.env, "CLOUDFLARE_API_TOKEN")
				return nil
			},
			problems: []string{"FAIL  api token"},
			lines: []string{`(?m)^FAIL  api token: no Cloudflare API token$`,
				`(?m)^      fix: set CLOUDFLARE_API_TOKEN in the environment or in `}},
		{name: "unknown account", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				f.env["CLOUDFLARE_ACCOUNT_ID"] = "0000000000000000000000000000beef"
				return nil
			},
			problems: []string{"FAIL  account"},
			lines: []string{`(?m)^FAIL  account: account 0000000000000000000000000000beef ` +
				`not found, or not accessible with this API token$`, `(?m)^      fix: `}},
		doctorPermissionCase(doctorNoTokensRead, "Access: Service Tokens Read",
			"WARN  credentials"),
		doctorPermissionCase(doctorNoAppsRead, "Access: Apps and Policies Read",
			"WARN  applications", "WARN  secret"),
		doctorPermissionCase(doctorNoGroupsRead,
			"Access: Organizations, Identity Providers, and Groups Read", "WARN  strict mode"),
		doctorPermissionCase(doctorNoLogsRead, "Account Analytics Read"),
		doctorPermissionCase(doctorNoAlerts, "Notifications Read"),
		{name: "client id of no token", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				writeDoctorEnv(f, doctorUnknownID, doctorOtherSecret)
				return nil
			},
			problems: []string{"FAIL  credentials"},
			lines: []string{`(?m)^FAIL  credentials: client id ` +
				regexp.QuoteMeta(doctorUnknownID) + ` \(from .*\.env\) matches no service ` +
				`token of the account `,
				`(?m)^      fix: the token was deleted or belongs elsewhere: `}},
		{name: "disabled token", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				writeDoctorEnv(f, doctorDisabledID, doctorOtherSecret)
				return nil
			},
			problems: []string{"FAIL  credentials"},
			lines: []string{`(?m)^FAIL  credentials: .* is token "disabled-one" .*, which ` +
				`is disabled$`, `(?m)^      fix: cfst enable disabled-one$`}},
		{name: "expired token", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				writeDoctorEnv(f, doctorShortLivedID, doctorOtherSecret)
				advanceDoctorClock(t, f, 2*doctorShortLivedLeft)
				return f.srv.Clock().Now
			},
			problems: []string{"FAIL  credentials"},
			lines: []string{`(?m)^FAIL  credentials: .* is token "short-lived" .*, which ` +
				`expired at `, `(?m)^      fix: cfst refresh short-lived `}},
		{name: "near expiry", code: ExitOK,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				writeDoctorEnv(f, doctorExpiringID, doctorOtherSecret)
				return nil
			},
			problems: []string{"WARN  expiry"},
			lines: []string{`(?m)^WARN  expiry: expires in (9|10) days, at `,
				`(?m)^      fix: cfst refresh expiring-soon \(same secret, new expiry\)`,
				`(?m)^PASS  secret: `}},
		{name: "no application admits the token", world: doctorPeopleOnlyWorld, code: ExitOK,
			problems: []string{"WARN  applications", "WARN  secret"},
			lines: []string{`(?m)^WARN  applications: none of the 1 application lets ` +
				`the token through$`,
				`(?m)^      fix: 'cfst apps' says why; 'cfst grant APP --token probe'`,
				`(?m)^WARN  secret: not checked: no application `}},
		{name: "wrong secret", code: ExitCheckFailed,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				writeDoctorEnv(f, testClientID, doctorWrongSecret)
				return nil
			},
			problems: []string{"FAIL  secret"},
			lines: []string{`(?m)^FAIL  secret: the edge refused the credentials \(from ` +
				`.*\.env\) at https://echo\.example\.com/: the edge answered forbidden ` +
				`\(HTTP 403\) where cfst expected admitted: the policies admit the token, so ` +
				`the secret in \.env is not the token's`,
				`(?m)^      fix: put back the secret .*\.env held when the token was ` +
					`created or last rotated, or get a new one with 'cfst rotate probe'`}},
		{name: "clock skew", code: ExitOK,
			setup: func(t *testing.T, f *emuFixture) func() time.Time {
				advanceDoctorClock(t, f, 48*time.Hour)
				return nil
			},
			problems: []string{"WARN  clock"},
			lines: []string{`(?m)^WARN  clock: the local clock is 4[78]h\d+m\d+s behind ` +
				`the API's$`, `(?m)^      fix: synchronise the clock \(NTP\)`}},
	}
}

// doctorPermissionCase runs doctor with an API token that lacks permission, which
// fails that line and makes the checks in also warn.
func doctorPermissionCase(apiToken, permission string, also ...string) doctorCase {
	line := "FAIL  permission " + strconv.Quote(permission)
	return doctorCase{name: "without " + permission, code: ExitCheckFailed,
		setup: func(t *testing.T, f *emuFixture) func() time.Time {
			f.env["CLOUDFLARE_API_TOKEN"] = apiToken
			return nil
		},
		problems: append([]string{line}, also...),
		lines: []string{`(?m)^` + regexp.QuoteMeta(line) + `: missing: .* will fail$`,
			`(?m)^      fix: .*` + regexp.QuoteMeta(strconv.Quote(permission))}}
}

// TestDoctorReportsEachFailure provokes each problem doctor names, one at a time, and
// checks the line, its fix, that every other check passes, and the exit code.
func TestDoctorReportsEachFailure(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, tc := range doctorCases() {
		t.Run(tc.name, func(t *testing.T) {
			world := tc.world
			if world == "" {
				world = doctorWorld
			}
			f := newEmuFixture(t, world)
			var now func() time.Time
			if tc.setup != nil {
				now = tc.setup(t, f)
			}
			run := runDoctorIn(f, now)
			if got := problemLines(run.stdout); run.code != tc.code ||
				!slices.Equal(got, tc.problems) {
				t.Fatalf("exit %d (want %d), problems %q (want %q)\nstdout:\n%s\nstderr:\n%s",
					run.code, tc.code, got, tc.problems, run.stdout, run.stderr)
			}
			for _, pattern := range tc.lines {
				if !matches(pattern, run.stdout) {
					t.Errorf("stdout does not match %q:\n%s", pattern, run.stdout)
				}
			}
			assertNoDoctorSecret(t, run)
		})
	}
}

// assertNoDoctorSecret checks that no secret of doctorWorld reached the output.
func assertNoDoctorSecret(t *testing.T, run cliRun) {
	t.Helper()
	assertNoCanary(t, "doctor's output", run.stdout, run.stderr)
	for _, secret := range []string{doctorOtherSecret, doctorWrongSecret, "WRONG"} {
		if strings.Contains(run.stdout+run.stderr, secret) {
			t.Errorf("a secret leaked into doctor's output:\n%s\n%s", run.stdout, run.stderr)
		}
	}
}

// writeDoctorEnv replaces the fixture's .env with credentials.
func writeDoctorEnv(f *emuFixture, clientID, clientSecret string) {
	f.writeEnv("CF_SERVICE_TOKEN_CLIENT_ID=" + clientID + "\n" +
		"CF_SERVICE_TOKEN_CLIENT_SECRET=" + clientSecret + "\n")
}

func removeDoctorFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// doctorGit runs git in dir, without the machine's configuration (see t.Setenv above).
func doctorGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %q: %v\n%s", args, err, out)
	}
}

// advanceDoctorClock moves the emulator's clock forward, as the admin API does.
func advanceDoctorClock(t *testing.T, f *emuFixture, d time.Duration) {
	t.Helper()
	if err := f.srv.AdvanceClock(d); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorJSON: --output json holds every check with its status and fix, the same
// verdicts as the text, and nothing else on stdout.
func TestDoctorJSON(t *testing.T) {
	f := newEmuFixture(t, doctorWorld)
	checks, run := doctorJSON(t, f)
	if run.code != ExitOK || len(checks) != 16 {
		t.Fatalf("exit %d, %d checks:\n%s", run.code, len(checks), run.stdout)
	}
	for _, check := range checks {
		if check.Status != checkPass || check.Message == "" || check.Fix != "" {
			t.Errorf("all pass: %+v", check)
		}
	}
	writeDoctorEnv(f, testClientID, doctorWrongSecret)
	checks, run = doctorJSON(t, f)
	failed := slices.IndexFunc(checks, func(c doctorCheck) bool { return c.Status != checkPass })
	if run.code != ExitCheckFailed || failed < 0 || checks[failed].Check != checkSecret ||
		checks[failed].Status != checkFail || !strings.Contains(checks[failed].Fix,
		"cfst rotate probe") {
		t.Errorf("wrong secret: exit %d, checks %+v", run.code, checks)
	}
	if !strings.Contains(run.stderr, "16 checks: 15 pass, 0 warn, 1 fail") {
		t.Errorf("stderr: %q", run.stderr)
	}
}

// doctorJSON runs doctor -o json and decodes its checks, strictly.
func doctorJSON(t *testing.T, f *emuFixture) ([]doctorCheck, cliRun) {
	t.Helper()
	run := runDoctorIn(f, nil, "--output", "json")
	var checks []doctorCheck
	dec := json.NewDecoder(strings.NewReader(run.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&checks); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON array of checks (%v):\n%s", err, run.stdout)
	}
	assertNoDoctorSecret(t, run)
	return checks, run
}

// TestDoctorVerbose: --verbose shows the exchanges, the live request of the secret check
// too, with the credentials redacted.
func TestDoctorVerbose(t *testing.T) {
	f := newEmuFixture(t, doctorWorld)
	run := runDoctorIn(f, nil, "--verbose")
	if run.code != ExitOK || !strings.Contains(run.stderr, "echo.example.com") ||
		!strings.Contains(run.stderr, "Cf-Access-Client-Secret: [redacted]") {
		t.Errorf("exit %d, stderr:\n%s", run.code, run.stderr)
	}
	assertNoDoctorSecret(t, run)
}
