package cli

// Tests of `cfst grant` and `cfst ungrant` against the in-process emulator: on every path
// grant takes, ungrant puts the API back exactly as it was; both are idempotent; rules an
// administrator wrote are never touched; the change is printed before it is made, and
// made only with --yes or a "y" on a terminal. Flag parsing is tested apart.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
)

// grantWorld has an application with app-scoped policies, among them an administrator's
// Service Auth policy listing t1 and t2 (admin-app); applications with a reusable
// identity policy only (code, wiki); one without policies (bare); zone applications; one
// that excludes the probe token (blocked); and an administrator's own policy that looks
// like cfst's but holds more than one token (lookalike).
const grantWorld = `
seed: 11
account_id: 0123456789abcdef0123456789abcdef
zone_id: fedcba9876543210fedcba9876543210
team: grant
api_tokens:
  - {name: all, value: grant-cmd-test-api-token, permissions: [all]}
service_tokens:` + worldToken + `
  - name: t1
  - name: t2
  - name: zprobe
    scope: zone
policies:
  - name: people
    decision: allow
    include: [{email_domain: {domain: example.com}}]
applications:
  - name: admin-app
    domain: admin.example.com
    policies:
      - name: admin-ci
        decision: non_identity
        include: [{service_token: {token_id: t1}}, {service_token: {token_id: t2}}]
      - name: staff
        decision: allow
        include: [{email_domain: {domain: example.com}}]
  - name: code
    domain: code.example.com
    policies: [people]
  - name: wiki
    domain: wiki.example.com
    policies: [people]
  - name: bare
    domain: bare.example.com
  - name: zone-staff
    scope: zone
    domain: staff.example.net
    policies:
      - name: zone-people
        decision: allow
        include: [{email_domain: {domain: example.com}}]
  - name: zone-bare
    scope: zone
    domain: bare.example.net
  - name: blocked
    domain: blocked.example.com
    policies:
      - name: no-probe
        decision: non_identity
        include: [{any_valid_service_token: {}}]
        exclude: [{service_token: {token_id: probe}}]
  - name: lookalike
    domain: lookalike.example.com
    policies:
      - name: "cfst: t2"
        decision: non_identity
        include: [{service_token: {token_id: t2}}, {service_token: {token_id: t1}}]
`

// startGrant starts grantWorld with the probe token in .env and both the account and the
// zone configured.
func startGrant(t *testing.T) *inProcess {
	t.Helper()
	world, err := emulator.ParseWorld("grant.yaml", []byte(grantWorld))
	if err != nil {
		t.Fatal(err)
	}
	h := startInProcess(t, world)
	h.env["CLOUDFLARE_API_TOKEN"] = "grant-cmd-test-api-token"
	h.env["CLOUDFLARE_ZONE_ID"] = h.srv.ZoneID()
	writeTestEnv(t, h.envFile())
	return h
}

// accessState is what the API holds about applications and policies, as the emulator's
// admin state shows it without timestamps: every application of both scopes with its
// policies (app-scoped and reusable, with precedence), and the reusable policies.
type accessState struct {
	Applications []struct {
		Scope string `json:"scope"`
		access.Application
	} `json:"applications"`
	Policies []access.Policy `json:"policies"`
}

// snapshot returns the access state as indented JSON, to compare and to print.
func (h *inProcess) snapshot() string {
	h.t.Helper()
	res, err := h.srv.Client().Get("https://" + h.srv.Addr() + "/__emulator/state")
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var state accessState
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&state) != nil {
		h.t.Fatalf("GET /__emulator/state: %s", res.Status)
	}
	out, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		h.t.Fatal(err)
	}
	return string(out)
}

// assertState fails when the access state is not want.
func (h *inProcess) assertState(when, want string) {
	h.t.Helper()
	if got := h.snapshot(); got != want {
		h.t.Errorf("%s, the policies differ:\nwant %s\ngot  %s", when, want, got)
	}
}

// mustSay runs cfst, wants the exit code and each of texts in stdout or stderr, and
// returns the run.
func (h *inProcess) mustSay(code int, texts []string, args ...string) runResult {
	h.t.Helper()
	run := h.mustRun(code, args...)
	for _, text := range texts {
		if !strings.Contains(run.stdout+run.stderr, text) {
			h.t.Errorf("cfst %q does not say %q\nstdout: %s\nstderr: %s", args, text,
				run.stdout, run.stderr)
		}
	}
	assertNoCanary(h.t, "cfst "+strings.Join(args, " "), run.stdout, run.stderr)
	return run
}

