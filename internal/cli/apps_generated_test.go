package cli

// Generated worlds for `cfst apps` (issue 6): many applications on shared hostnames with
// paths and wildcards, nested groups, app-scoped and reusable policies in random order,
// service tokens in every state. For every token and application, the verdict of
// `cfst apps --output json` must be what a live request to the emulator's edge gets.
//
// The seed is fixed (defaultGeneratedSeed), so that every run, CI's too, tests the same
// worlds; CFST_GENERATED_SEED=random explores new ones. Each run logs its seed; replay a
// failure with
//
//	go test ./internal/cli -run TestAppsAgreesWithTheEdgeInGeneratedWorlds -args -generated.seed=N
//
// or CFST_GENERATED_SEED=N. -generated.worlds sets how many worlds (default 20, 4 with
// -short).

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/access"
)

var (
	generatedSeedFlag = flag.Uint64("generated.seed", 0,
		"seed of the generated worlds of the apps test; 0 takes $"+envGeneratedSeed+
			" (a number, or random), else the fixed default")
	generatedWorldsFlag = flag.Int("generated.worlds", 0,
		"number of generated worlds of the apps test; 0 means 20, or 4 with -short")
)

const envGeneratedSeed = "CFST_GENERATED_SEED"

// defaultGeneratedSeed is the seed of a run that names none.
const defaultGeneratedSeed = 20261204

// clockAdvance is how far the clock of some worlds moves after start: past the expiry of
// tokens and grace periods set one hour ahead.
const clockAdvance = 3 * time.Hour

func TestAppsAgreesWithTheEdgeInGeneratedWorlds(t *testing.T) {
	seed := generatedSeed(t)
	t.Logf("seed %d (replay: -args -generated.seed=%d, or %s=%d)", seed, seed,
		envGeneratedSeed, seed)
	worlds := *generatedWorldsFlag
	if worlds == 0 {
		worlds = 20
		if testing.Short() {
			worlds = 4
		}
	}
	for index := range worlds {
		t.Run(fmt.Sprintf("world-%02d", index), func(t *testing.T) {
			t.Parallel()
			checkGeneratedWorld(t, seed, index)
		})
	}
}

func generatedSeed(t *testing.T) uint64 {
	t.Helper()
	if *generatedSeedFlag != 0 {
		return *generatedSeedFlag
	}
	text := os.Getenv(envGeneratedSeed)
	switch text {
	case "":
		return defaultGeneratedSeed
	case "random":
		return rand.Uint64()
	}
	seed, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want an unsigned integer or random", envGeneratedSeed, text)
	}
	return seed
}

// checkGeneratedWorld generates world index of seed, runs apps for every credential
// subject and compares each verdict with the edge's answers.
func checkGeneratedWorld(t *testing.T, seed uint64, index int) {
	gen := generateWorld(seed, index)
	h := startInProcess(t, gen.world)
	h.env["CLOUDFLARE_ZONE_ID"] = h.srv.ZoneID()
	if gen.advance > 0 {
		if err := h.srv.AdvanceClock(gen.advance); err != nil {
			t.Fatal(err)
		}
	}
	check := &worldCheck{t: t, h: h, gen: gen, seed: seed, index: index,
		client: h.srv.Client(), audApps: map[string]string{}, appNames: map[string]string{}}
	for _, app := range gen.world.Applications {
		check.audApps[app.AUD], check.appNames[app.ID] = app.ID, app.Name
	}
	check.run()
	check.report()
}

// worldCheck is the state of one generated world's check.
type worldCheck struct {
	t            *testing.T
	h            *inProcess
	gen          *generatedWorld
	seed         uint64
	index        int
	client       *http.Client
	audApps      map[string]string // AUD tag -> application id
	appNames     map[string]string // application id -> name
	apps         []access.Application
	requests     []edgeRequest
	invalid      appsReport // the verdicts for credentials that do not authenticate
	mu           sync.Mutex
	mismatches   []mismatch
	requestCount int
	runs         int // runs of cfst apps
}

// appsReport is the part of `cfst apps --output json` the test reads.
type appsReport struct {
	Token *struct {
		Name  string `json:"name"`
		State string `json:"state"`
	} `json:"token"`
	Applications []appVerdictView `json:"applications"`
}

