package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// apiPrefix is where the Cloudflare API lives on every host that is not an edge hostname
// or the team domain.
const apiPrefix = "/client/v4"

// envelope is the JSON body of every API answer.
type envelope struct {
	Success    bool        `json:"success"`
	Errors     []*apiError `json:"errors"`
	Messages   []*apiError `json:"messages"`
	Result     any         `json:"result"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

// resultInfo describes one page of a list.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// apiCall is one authenticated API request, on its way to a handler.
type apiCall struct {
	r       *http.Request
	now     time.Time
	scope   string // scopeAccount or scopeZone; "" for routes outside both
	scopeID string
	tokenID string // the id of the API token that authenticated
}

// apiResult is what a handler answers when it succeeds.
type apiResult struct {
	status int
	result any
	info   *resultInfo
}

type apiHandler func(c *apiCall) (apiResult, error)

func okResult(result any) (apiResult, error) {
	return apiResult{status: http.StatusOK, result: result}, nil
}

func createdResult(result any) (apiResult, error) {
	return apiResult{status: http.StatusCreated, result: result}, nil
}

// serveAPI answers a Cloudflare API request: it applies injected faults, then routes.
// Every answer, a fault's included, carries a cf-ray header, as Cloudflare's do.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	defer recoverAsInternalError(w)
	s.state.apiRequests.Add(1)
	stampRay(w)
	w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
	rest, found := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !found || rest == "" || path.Clean(rest) != rest {
		writeAPIError(w, errNoRoute())
		return
	}
	if f, fired := s.state.faults.fire(r.Method, "", rest); fired {
		if !f.delay(r.Context()) {
			return
		}
		if f.Status != 0 {
			writeAPIError(w, faultError(f))
			return
		}
	}
	inner := new(http.Request)
	*inner = *r
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	inner.URL = &u
	routes := s.apiRoutes()
	if h, pattern := routes.Handler(inner); pattern == "" {
		writeAPIError(w, unroutedError(h, inner))
		return
	}
	routes.ServeHTTP(w, inner)
}

// apiRoutes returns the API's router, built on first use.
func (s *Server) apiRoutes() *http.ServeMux {
	s.state.routesOnce.Do(func() { s.state.routes = s.newAPIMux() })
	return s.state.routes
}

func (s *Server) newAPIMux() *http.ServeMux {
	mux := http.NewServeMux()
	s.tokenRoutes(mux)
	s.appRoutes(mux)
	s.policyRoutes(mux)
	s.groupRoutes(mux)
	s.graphqlRoutes(mux)
	s.alertingRoutes(mux)
	s.orgRoutes(mux)
	s.handle(mux, "GET /user/tokens/verify", nil, s.verifyToken)
	return mux
}

// handle registers h for pattern behind authentication, the scope check and, when need is
// not nil, a permission check; h's result goes out in the v4 envelope.
func (s *Server) handle(mux *http.ServeMux, pattern string, need []string, h apiHandler) {
	s.handleRaw(mux, pattern, need, func(w http.ResponseWriter, call *apiCall) {
		res, err := h(call)
		if err != nil {
			writeAPIError(w, err)
			return
		}
		writeJSON(w, res.status, envelope{Success: true, Errors: []*apiError{},
			Messages: []*apiError{}, Result: res.result, ResultInfo: res.info})
	})
}

// handleRaw is handle for endpoints that write their own answer, such as GraphQL: h runs
// once the request is authenticated, within its rate limit, in a known scope and allowed.
// A pattern under /accounts/{sid} or /zones/{sid} is checked against the world's ids.
func (s *Server) handleRaw(mux *http.ServeMux, pattern string, need []string,
	h func(http.ResponseWriter, *apiCall)) {
	scope := ""
	_, route, _ := strings.Cut(pattern, " ")
	switch {
	case strings.HasPrefix(route, "/accounts/{sid}"):
		scope = scopeAccount
	case strings.HasPrefix(route, "/zones/{sid}"):
		scope = scopeZone
	}
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		call, err := s.admit(r, scope, need)
		if err != nil {
			writeAPIError(w, err)
			return
		}
		h(w, call)
	})
}

// admit authenticates a request, applies the rate limit, and checks the scope id and the
// permission.
func (s *Server) admit(r *http.Request, scope string, need []string) (*apiCall, error) {
	tok, err := s.state.authorize(r.Header.Values("Authorization"))
	if err != nil {
		return nil, err
	}
	call := &apiCall{r: r, now: s.clock.Now(), scope: scope, scopeID: r.PathValue("sid"),
		tokenID: tok.id}
	if l := s.state.limiter; l != nil {
		if allowed, wait := l.allow(tok.id, call.now); !allowed {
			return nil, errRateLimited(wait)
		}
	}
	if scope != "" && !s.state.knownScope(scope, call.scopeID) {
		return nil, errUnknownScope()
	}
	if need != nil && !tok.hasAny(need) {
		return nil, errForbidden()
	}
	return call, nil
}

// unroutedError tells 404 from 405 for a request the router has no pattern for, by asking
// the router's own answer.
func unroutedError(h http.Handler, r *http.Request) *apiError {
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		return errMethodNotAllowed(probe.header.Get("Allow"))
	}
	return errNoRoute()
}

// statusProbe is a ResponseWriter that keeps only the status and headers.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("emulator: encode API answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeAPIError(w http.ResponseWriter, err error) {
	apiErr := asAPIError(err)
	if apiErr.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(apiErr.retryAfter))
	}
	if apiErr.allow != "" {
		w.Header().Set("Allow", apiErr.allow)
	}
	writeJSON(w, apiErr.status, envelope{Success: false, Errors: []*apiError{apiErr},
		Messages: []*apiError{}, Result: nil})
}

// recoverAsInternalError turns a panic in a handler into a 500 envelope, so a bug shows
// as a failed request instead of a dropped connection.
func recoverAsInternalError(w http.ResponseWriter) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		writeAPIError(w, errInternal())
	}
}
