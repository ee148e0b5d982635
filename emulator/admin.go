package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// adminPrefix is where the admin API lives, on every host. It has no authentication: the
// emulator is for local use.
//
//	GET    /__emulator/clock    {"now": ...}
//	POST   /__emulator/clock    {"advance": "48h"} moves a ManualClock; answers {"now": ...}
//	GET    /__emulator/state    tokens (without secrets), applications, groups, policies,
//	                            faults and counters
//	GET    /__emulator/faults   the faults in force, with how often each fired
//	POST   /__emulator/faults   adds a fault: {"method","host","path","status",
//	                            "retry_after","latency","times"}
//	DELETE /__emulator/faults   removes every fault
//	POST   /__emulator/origins  {"app": "<id, name or domain>", "origin": "down"}
const adminPrefix = "/__emulator/"

// serveAdmin answers the admin API.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	defer recoverAsInternalError(w)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__emulator/clock", s.adminClock)
	mux.HandleFunc("POST /__emulator/clock", s.adminAdvanceClock)
	mux.HandleFunc("GET /__emulator/state", s.adminState)
	mux.HandleFunc("GET /__emulator/faults", s.adminFaults)
	mux.HandleFunc("POST /__emulator/faults", s.adminAddFault)
	mux.HandleFunc("DELETE /__emulator/faults", s.adminClearFaults)
	mux.HandleFunc("POST /__emulator/origins", s.adminSetOrigin)
	if h, pattern := mux.Handler(r); pattern == "" {
		status := http.StatusNotFound
		if unroutedError(h, r).status == http.StatusMethodNotAllowed {
			status = http.StatusMethodNotAllowed
		}
		writeAdminError(w, status, fmt.Errorf("no admin endpoint %s %s", r.Method, r.URL.Path))
		return
	}
	mux.ServeHTTP(w, r)
}

type clockJSON struct {
	Now time.Time `json:"now"`
}

func (s *Server) adminClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clockJSON{Now: s.clock.Now()})
}

func (s *Server) adminAdvanceClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	if err := decodeAdmin(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err == nil {
		err = s.AdvanceClock(d)
	} else {
		err = fmt.Errorf("invalid advance %q (want a Go duration such as 48h)", req.Advance)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}
	s.adminClock(w, r)
}

func (s *Server) adminFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.state.faults.list()})
}

func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	err := decodeAdmin(r, &f)
	if err == nil {
		err = s.InjectFault(f)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"faults": s.state.faults.list()})
}

func (s *Server) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	s.adminFaults(w, r)
}

func (s *Server) adminSetOrigin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		App    string `json:"app"`
		Origin string `json:"origin"`
	}
	err := decodeAdmin(r, &req)
	if err == nil {
		err = s.SetOrigin(req.App, req.Origin)
	}
	switch {
	case errors.Is(err, errNoSuchApp):
		writeAdminError(w, http.StatusNotFound, err)
	case err != nil:
		writeAdminError(w, http.StatusBadRequest, err)
	default:
		writeJSON(w, http.StatusOK, req)
	}
}

func decodeAdmin(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid request body: %s", jsonProblem(err))
	}
	return nil
}

func writeAdminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// AdvanceClock moves the emulator's clock forward by d. It works when the clock is a
// *ManualClock, as it is unless Config.Clock says otherwise.
func (s *Server) AdvanceClock(d time.Duration) error {
	clock, ok := s.clock.(*ManualClock)
	switch {
	case !ok:
		return fmt.Errorf("emulator: the clock is a %T, not a *ManualClock, and cannot be moved",
			s.clock)
	case d < 0:
		return fmt.Errorf("emulator: the clock only moves forward, not by %s", d)
	}
	clock.Advance(d)
	return nil
}

var errNoSuchApp = errors.New("no such application")

// SetOrigin changes what answers behind Access for an application, named by id, name or
// domain. origin takes the forms of WorldApp.Origin.
func (s *Server) SetOrigin(app, origin string) error {
	if err := checkOrigin(origin); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, rec := range st.apps {
		if rec.app.ID == app || rec.app.Name == app || strings.EqualFold(rec.app.Domain, app) {
			rec.origin = origin
			if origin == "" {
				rec.origin = originSpecOK
			}
			return nil
		}
	}
	return fmt.Errorf("emulator: %w %q", errNoSuchApp, app)
}

// APIToken returns the value of the world's first API token that has every permission,
// or "" when there is none.
func (s *Server) APIToken() string {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, tok := range st.apiTokens {
		if tok.hasAll(allPermissions) {
			return tok.value.Reveal()
		}
	}
	return ""
}

// APITokenInfo is an API token of the world, as APITokens lists it.
type APITokenInfo struct {
	// Name is the token's name in the world; a token without one is named "api_tokens[N]"
	// after its place in the world file.
	Name  string
	Value string
	// Missing lists the permissions the token lacks, in the order of the Perm* constants;
	// it is empty for a token with every permission.
	Missing []string
}

// APITokens lists the world's API tokens, those lacking the fewest permissions first and
// otherwise in the world's order.
func (s *Server) APITokens() []APITokenInfo {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	infos := make([]APITokenInfo, 0, len(st.apiTokens))
	for i, tok := range st.apiTokens {
		info := APITokenInfo{Name: tok.name, Value: tok.value.Reveal()}
		if info.Name == "" {
			info.Name = fmt.Sprintf("api_tokens[%d]", i)
		}
		for _, p := range allPermissions {
			if !tok.perms[p] {
				info.Missing = append(info.Missing, p)
			}
		}
		infos = append(infos, info)
	}
	slices.SortStableFunc(infos, func(a, b APITokenInfo) int {
		return len(a.Missing) - len(b.Missing)
	})
	return infos
}

func (t apiTokenRecord) hasAll(perms []string) bool {
	for _, p := range perms {
		if !t.perms[p] {
			return false
		}
	}
	return true
}

// AccountID returns the account id the API answers to.
func (s *Server) AccountID() string { return s.state.accountID }

// ZoneID returns the zone id the API answers to.
func (s *Server) ZoneID() string { return s.state.zoneID }

// APIRequestCount returns how many requests reached the Cloudflare API, those answered by
// an injected fault included: a test can count a client's retries with it.
func (s *Server) APIRequestCount() int64 { return s.state.apiRequests.Load() }