type appVerdictView struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Destinations    []string        `json:"destinations"`
	Verdict         string          `json:"verdict"`
	Status          int             `json:"status"`
	Reason          string          `json:"reason"`
	Detail          string          `json:"detail"`
	SingleHeader    string          `json:"single_header"`
	IfAuthenticated *appVerdictView `json:"if_authenticated"`
	Probes          []struct {
		URL       string `json:"url"`
		Class     string `json:"class"`
		Status    int    `json:"status"`
		Agreement string `json:"agreement"`
	} `json:"probes"`
}

// verdictOf returns the verdict for the application with id.
func (r appsReport) verdictOf(id string) *appVerdictView {
	for i := range r.Applications {
		if r.Applications[i].ID == id {
			return &r.Applications[i]
		}
	}
	return nil
}

// credentialSubject is what one series of requests presents as credentials.
type credentialSubject struct {
	label    string // for people: "token tok-3 (expired), current secret"
	token    *tokenPlan
	clientID string
	secret   string
}

func (c *worldCheck) run() {
	unknown := credentialSubject{label: "an unknown client id",
		clientID: "0000000000000000000000000000ffff.access",
		secret:   "cfast_unknownunknownunknownunknownunknown0000"}
	c.invalid = c.appsFor(unknown, "--probe")
	c.buildRequests()
	c.expectProbesAgree(unknown, c.invalid, nil)
	c.compareLive(unknown, c.invalid)

	probed, byName := c.gen.rng.IntN(len(c.gen.tokens)), c.gen.rng.IntN(len(c.gen.tokens))
	for i := range c.gen.tokens {
		c.checkToken(&c.gen.tokens[i], i == probed, i == byName)
	}
}

// checkToken compares the edge with apps for one token: its current secret, its previous
// secret when it has one, and sometimes a wrong secret. With probe, apps --probe must
// agree with the edge too; with byName, apps --token must say what apps says of the
// token in .env. (Each probe costs TLS handshakes, so only some tokens get them.)
func (c *worldCheck) checkToken(plan *tokenPlan, probe, byName bool) {
	world := c.gen.tokenOf(plan.name)
	current := credentialSubject{label: "token " + plan.describe() + ", current secret",
		token: plan, clientID: world.ClientID, secret: world.ClientSecret.Reveal()}
	var args []string
	if probe {
		args = append(args, "--probe")
	}
	report := c.appsFor(current, args...)
	c.expectProbesAgree(current, report, nil)
	c.compareLive(current, report)
	c.compareSingleHeader(current, report)

	if byName {
		c.expectSameVerdicts(current, "apps --token "+plan.name,
			c.appsFor(current, "--token", plan.name), report)
	}

	if plan.previous != "" {
		previous := credentialSubject{label: "token " + plan.describe() + ", previous secret",
			token: plan, clientID: world.ClientID, secret: plan.previous}
		expected := report
		if !plan.inGrace(c.gen.advance) {
			expected = c.invalid
		}
		previousReport := c.appsFor(previous, "--probe")
		c.expectSameVerdicts(previous, "apps with the previous secret in .env", previousReport,
			report)
		c.expectProbesAgree(previous, previousReport, &expected)
		c.compareLive(previous, expected)
	}
	if c.gen.rng.IntN(3) == 0 {
		wrong := credentialSubject{label: "token " + plan.describe() + ", a wrong secret",
			token: plan, clientID: world.ClientID, secret: "cfast_wrong" + world.ClientID}
		c.compareLive(wrong, c.invalid)
	}
}

// expectSameVerdicts records a mismatch for each application that got gives another
// verdict than want, the verdicts of apps with the token's current secret in .env.
func (c *worldCheck) expectSameVerdicts(subject credentialSubject, run string, got,
	want appsReport) {
	for _, view := range want.Applications {
		other := got.verdictOf(view.ID)
		if other == nil || other.Verdict != view.Verdict || other.Status != view.Status ||
			other.Reason != view.Reason || other.Detail != view.Detail {
			m := mismatch{subject: subject, appName: view.Name, kind: run,
				want: verdictText(&view), got: "(no verdict)"}
			if other != nil {
				m.got = verdictText(other)
			}
			c.addMismatch(m)
		}
	}
}

// verdictText describes one verdict of apps.
func verdictText(view *appVerdictView) string {
	return fmt.Sprintf("%s (HTTP %d, application %s): reason %q: %s", view.Verdict,
		view.Status, view.Name, view.Reason, view.Detail)
}

