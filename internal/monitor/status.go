package monitor

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cfst/cfst/internal/probe"
	"github.com/cfst/cfst/internal/usage"
)

// Handler serves the status page (/), /api/status, /metrics and /healthz.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", m.servePage)
	mux.HandleFunc("GET /api/status", m.serveStatus)
	mux.HandleFunc("GET /healthz", m.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.registry,
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	return mux
}

// Status is the monitor's state as /api/status serves it. Its keys are a stable
// interface.
type Status struct {
	GeneratedAt     time.Time     `json:"generated_at"`
	Shard           string        `json:"shard"`
	IntervalSeconds float64       `json:"interval_seconds"`
	Rounds          int64         `json:"rounds"`
	LastRound       time.Time     `json:"last_round,omitzero"`
	Healthy         bool          `json:"healthy"`
	Services        []ServiceJSON `json:"services"`
	Tokens          TokensJSON    `json:"tokens"`
}

// ServiceJSON is one service in Status.
type ServiceJSON struct {
	Name string `json:"name"`
	// URL is the probed URL without its query string.
	URL       string        `json:"url"`
	State     string        `json:"state"`
	Since     time.Time     `json:"since"`
	Class     string        `json:"class,omitempty"`
	Status    int           `json:"status,omitempty"`
	LatencyMS float64       `json:"latency_ms"`
	Detail    string        `json:"detail,omitempty"`
	Hint      string        `json:"hint,omitempty"`
	Probes    int64         `json:"probes"`
	Failures  int64         `json:"failures"`
	History   []HistoryJSON `json:"history"`
}

