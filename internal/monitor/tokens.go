package monitor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/usage"
)

// The states of a watched token.
const (
	TokenActive   = "active"
	TokenExpiring = "expiring"
	TokenExpired  = "expired"
	TokenDisabled = "disabled"
)

// tokenView is a watched token as the status page shows it.
type tokenView struct {
	ID, Name, ClientID string
	State              string
	ExpiresAt          time.Time
	Forever            bool
	LastSeen           time.Time
	Admitted, Refused  int64
}

// tokenStatus is what the last token check found.
type tokenStatus struct {
	checkedAt time.Time
	// problem says why tokens are not watched, or what part of the check failed.
	problem  string
	missing  []string
	tokens   []tokenView
	findings []usage.Finding
	// states and findingKeys remember the last check, to alert on changes only.
	states      map[string]string
	findingKeys map[string]bool
}

// watchTokens checks the tokens at once and then every tokens.interval.
func (m *Monitor) watchTokens(ctx context.Context) {
	for {
		m.checkTokens(ctx)
		if !m.wait(ctx, m.opts.TokenRounds,
			func(cfg *Config) time.Duration { return cfg.Tokens.Interval }) {
			return
		}
	}
}

// checkTokens reads the tokens and their usage, and alerts on what changed.
func (m *Monitor) checkTokens(ctx context.Context) {
	m.mu.Lock()
	setup := m.setup
	m.mu.Unlock()
	cfg := setup.Config.Tokens
	now := m.opts.Now()
	if setup.API == nil {
		m.setTokenProblem(now, "tokens are not watched: no Cloudflare API token is set")
		return
	}
	all, err := setup.API.ListTokens(ctx, cloudflare.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			m.setTokenProblem(now, "cannot list the service tokens: "+err.Error())
			m.metrics.tokenChecks.WithLabelValues("error").Inc()
		}
		return
	}
	watched, missing := selectTokens(all, cfg.Watch)
	report, problem := m.analyzeUsage(ctx, setup, watched, now)
	if ctx.Err() != nil {
		return
	}
	alerts := m.recordTokens(watched, missing, report, problem, now, cfg)
	for _, a := range alerts {
		m.alert(a)
	}
	result := "ok"
	if problem != "" {
		result = "error"
	}
	m.metrics.tokenChecks.WithLabelValues(result).Inc()
	m.emit(Event{Kind: EventTokenCheck})
}

// analyzeUsage runs the usage analysis; a failure is a problem to show, not a reason to
// stop watching expiry.
func (m *Monitor) analyzeUsage(ctx context.Context, setup Setup, watched []cloudflare.Token,
	now time.Time) (usage.Report, string) {
	cfg := setup.Config.Tokens
	if !cfg.Usage || len(watched) == 0 {
		return usage.Report{}, ""
	}
	tokens := make([]usage.Token, 0, len(watched))
	ids := make([]string, 0, len(watched))
	for _, tok := range watched {
		tokens = append(tokens, usage.TokenFrom(tok))
		ids = append(ids, tok.ID)
	}
	opts := usage.Options{Now: now, Since: cfg.UsageSince, Baseline: cfg.UsageBaseline,
		ExpiringWithin: cfg.ExpiringWithin}
	if len(cfg.Watch) > 0 {
		opts.TokenIDs = ids
	}
	report, err := usage.Analyze(ctx, setup.API, tokens, opts)
	if err != nil {
		return usage.Report{}, "usage is not checked: " + err.Error()
	}
	return report, ""
}

// selectTokens keeps the tokens that watch names (by name, id or client id), or all of
// them when watch is empty, and lists the names that match none.
func selectTokens(all []cloudflare.Token, watch []string) ([]cloudflare.Token, []string) {
	if len(watch) == 0 {
		return all, nil
	}
	var watched []cloudflare.Token
	var missing []string
	for _, ref := range watch {
		i := slices.IndexFunc(all, func(tok cloudflare.Token) bool {
			return tok.Name == ref || tok.ID == ref || tok.ClientID == ref
		})
		if i < 0 {
			missing = append(missing, ref)
			continue
		}
		if !slices.ContainsFunc(watched, func(tok cloudflare.Token) bool {
			return tok.ID == all[i].ID
		}) {
			watched = append(watched, all[i])
		}
	}
	return watched, missing
}

func tokenState(tok cloudflare.Token, now time.Time, expiringWithin time.Duration) string {
	switch {
	case !tok.Enabled:
		return TokenDisabled
	case tok.Forever || tok.ExpiresAt.IsZero():
		return TokenActive
	case !tok.ExpiresAt.After(now):
		return TokenExpired
	case tok.ExpiresAt.Sub(now) <= expiringWithin:
		return TokenExpiring
	}
	return TokenActive
}

func (m *Monitor) setTokenProblem(now time.Time, problem string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens.checkedAt, m.tokens.problem = now, m.scrub.Scrub(problem)
}