// appsFor runs `cfst apps --output json` with the subject's credentials in .env.
func (c *worldCheck) appsFor(subject credentialSubject, args ...string) appsReport {
	c.t.Helper()
	c.runs++
	envFile := filepath.Join(c.h.dir, fmt.Sprintf("run-%d.env", c.runs))
	content := fmt.Sprintf("CF_SERVICE_TOKEN_CLIENT_ID=%s\nCF_SERVICE_TOKEN_CLIENT_SECRET=%s\n",
		subject.clientID, subject.secret)
	if err := os.WriteFile(envFile, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	app := &App{Streams: &Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr},
		Getenv: func(key string) string { return c.h.env[key] }, Now: c.h.srv.Clock().Now}
	fullArgs := append([]string{"--env-file", envFile, "apps", "--output", "json"}, args...)
	code := Run(context.Background(), app, fullArgs)
	var report appsReport
	if code != 0 && code != ExitCheckFailed {
		c.t.Fatalf("seed %d world %d: cfst %q for %s exited %d\nstderr: %s", c.seed,
			c.index, fullArgs[2:], subject.label, code, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		c.t.Fatalf("seed %d world %d: cfst %q: stdout is not JSON: %v\n%s", c.seed, c.index,
			fullArgs[2:], err, stdout.String())
	}
	return report
}

// buildRequests lists the requests of the world: the samples apps --probe sends for each
// application, and random hostnames and paths, some covered by no application.
func (c *worldCheck) buildRequests() {
	for _, view := range c.invalid.Applications {
		app := access.Application{ID: view.ID, Name: view.Name}
		for _, uri := range view.Destinations {
			app.Destinations = append(app.Destinations,
				access.Destination{Type: "public", URI: uri})
		}
		c.apps = append(c.apps, app)
	}
	seen := map[string]bool{}
	add := func(host, path string) {
		if seen[host+path] || !access.CoversHost(c.apps, host) {
			return
		}
		seen[host+path] = true
		req := edgeRequest{host: host, path: path}
		if app, _, ok := access.Match(c.apps, host, path); ok {
			req.appID = app.ID
		}
		c.requests = append(c.requests, req)
	}
	for i := range c.apps {
		for _, sample := range access.SampleRequests(c.apps, i) {
			add(sample.Host, sample.Path)
		}
	}
	for range 20 {
		add(pick(c.gen.rng, requestHosts), pick(c.gen.rng, requestPaths))
	}
}

// expectProbesAgree checks the probes of apps --probe: every one agrees with its verdict,
// unless the edge follows other verdicts (edge, not nil), in which case a probe agrees
// exactly when both verdicts reach the same class of answer.
func (c *worldCheck) expectProbesAgree(subject credentialSubject, report appsReport,
	edge *appsReport) {
	for _, view := range report.Applications {
		wantVerdict := view.Verdict
		if edge != nil {
			if other := edge.verdictOf(view.ID); other != nil {
				wantVerdict = other.Verdict
			}
		}
		want := "agrees"
		if answerClass(wantVerdict) != answerClass(view.Verdict) {
			want = "disagrees"
		}
		for _, probe := range view.Probes {
			if probe.Agreement != want {
				c.addMismatch(mismatch{subject: subject, appName: view.Name,
					request: probe.URL, kind: "apps --probe",
					want: fmt.Sprintf("a probe that %s: the verdict is %s, the edge answers "+
						"as for %s", want, view.Verdict, wantVerdict),
					got: fmt.Sprintf("%s: %s %d", probe.Agreement, probe.Class, probe.Status)})
			}
		}
	}
}

// answerClass groups verdicts whose live answers cfst cannot tell apart: admitted and
// bypassed requests both reach the origin.
func answerClass(verdict string) string {
	if verdict == string(access.Admitted) || verdict == string(access.Bypassed) {
		return "origin"
	}
	return verdict
}

// edgeRequest is one hostname and path of a world, and the application that covers it
// ("" when none does).
type edgeRequest struct {
	host, path string
	appID      string
}

// edgeAnswer is what the edge did with a request.
type edgeAnswer struct {
	outcome string // an access.Outcome, or "unexpected"
	status  int
	appID   string // the application that answered, when the answer names it
	appName string
	detail  string
}

func (a edgeAnswer) String() string {
	text := fmt.Sprintf("%s (HTTP %d, application %s)", a.outcome, a.status,
		orDash(a.appName))
	if a.detail != "" {
		text += ": " + a.detail
	}
	return text
}

// compareLive sends every request of the world with the subject's credentials in the
// standard headers and compares each answer with the verdict the report gives its
// application.
func (c *worldCheck) compareLive(subject credentialSubject, expected appsReport) {
	c.forEachRequest(func(req edgeRequest) {
		headers := http.Header{}
		headers.Set("CF-Access-Client-Id", subject.clientID)
		headers.Set("CF-Access-Client-Secret", subject.secret)
		c.compareOne(subject, req, headers, expected.verdictOf(req.appID), "standard headers")
	})
}

// compareSingleHeader sends the subject's credentials in the single header of each
// application that reads one, and compares the answer with the verdict apps gives for a
// token sent where the application reads it (if_authenticated). Only a token that
// authenticates has such a verdict to compare with.
func (c *worldCheck) compareSingleHeader(subject credentialSubject, report appsReport) {
	if report.Token == nil || report.Token.State == stateExpired ||
		report.Token.State == stateDisabled {
		return
	}
	credentials, err := json.Marshal(map[string]string{
		"cf-access-client-id": subject.clientID, "cf-access-client-secret": subject.secret})
	if err != nil {
		c.t.Fatal(err)
	}
	c.forEachRequest(func(req edgeRequest) {
		view := report.verdictOf(req.appID)
		if view == nil || view.SingleHeader == "" || view.IfAuthenticated == nil {
			return
		}
		headers := http.Header{}
		headers.Set(view.SingleHeader, string(credentials))
		want := *view.IfAuthenticated
		want.ID, want.Name = view.ID, view.Name
		c.compareOne(subject, req, headers, &want, "single header "+view.SingleHeader)
	})
}

// forEachRequest calls do for every request of the world, a few at a time.
func (c *worldCheck) forEachRequest(do func(edgeRequest)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for _, req := range c.requests {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			do(req)
		}()
	}
	wg.Wait()
}