// HistoryJSON is one past probe of a service.
type HistoryJSON struct {
	At        time.Time `json:"at"`
	Class     string    `json:"class"`
	Status    int       `json:"status,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
}

// TokensJSON is the last token check in Status.
type TokensJSON struct {
	CheckedAt time.Time       `json:"checked_at,omitzero"`
	Problem   string          `json:"problem,omitempty"`
	Missing   []string        `json:"missing,omitempty"`
	Tokens    []TokenJSON     `json:"tokens"`
	Findings  []usage.Finding `json:"findings"`
}

// TokenJSON is one watched token.
type TokenJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ClientID    string    `json:"client_id"`
	State       string    `json:"state"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Forever     bool      `json:"forever"`
	SecondsLeft *float64  `json:"seconds_left,omitempty"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	Admitted    int64     `json:"admitted"`
	Refused     int64     `json:"refused"`
}

// Status returns the monitor's state now.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	cfg := m.setup.Config
	s := Status{GeneratedAt: now, Shard: m.opts.Shard.String(), Rounds: m.rounds,
		IntervalSeconds: cfg.Interval.Seconds(), LastRound: m.lastRound,
		Healthy: m.healthy(now), Services: []ServiceJSON{}}
	for _, key := range m.order {
		s.Services = append(s.Services, serviceJSON(m.services[key]))
	}
	s.Tokens = TokensJSON{CheckedAt: m.tokens.checkedAt, Problem: m.tokens.problem,
		Missing: m.tokens.missing, Tokens: []TokenJSON{}, Findings: m.tokens.findings}
	if s.Tokens.Findings == nil {
		s.Tokens.Findings = []usage.Finding{}
	}
	for _, tok := range m.tokens.tokens {
		view := TokenJSON{ID: tok.ID, Name: tok.Name, ClientID: tok.ClientID, State: tok.State,
			Forever: tok.Forever, LastSeen: tok.LastSeen, Admitted: tok.Admitted,
			Refused: tok.Refused}
		if !tok.Forever && !tok.ExpiresAt.IsZero() {
			left := tok.ExpiresAt.Sub(now).Seconds()
			view.ExpiresAt, view.SecondsLeft = tok.ExpiresAt, &left
		}
		s.Tokens.Tokens = append(s.Tokens.Tokens, view)
	}
	return s
}

func serviceJSON(svc *service) ServiceJSON {
	r := svc.last
	out := ServiceJSON{Name: svc.name, URL: publicURL(svc.target.URL), State: svc.state,
		Since: svc.since, Class: string(r.Class), Status: r.Status,
		LatencyMS: milliseconds(r.Latency), Detail: r.Detail, Hint: r.Hint,
		Probes: svc.probes, Failures: svc.fail, History: []HistoryJSON{}}
	for _, h := range svc.history {
		out.History = append(out.History, HistoryJSON{At: h.At, Class: string(h.Class),
			Status: h.Status, LatencyMS: milliseconds(h.Latency)})
	}
	return out
}

func milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// publicURL drops the query and fragment of a URL, which could carry a credential.
func publicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u.String()
}

// healthy reports whether probe rounds keep coming: the last one (or the start) is
// less than three intervals old. m.mu must be held.
func (m *Monitor) healthy(now time.Time) bool {
	last := m.lastRound
	if last.IsZero() {
		last = m.started
	}
	return now.Sub(last) < 3*m.setup.Config.Interval+m.setup.Config.Timeout
}

func (m *Monitor) serveStatus(w http.ResponseWriter, _ *http.Request) {
	data, err := json.MarshalIndent(m.Status(), "", "  ")
	if err != nil {
		http.Error(w, "cannot encode the status", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append([]byte(m.scrub.Scrub(string(data))), '\n'))
}

func (m *Monitor) serveHealth(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	healthy := m.healthy(m.opts.Now())
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !healthy {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "stale: no probe round for three intervals")
		return
	}
	fmt.Fprintln(w, "ok")
}

func (m *Monitor) servePage(w http.ResponseWriter, _ *http.Request) {
	page := newPage(m.Status())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	var out scrubbedWriter
	out.w, out.scrub = w, m.scrub.Scrub
	if err := statusPage.Execute(&out, page); err != nil {
		m.logf("status page: %v", err)
	}
}

// scrubbedWriter scrubs every write, the last guard between a secret and the page.
type scrubbedWriter struct {
	w     http.ResponseWriter
	scrub func(string) string
}

func (s *scrubbedWriter) Write(p []byte) (int, error) {
	if _, err := s.w.Write([]byte(s.scrub(string(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// page is what the status page template reads.
type page struct {
	Status
	Refresh   int
	Counts    map[string]int
	LastRound string
	Services  []pageService
	Tokens    []pageToken
}

type pageService struct {
	ServiceJSON
	Latency string
	Since   string
	Ticks   []pageTick
}

type pageTick struct{ Kind, Title string }

type pageToken struct {
	TokenJSON
	Expires  string
	LastSeen string
}

func newPage(s Status) page {
	p := page{Status: s, Refresh: int(min(max(s.IntervalSeconds, 5), 60)),
		Counts: map[string]int{}, LastRound: ago(s.LastRound, s.GeneratedAt)}
	for _, svc := range s.Services {
		p.Counts[svc.State]++
		ps := pageService{ServiceJSON: svc, Since: ago(svc.Since, s.GeneratedAt),
			Latency: fmt.Sprintf("%.0f ms", svc.LatencyMS)}
		for _, h := range svc.History {
			ps.Ticks = append(ps.Ticks, pageTick{Kind: tickKind(probe.Class(h.Class)),
				Title: fmt.Sprintf("%s %s %.0f ms", h.At.UTC().Format("15:04:05"), h.Class,
					h.LatencyMS)})
		}
		p.Services = append(p.Services, ps)
	}
	for _, tok := range s.Tokens.Tokens {
		pt := pageToken{TokenJSON: tok, Expires: "never", LastSeen: ago(tok.LastSeen,
			s.GeneratedAt)}
		if !tok.Forever && !tok.ExpiresAt.IsZero() {
			pt.Expires = tok.ExpiresAt.UTC().Format("2006-01-02") + " (" +
				relative(tok.ExpiresAt, s.GeneratedAt) + ")"
		}
		p.Tokens = append(p.Tokens, pt)
	}
	return p
}

func tickKind(class probe.Class) string {
	switch class {
	case probe.ClassOK:
		return "ok"
	case probe.ClassBackendDown, probe.ClassTunnelDown:
		return "down"
	}
	return "bad"
}

// ago says how long before now t was: "just now", "5m ago", "never".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>cfst monitor: {{len .Services}} services, {{index .Counts "failing"}} failing</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
color:#1d1d1f;background:#f6f6f8}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.meta{color:#666;font-size:.85rem;margin:.2rem 0}
.service{background:#fff;border-radius:.6rem;padding:.7rem .9rem;margin:.5rem 0;
border-left:.4rem solid #aaa}
.service.state-ok{border-color:#2e9d4f}.service.state-failing{border-color:#d33a2c}
.service h3{font-size:1rem;margin:0;word-break:break-all}
.row{display:flex;gap:.6rem;align-items:center}
.badge{font-size:.75rem;font-weight:600;text-transform:uppercase;padding:.1rem .45rem;
border-radius:.3rem;background:#ddd}
.badge.ok{background:#d7f2de;color:#1c6b34}.badge.failing{background:#fbdcd8;color:#9c2117}
.detail,.hint{font-size:.85rem;margin:.3rem 0;color:#444}.hint{color:#7a4a00}
.history{display:flex;flex-wrap:wrap;gap:2px;margin-top:.4rem}
.tick{width:.55rem;height:1rem;border-radius:2px;background:#aaa}
.tick.ok{background:#2e9d4f}.tick.down{background:#e39b1a}.tick.bad{background:#d33a2c}
.tokens{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff;
border-radius:.6rem;font-size:.9rem}th,td{text-align:left;padding:.45rem .6rem;
border-bottom:1px solid #eee}td.state-expired,td.state-expiring{color:#9c2117;
font-weight:600}
.finding{margin:.3rem 0;font-size:.9rem}.finding.critical{color:#9c2117}
.problem{color:#7a4a00}footer{margin-top:2rem;font-size:.8rem;color:#888}
</style>
</head>
<body>
<header>
<h1>cfst monitor</h1>
<p class="meta" id="summary">{{index .Counts "ok"}} ok, {{index .Counts "failing"}} failing,
{{index .Counts "pending"}} pending · shard {{.Shard}} · every {{.IntervalSeconds}}s ·
last round {{.LastRound}}{{if not .Healthy}} · <strong>stalled</strong>{{end}}</p>
</header>
<section id="services">
<h2>Services</h2>
{{range .Services}}<article class="service state-{{.State}}" data-service="{{.Name}}"
 data-state="{{.State}}">
<div class="row"><span class="badge {{.State}}">{{.State}}</span><h3>{{.Name}}</h3></div>
<p class="detail"><span class="class">{{if .Class}}{{.Class}}{{else}}not probed yet{{end}}</span>
{{if .Status}} · HTTP {{.Status}}{{end}} · {{.Latency}} · {{.State}} since {{.Since}}</p>
{{if .Hint}}<p class="hint">{{.Hint}}</p>{{end}}
<div class="history" aria-label="last probes, oldest first">{{range .Ticks}}<span
 class="tick {{.Kind}}" title="{{.Title}}"></span>{{end}}</div>
</article>
{{else}}<p>No services to probe in this shard.</p>{{end}}
</section>
<section id="tokens" class="tokens">
<h2>Service tokens</h2>
{{with .Status.Tokens.Problem}}<p class="problem">{{.}}</p>{{end}}
{{range .Status.Tokens.Missing}}<p class="problem">watched token {{.}} was not found</p>{{end}}
{{if .Tokens}}<table>
<thead><tr><th>Token</th><th>State</th><th>Expires</th><th>Last seen</th>
<th>Logins (refused)</th></tr></thead>
<tbody>{{range .Tokens}}<tr class="token" data-token="{{.Name}}" data-state="{{.State}}">
<td>{{.Name}}</td><td class="state-{{.State}}">{{.State}}</td><td>{{.Expires}}</td>
<td>{{.LastSeen}}</td><td>{{.Admitted}} ({{.Refused}})</td></tr>{{end}}</tbody>
</table>{{end}}
{{if .Status.Tokens.Findings}}<h2>Findings</h2>
<ul>{{range .Status.Tokens.Findings}}<li class="finding {{.Severity}}">{{.Summary}}</li>{{end}}</ul>{{end}}
</section>
<footer>Refreshes every {{.Refresh}}s · <a href="/api/status">/api/status</a> ·
<a href="/metrics">/metrics</a></footer>
</body>
</html>
`))