// TestGrantUngrantRoundTrip: on each path grant takes, grant admits the token (the edge
// agrees), a second grant changes nothing, ungrant restores every application and policy
// exactly, and a second ungrant changes nothing. Neither needs --yes when there is
// nothing to do.
func TestGrantUngrantRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name, app, host string
		token           []string // --token, when not the probe token of .env
		zoneOnly        bool     // no account configured: no reusable policies
		change          string
	}{
		{name: "new reusable policy", app: "code", host: "code.example.com",
			change: `create the reusable Service Auth policy "cfst: probe"`},
		{name: "application without policies", app: "bare", host: "bare.example.com",
			change: `create the reusable Service Auth policy "cfst: probe"`},
		{name: "app-scoped policies", app: "admin-app", host: "admin.example.com",
			change: `create its own Service Auth policy "cfst: probe"`},
		{name: "zone application", app: "zone-staff", host: "staff.example.net",
			change: `create its own Service Auth policy "cfst: probe"`},
		{name: "zone only", app: "zone-bare", token: []string{"--token", "zprobe"},
			zoneOnly: true, change: `create its own Service Auth policy "cfst: zprobe"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startGrant(t)
			if c.zoneOnly {
				delete(h.env, "CLOUDFLARE_ACCOUNT_ID")
			}
			before := h.snapshot()
			grant := append([]string{"grant", c.app}, c.token...)
			ungrant := append([]string{"ungrant", c.app}, c.token...)

			run := h.mustSay(ExitOK, []string{c.change, "granted:"}, append(grant, "--yes")...)
			if !strings.Contains(run.stderr, c.change) {
				t.Errorf("the change is not described on stderr:\n%s", run.stderr)
			}
			granted := h.snapshot()
			if granted == before {
				t.Fatal("grant changed nothing")
			}
			if c.host != "" {
				h.mustRun(ExitOK, "test", c.host)
			}
			h.mustSay(ExitOK, []string{"nothing to do"}, grant...)
			h.assertState("after a second grant", granted)

			h.mustSay(ExitOK, []string{"ungranted:"}, append(ungrant, "--yes")...)
			h.assertState("after grant and ungrant", before)
			if c.host != "" {
				h.mustRun(ExitRejected, "test", c.host)
			}
			h.mustSay(ExitOK, []string{"nothing to do"}, ungrant...)
			h.assertState("after a second ungrant", before)
		})
	}
}

// TestGrantSharedReusablePolicy: the reusable policy cfst made for one application is
// attached to the next; ungrant detaches it from one and keeps it for the other, and
// deletes it with the last.
func TestGrantSharedReusablePolicy(t *testing.T) {
	h := startGrant(t)
	before := h.snapshot()
	h.mustSay(ExitOK, []string{`create the reusable Service Auth policy "cfst: probe"`},
		"grant", "code", "--yes")
	oneApp := h.snapshot()
	h.mustSay(ExitOK, []string{`attach the reusable Service Auth policy "cfst: probe"`},
		"grant", "wiki", "--yes")
	h.mustRun(ExitOK, "test", "wiki.example.com")

	h.mustSay(ExitOK, []string{"other applications keep it"}, "ungrant", "wiki", "--yes")
	h.assertState("after ungranting the second application", oneApp)
	h.mustSay(ExitOK, []string{"no other application uses it"}, "ungrant", "code", "--yes")
	h.assertState("after ungranting both", before)
}

// TestUngrantLeavesAdministratorRules: a token an administrator's policy names needs no
// grant, and ungrant removes nothing cfst did not add: neither the administrator's rule
// for the token nor a policy that merely looks like cfst's. The token keeps its access.
func TestUngrantLeavesAdministratorRules(t *testing.T) {
	h := startGrant(t)
	before := h.snapshot()
	h.mustSay(ExitOK, []string{"nothing to do", `policy "admin-ci" admits it`},
		"grant", "admin-app", "--token", "t1", "--yes")
	h.mustSay(ExitOK, []string{"nothing to do", `left alone: policy "admin-ci"`,
		"still lets the token through"}, "ungrant", "admin-app", "--token", "t1", "--yes")
	h.mustSay(ExitOK, []string{"nothing to do", `left alone: policy "cfst: t2"`},
		"ungrant", "lookalike", "--token", "t2", "--yes")
	h.assertState("after ungrant of rules cfst did not add", before)

	h.mustRun(ExitOK, "grant", "admin-app", "--yes")
	h.mustRun(ExitOK, "ungrant", "admin-app", "--yes")
	h.assertState("after grant and ungrant beside the administrator's policy", before)
}

// TestGrantConfirmation: without a terminal and without --yes, grant and ungrant print
// the change and refuse with exit 2; on a terminal, "n" cancels (exit 130) and "y" makes
// the change. Nothing changes until then.
func TestGrantConfirmation(t *testing.T) {
	h := startGrant(t)
	before := h.snapshot()
	h.mustSay(ExitUsage, []string{`create the reusable Service Auth policy "cfst: probe"`,
		"refusing to grant without confirmation", "pass --yes"}, "grant", "code")
	h.assertState("after a refused grant", before)

	terminal := func(answer string) *Streams {
		return &Streams{In: strings.NewReader(answer), InTTY: true, ErrTTY: true}
	}
	if run := h.runWith(terminal("n\n"), "grant", "code"); run.code != ExitCancelled ||
		!strings.Contains(run.stderr, "Make this change? [y/N]") {
		t.Errorf("answering n exited %d, want %d\n%s", run.code, ExitCancelled, run.stderr)
	}
	h.assertState("after a cancelled grant", before)
	if run := h.runWith(terminal("y\n"), "grant", "code"); run.code != ExitOK {
		t.Fatalf("answering y exited %d\n%s", run.code, run.stderr)
	}
	granted := h.snapshot()

	h.mustSay(ExitUsage, []string{`detach and delete the reusable policy "cfst: probe"`,
		"refusing to ungrant without confirmation"}, "ungrant", "code")
	h.assertState("after a refused ungrant", granted)
	if run := h.runWith(terminal("y\n"), "ungrant", "code"); run.code != ExitOK {
		t.Fatalf("answering y exited %d\n%s", run.code, run.stderr)
	}
	h.assertState("after grant and ungrant on a terminal", before)
}

// TestGrantRefusals: grant does not override an exclude rule (exit 5), and an unknown
// application or token is not found (exit 4); nothing changes.
func TestGrantRefusals(t *testing.T) {
	h := startGrant(t)
	before := h.snapshot()
	h.mustSay(ExitRefused, []string{`policy "no-probe" excludes it`,
		"does not override"}, "grant", "blocked", "--yes")
	h.mustSay(ExitNotFound, []string{"no Access application"}, "grant", "nowhere", "--yes")
	h.mustSay(ExitNotFound, []string{"no service token"}, "ungrant", "code", "--token",
		"nobody", "--yes")
	h.assertState("after refusals", before)
}

// TestGrantOptions checks the flags of grant and ungrant without running them.
func TestGrantOptions(t *testing.T) {
	builders := map[string]func(*App, func(context.Context, *App, *grantOptions) error,
	) *cobra.Command{"grant": grantCommand, "ungrant": ungrantCommand}
	for name, build := range builders {
		var got *grantOptions
		record := func(_ context.Context, _ *App, o *grantOptions) error { got = o; return nil }
		if err := parse(t, build(testApp(), record), "code.example.com", "--token", "ci",
			"--yes"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *got != (grantOptions{App: "code.example.com", Token: "ci", Yes: true}) {
			t.Errorf("%s: options %+v", name, *got)
		}
		got = nil
		if err := parse(t, build(testApp(), record), "-y", "code"); err != nil ||
			got == nil || !got.Yes || got.Token != "" {
			t.Errorf("%s -y code: %v, options %+v", name, err, got)
		}
		for _, args := range [][]string{{}, {"a", "b"}, {"code", "--token"}, {"code", "--no"}} {
			got = nil
			if err := parse(t, build(testApp(), record), args...); err == nil || got != nil {
				t.Errorf("%s %q parsed", name, args)
			}
		}
	}
}