// compareOne sends one request and records a mismatch when the edge's answer is not the
// expected verdict, or comes from another application than the one Match picks.
func (c *worldCheck) compareOne(subject credentialSubject, req edgeRequest,
	headers http.Header, want *appVerdictView, how string) {
	got := c.askEdge(req, headers)
	got.appName = c.appNames[got.appID]
	c.mu.Lock()
	c.requestCount++
	c.mu.Unlock()
	m := mismatch{subject: subject, request: "https://" + req.host + req.path + " (" + how + ")",
		kind: "live request", got: got.String()}
	switch {
	case req.appID == "":
		// No application covers the path: the edge passes it to the origin without Access.
		if got.outcome != string(access.Bypassed) {
			m.want = "the origin, without Access (no application covers the path)"
			c.addMismatch(m)
		}
	case want == nil:
		m.want = "a verdict from apps for application " + req.appID
		c.addMismatch(m)
	case got.outcome != want.Verdict || got.appID != req.appID:
		m.appName = want.Name
		m.want = verdictText(want)
		c.addMismatch(m)
	}
}

// askEdge sends one request to the edge and reads what Access did from the answer: the
// origin's echo (with an application token when Access admitted the request), the login
// redirect's kid, or the CF-Access-Aud header of a refusal.
func (c *worldCheck) askEdge(req edgeRequest, headers http.Header) edgeAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"https://"+req.host+req.path, nil)
	if err != nil {
		return edgeAnswer{outcome: "unexpected", detail: err.Error()}
	}
	httpReq.Header = headers
	resp, err := c.client.Do(httpReq)
	if err != nil {
		return edgeAnswer{outcome: "unexpected", detail: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	answer := edgeAnswer{status: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusOK:
		answer.readEcho(body)
	case http.StatusFound:
		answer.outcome = string(access.LoginRedirect)
		location, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || location.Host != c.gen.world.TeamDomain() {
			answer.outcome, answer.detail = "unexpected", "Location "+
				resp.Header.Get("Location")
			break
		}
		answer.appID = c.audApps[location.Query().Get("kid")]
	case http.StatusUnauthorized, http.StatusForbidden:
		answer.outcome = string(access.Unauthenticated)
		if resp.StatusCode == http.StatusForbidden {
			answer.outcome = string(access.Forbidden)
		}
		answer.appID = c.audApps[resp.Header.Get("Cf-Access-Aud")]
	default:
		answer.outcome, answer.detail = "unexpected", firstLine(string(body))
	}
	return answer
}

// readEcho reads the "ok" origin's echo: admitted when Access handed the origin an
// application token, bypassed when it did not.
func (a *edgeAnswer) readEcho(body []byte) {
	var echo struct {
		AppID    string         `json:"app_id"`
		Received map[string]any `json:"access_headers_received"`
	}
	if err := json.Unmarshal(body, &echo); err != nil {
		a.outcome, a.detail = "unexpected", "the origin's answer is not its echo"
		return
	}
	a.appID = echo.AppID
	a.outcome = string(access.Bypassed)
	if echo.Received["cf-access-jwt-assertion"] == true {
		a.outcome = string(access.Admitted)
	}
}

// mismatch is one disagreement between apps and the edge.
type mismatch struct {
	subject credentialSubject
	appName string // the application apps judged, when known
	request string
	kind    string // "live request" or "apps --probe"
	want    string
	got     string
}

func (c *worldCheck) addMismatch(m mismatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mismatches = append(c.mismatches, m)
}

// maxReported is how many mismatches of one world the failure lists.
const maxReported = 8

// report fails the test with the seed, the smallest world that shows the first
// mismatch, and the mismatches.
func (c *worldCheck) report() {
	c.t.Logf("%d applications, %d tokens, %d requests, strict %v, clock advanced %s",
		len(c.apps), len(c.gen.tokens), c.requestCount, c.gen.world.Strict, c.gen.advance)
	if len(c.mismatches) == 0 {
		return
	}
	first := c.mismatches[0]
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, world %d: %d mismatches between apps and the edge\n", c.seed,
		c.index, len(c.mismatches))
	fmt.Fprintf(&b, "replay: go test ./internal/cli -run '%s/world-%02d' -args "+
		"-generated.seed=%d\n\n", c.t.Name()[:strings.Index(c.t.Name(), "/")], c.index, c.seed)
	fmt.Fprintf(&b, "the world of the first mismatch, reduced to the applications that "+
		"cover its request:\n%s\n", c.minimalWorldYAML(first))
	for i, m := range c.mismatches[:min(len(c.mismatches), maxReported)] {
		fmt.Fprintf(&b, "mismatch %d (%s)\n  credentials: %s\n", i+1, m.kind,
			m.subject.label)
		if m.request != "" {
			fmt.Fprintf(&b, "  request:     %s\n", m.request)
		}
		if m.appName != "" {
			fmt.Fprintf(&b, "  application: %s\n", m.appName)
		}
		fmt.Fprintf(&b, "  apps says:   %s\n  edge says:   %s\n", m.want, m.got)
	}
	c.t.Error(b.String())
}