// recordTokens stores a check's result, sets the token metrics and returns the alerts:
// a token that becomes expiring or expired, one refreshed since, and each new finding.
func (m *Monitor) recordTokens(watched []cloudflare.Token, missing []string,
	report usage.Report, problem string, now time.Time, cfg TokenConfig) []Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	used := map[string]usage.TokenUsage{}
	for _, u := range report.Tokens {
		used[u.ID] = u
	}
	previous := m.tokens.states
	status := tokenStatus{checkedAt: now, problem: m.scrub.Scrub(problem), missing: missing,
		states: map[string]string{}, findingKeys: map[string]bool{}}
	var alerts []Alert
	m.metrics.resetTokens()
	for _, tok := range watched {
		view := m.viewToken(tok, used[tok.ID], now, cfg)
		status.tokens = append(status.tokens, view)
		status.states[tok.ID] = view.State
		if a, ok := m.tokenAlert(view, previous[tok.ID], now); ok {
			alerts = append(alerts, a)
		}
	}
	for _, f := range report.Findings {
		if f.Kind == usage.KindExpiring || f.Kind == usage.KindExpired {
			continue // the token's state says it
		}
		status.findings = append(status.findings, f)
		status.findingKeys[f.Key()] = true
		m.metrics.tokenFindings.WithLabelValues(f.TokenName, f.TokenID, f.Kind).Inc()
		if m.tokens.findingKeys[f.Key()] {
			continue
		}
		a := Alert{Kind: "finding", Name: f.TokenName, State: f.Kind, At: now,
			Shard: m.opts.Shard.String(), Message: f.Summary, Finding: &f,
			key: "finding " + f.Key()}
		if m.admitAlert(a) {
			alerts = append(alerts, a)
		}
	}
	m.tokens = status
	return alerts
}

// viewToken describes a token and sets its metrics. m.mu must be held.
func (m *Monitor) viewToken(tok cloudflare.Token, u usage.TokenUsage, now time.Time,
	cfg TokenConfig) tokenView {
	view := tokenView{ID: tok.ID, Name: tok.Name, ClientID: tok.ClientID,
		State: tokenState(tok, now, cfg.ExpiringWithin), ExpiresAt: tok.ExpiresAt,
		Forever: tok.Forever, LastSeen: tok.LastSeenAt, Admitted: u.Admitted,
		Refused: u.Refused}
	if u.LastLogin.After(view.LastSeen) {
		view.LastSeen = u.LastLogin
	}
	if !tok.Forever && !tok.ExpiresAt.IsZero() {
		m.metrics.tokenExpiry.WithLabelValues(tok.Name, tok.ID).Set(
			tok.ExpiresAt.Sub(now).Seconds())
	}
	if !view.LastSeen.IsZero() {
		m.metrics.tokenLastSeen.WithLabelValues(tok.Name, tok.ID).Set(
			float64(view.LastSeen.Unix()))
	}
	if cfg.Usage {
		m.metrics.tokenLogins.WithLabelValues(tok.Name, tok.ID, "admitted").Set(
			float64(u.Admitted))
		m.metrics.tokenLogins.WithLabelValues(tok.Name, tok.ID, "refused").Set(
			float64(u.Refused))
	}
	return view
}

// tokenAlert alerts when a token starts expiring or has expired, and when a token that
// did is active again. m.mu must be held.
func (m *Monitor) tokenAlert(view tokenView, previous string, now time.Time) (Alert, bool) {
	bad := func(state string) bool { return state == TokenExpiring || state == TokenExpired }
	a := Alert{Kind: "token", Name: view.Name, State: view.State, Previous: previous, At: now,
		Shard: m.opts.Shard.String(), key: "token " + view.ID}
	switch {
	case bad(view.State) && view.State != previous:
		verb := "expires"
		if view.State == TokenExpired {
			verb = "expired"
		}
		a.Message = fmt.Sprintf("service token %s %s %s (%s)", view.Name, verb,
			relative(view.ExpiresAt, now), view.ExpiresAt.UTC().Format(time.RFC3339))
		return a, m.admitAlert(a)
	case bad(previous) && view.State == TokenActive:
		a.Resolved = true
		a.Message = fmt.Sprintf("service token %s is no longer %s: it expires %s", view.Name,
			previous, relative(view.ExpiresAt, now))
		if view.Forever {
			a.Message = fmt.Sprintf("service token %s is no longer %s: it never expires",
				view.Name, previous)
		}
		return a, true
	}
	return Alert{}, false
}

// relative says "in 9 days", "3h ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	amount := d.Abs()
	text := fmt.Sprintf("%dh", int(amount.Hours()))
	if amount >= 48*time.Hour {
		text = fmt.Sprintf("%d days", int(amount/(24*time.Hour)))
	}
	if d < 0 {
		return text + " ago"
	}
	return "in " + text
}