// minimalWorldYAML prints the generated world with only what a mismatch needs: the
// applications that cover the request (the one that should answer and those it wins
// over), the policies, groups and tokens they refer to, and the subject's token.
func (c *worldCheck) minimalWorldYAML(m mismatch) string {
	pristine := generateWorld(c.seed, c.index)
	keep := map[string]bool{m.appName: true}
	if u, err := url.Parse(strings.Fields(m.request + " ")[0]); err == nil {
		for _, app := range c.apps {
			if _, _, ok := access.Match([]access.Application{app}, u.Host, u.Path); ok {
				keep[app.Name] = true
			}
		}
	}
	var tokens []string
	if m.subject.token != nil {
		tokens = append(tokens, m.subject.token.name)
	}
	reduced := pristine.reduce(keep, tokens)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(reduced); err != nil {
		return "(cannot print the world: " + err.Error() + ")"
	}
	header := fmt.Sprintf("# generated: seed %d, world %d; strict %v", c.seed, c.index,
		reduced.Strict)
	if c.gen.advance > 0 {
		header += fmt.Sprintf("; the clock moved %s forward after start", c.gen.advance)
	}
	return header + "\n" + out.String()
}

// The hostnames and paths of generated worlds. Application patterns take a host and a
// path; requests go to the request hosts, of which some match only a wildcard and two
// are spelt otherwise than the patterns, and to the request paths, of which some no
// pattern covers.
var (
	patternHosts = []string{"h1.gen.example.com", "h2.gen.example.com", "h3.gen.example.com",
		"*.w.gen.example.com", "*.gen.example.com"}
	patternPaths = []string{"", "/alpha", "/alpha/*", "/alpha/beta", "/beta*", "/*/gamma",
		"/admin"}
	requestHosts = []string{"h1.gen.example.com", "h2.gen.example.com", "h3.gen.example.com",
		"a.w.gen.example.com", "b.w.gen.example.com", "h4.gen.example.com", "w.gen.example.com",
		"H1.Gen.Example.COM", "h2.gen.example.com."}
	requestPaths = []string{"/", "/alpha", "/alpha/", "/alpha/one", "/alpha/beta",
		"/alpha/beta/c", "/alphabet", "/beta", "/betamax/x", "/x/gamma", "/admin",
		"/admin/users", "/administrator", "/other"}
)

// generatedWorld is a world and what the generator decided about it.
type generatedWorld struct {
	rng     *rand.Rand
	world   *emulator.World
	advance time.Duration
	tokens  []tokenPlan
}

// tokenPlan is the state the generator gave a service token.
type tokenPlan struct {
	name     string
	kind     string // one of tokenKinds
	previous string // its previous secret; "" when it was never rotated
	// graceEnd is when the previous secret stops working, from the start of the emulator.
	graceEnd time.Duration
}

// describe names the token and its state for a failure message.
func (p *tokenPlan) describe() string {
	text := p.name + " (" + p.kind
	if p.previous != "" {
		text += ", rotated, previous secret valid until start" + signed(p.graceEnd)
	}
	return text + ")"
}

// inGrace reports whether the previous secret still works after the clock moved advance.
func (p *tokenPlan) inGrace(advance time.Duration) bool {
	return p.previous != "" && p.graceEnd > advance
}

// signed prints a duration with its sign, as world times relative to the start are written.
func signed(d time.Duration) string {
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}

// tokenKinds are the states a generated token starts in. "expires-by-clock" expires only
// in worlds whose clock moves.
var tokenKinds = []string{"active", "forever", "expiring", "expired", "expires-by-clock",
	"disabled", "disabled-expired"}

// generateWorld builds world index of seed. The same seed and index give the same world.
func generateWorld(seed uint64, index int) *generatedWorld {
	rng := rand.New(rand.NewPCG(seed, uint64(index)))
	gen := &generatedWorld{rng: rng, world: &emulator.World{
		Seed: int64(rng.Uint64()>>2) + 1, Team: "gen", Strict: rng.IntN(10) < 3,
		APITokens: []emulator.WorldAPIToken{{Name: "all", Permissions: []string{"all"},
			Value: emulator.NewSecret("cfst-generated-world-api-token-not-a-secret")}},
	}}
	if rng.IntN(2) == 0 {
		gen.advance = clockAdvance
	}
	gen.addTokens()
	gen.addGroups()
	gen.addPolicies()
	gen.addApps()
	return gen
}

func (g *generatedWorld) chance(percent int) bool { return g.rng.IntN(100) < percent }

func pick[T any](rng *rand.Rand, items []T) T { return items[rng.IntN(len(items))] }

func (g *generatedWorld) tokenOf(name string) *emulator.WorldServiceToken {
	for i := range g.world.ServiceTokens {
		if g.world.ServiceTokens[i].Name == name {
			return &g.world.ServiceTokens[i]
		}
	}
	panic("no generated token " + name)
}

// addTokens makes a token of every kind, in random order, and a few more; two of them
// were rotated, one still in its grace period (unless the clock moves past it) and one
// after it.
func (g *generatedWorld) addTokens() {
	kinds := slices.Clone(tokenKinds)
	for range g.rng.IntN(3) {
		kinds = append(kinds, pick(g.rng, tokenKinds))
	}
	g.rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	for i, kind := range kinds {
		plan := tokenPlan{name: fmt.Sprintf("tok-%d", i+1), kind: kind}
		token := emulator.WorldServiceToken{Name: plan.name}
		if g.chance(15) {
			token.Scope = "zone"
		}
		setTokenKind(&token, kind)
		if i < 2 || g.chance(20) {
			plan.graceEnd = time.Hour // a grace the clock may move past
			if i == 1 || (i > 1 && g.chance(50)) {
				plan.graceEnd = -time.Hour // a grace already over
			}
			plan.previous = fmt.Sprintf("cfast_previous%032d", g.rng.Uint64())
			token.PreviousClientSecret = emulator.NewSecret(plan.previous)
			token.PreviousClientSecretExpiresAt = signed(plan.graceEnd)
			token.ClientSecretVersion = 2
		}
		g.tokens = append(g.tokens, plan)
		g.world.ServiceTokens = append(g.world.ServiceTokens, token)
	}
}

func setTokenKind(token *emulator.WorldServiceToken, kind string) {
	disabled := false
	switch kind {
	case "forever":
		token.Duration = "forever"
	case "expiring":
		token.ExpiresAt = "+72h"
	case "expired":
		token.ExpiresAt = "expired"
	case "expires-by-clock":
		token.ExpiresAt = "+1h"
	case "disabled":
		token.Enabled = &disabled
	case "disabled-expired":
		token.Enabled, token.ExpiresAt = &disabled, "-48h"
	}
}

// addGroups makes a few groups; a group may refer to the groups made before it.
func (g *generatedWorld) addGroups() {
	for i := range 2 + g.rng.IntN(4) {
		group := emulator.WorldGroup{Name: fmt.Sprintf("group-%d", i+1),
			Include: g.rules(groupIncludeKinds, 1+g.rng.IntN(2))}
		if g.chance(20) {
			group.Exclude = g.rules(excludeKinds, 1)
		}
		if g.chance(15) {
			group.Require = g.rules(requireKinds, 1)
		}
		if g.chance(20) {
			group.Scope = "zone"
		}
		g.world.Groups = append(g.world.Groups, group)
	}
}

// addPolicies makes the reusable policies.
func (g *generatedWorld) addPolicies() {
	for i := range 3 + g.rng.IntN(4) {
		g.world.Policies = append(g.world.Policies,
			g.policy(fmt.Sprintf("reusable-%d", i+1)))
	}
}

func (g *generatedWorld) policy(name string) emulator.WorldPolicy {
	policy := emulator.WorldPolicy{Name: name, Decision: pick(g.rng, decisions),
		Include: g.rules(includeKinds, 1+g.rng.IntN(2))}
	if g.chance(30) {
		policy.Exclude = g.rules(excludeKinds, 1)
	}
	if g.chance(20) {
		policy.Require = g.rules(requireKinds, 1)
	}
	return policy
}

// decisions weighs the decisions: Service Auth most often.
var decisions = []access.Decision{access.DecisionNonIdentity, access.DecisionNonIdentity,
	access.DecisionNonIdentity, access.DecisionAllow, access.DecisionAllow,
	access.DecisionBypass, access.DecisionDeny, access.DecisionDeny}

// The rule kinds of each list, repeated to weigh them. The ip and geo rules never match
// the emulator's client (127.0.0.1 in the US): apps takes such rules as not matching.
var (
	includeKinds = []string{"token", "token", "token", "any", "any", "group", "group",
		"everyone", "ip", "geo", "email_domain", "certificate"}
	groupIncludeKinds = []string{"token", "token", "any", "group", "group", "everyone",
		"email_domain"}
	excludeKinds = []string{"token", "token", "group", "group", "any", "ip", "everyone",
		"geo"}
	requireKinds = []string{"any", "any", "group", "group", "token", "everyone", "geo"}
)

// rules makes n rules of the kinds given. Group rules name only groups made so far.
func (g *generatedWorld) rules(kinds []string, n int) []access.Rule {
	rules := make([]access.Rule, 0, n)
	for len(rules) < n {
		rule, ok := g.rule(pick(g.rng, kinds))
		if ok {
			rules = append(rules, rule)
		}
	}
	return rules
}

func (g *generatedWorld) rule(kind string) (access.Rule, bool) {
	switch kind {
	case "token":
		token := pick(g.rng, g.world.ServiceTokens)
		return access.Rule{ServiceToken: &access.ServiceTokenRule{TokenID: token.Name}}, true
	case "any":
		return access.Rule{AnyValidServiceToken: &access.Empty{}}, true
	case "group":
		if len(g.world.Groups) == 0 {
			return access.Rule{}, false
		}
		group := pick(g.rng, g.world.Groups)
		return access.Rule{Group: &access.GroupRule{ID: group.Name}}, true
	case "everyone":
		return access.Rule{Everyone: &access.Empty{}}, true
	case "ip":
		return access.Rule{IP: &access.IPRule{IP: "203.0.113.0/24"}}, true
	case "geo":
		return access.Rule{Geo: &access.GeoRule{CountryCode: "NZ"}}, true
	case "email_domain":
		return access.Rule{EmailDomain: &access.EmailDomainRule{Domain: "example.com"}}, true
	default:
		return access.Rule{Certificate: &access.Empty{}}, true
	}
}

// addApps makes the applications: each covers one to three patterns no other
// application has, and has no policies, reusable ones, or app-scoped ones, in a random
// order of precedence.
func (g *generatedWorld) addApps() {
	used := map[string]bool{}
	for i := range 6 + g.rng.IntN(5) {
		app := emulator.WorldApp{Name: fmt.Sprintf("app-%d", i+1), Domain: g.pattern(used)}
		for range g.rng.IntN(3) {
			app.Destinations = append(app.Destinations, g.pattern(used))
		}
		if g.chance(20) {
			app.Scope = "zone"
		}
		if g.chance(15) {
			app.ReadServiceTokensFromHeader = pick(g.rng, []string{"X-Cfst-Token",
				"Authorization"})
		}
		app.ServiceAuth401Redirect = g.chance(15)
		app.Policies = g.appPolicies(app.Name)
		g.world.Applications = append(g.world.Applications, app)
	}
}

// pattern picks a hostname and path, now and then one another application has already:
// two applications with the very same destination are a tie that cfst and the edge must
// break the same way (the account's application first, then the one created first).
func (g *generatedWorld) pattern(used map[string]bool) string {
	for {
		pattern := pick(g.rng, patternHosts) + pick(g.rng, patternPaths)
		if !used[pattern] || g.chance(25) {
			used[pattern] = true
			return pattern
		}
	}
}

func (g *generatedWorld) appPolicies(appName string) []emulator.WorldAppPolicy {
	if g.chance(10) {
		return nil
	}
	count := 1 + g.rng.IntN(4)
	precedences := g.rng.Perm(count + 3)[:count]
	var policies []emulator.WorldAppPolicy
	if g.chance(50) {
		for i, k := range g.rng.Perm(len(g.world.Policies))[:min(count, len(g.world.Policies))] {
			policies = append(policies, emulator.WorldAppPolicy{
				Ref: g.world.Policies[k].Name, Precedence: precedences[i] + 1})
		}
		return policies
	}
	for i := range count {
		policies = append(policies, emulator.WorldAppPolicy{Precedence: precedences[i] + 1,
			WorldPolicy: g.policy(fmt.Sprintf("%s-policy-%d", appName, i+1))})
	}
	return policies
}

// reduce returns a copy of the world with only the applications named in keep, the
// policies, groups and tokens they refer to, and the tokens named.
func (g *generatedWorld) reduce(keep map[string]bool, tokens []string) *emulator.World {
	w := g.world
	out := &emulator.World{Seed: w.Seed, Team: w.Team, Strict: w.Strict}
	refs := worldRefs{tokens: map[string]bool{}, groups: map[string]bool{},
		policies: map[string]bool{}}
	for _, name := range tokens {
		refs.tokens[name] = true
	}
	for _, app := range w.Applications {
		if !keep[app.Name] {
			continue
		}
		out.Applications = append(out.Applications, app)
		for _, p := range app.Policies {
			refs.policies[p.Ref] = true
			refs.add(p.Include, p.Exclude, p.Require)
		}
	}
	for _, p := range w.Policies {
		if refs.policies[p.Name] {
			out.Policies = append(out.Policies, p)
			refs.add(p.Include, p.Exclude, p.Require)
		}
	}
	for i := len(w.Groups) - 1; i >= 0; i-- { // a group refers only to earlier ones
		if group := w.Groups[i]; refs.groups[group.Name] {
			refs.add(group.Include, group.Exclude, group.Require)
		}
	}
	for _, group := range w.Groups {
		if refs.groups[group.Name] {
			out.Groups = append(out.Groups, group)
		}
	}
	for _, token := range w.ServiceTokens {
		if refs.tokens[token.Name] {
			out.ServiceTokens = append(out.ServiceTokens, token)
		}
	}
	return out
}

// worldRefs collects the names that rules refer to.
type worldRefs struct {
	tokens, groups, policies map[string]bool
}

func (r worldRefs) add(sets ...[]access.Rule) {
	for _, rules := range sets {
		for _, rule := range rules {
			switch {
			case rule.ServiceToken != nil:
				r.tokens[rule.ServiceToken.TokenID] = true
			case rule.Group != nil:
				r.groups[rule.Group.ID] = true
			}
		}
	}
}
