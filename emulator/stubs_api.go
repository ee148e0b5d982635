package emulator

// This file holds placeholders that the API work replaces (world.go, state.go, api*.go,
// admin.go).

import (
	"net/http"
	"time"

	"github.com/cfst/cfst/internal/access"
)

const adminPrefix = "/__emulator/"

// World is the emulator's initial state, usually loaded from YAML.
type World struct {
	Team string `yaml:"team"`
}

// Validate reports the first problem with the world.
func (w *World) Validate() error { return nil }

// TeamDomain is <team>.cloudflareaccess.com.
func (w *World) TeamDomain() string { return w.Team + ".cloudflareaccess.com" }

type state struct{}

func newState(w *World, now time.Time) (*state, error) { return &state{}, nil }

// authenticate checks a client id and secret against the tokens at time now, records
// last_seen_at for a known client id, and says whether the credentials authenticate.
func (st *state) authenticate(clientID, secret string, now time.Time) (tokenID string, cred access.CredentialState, why string) {
	return "", access.InvalidToken, "unknown client id"
}

func (st *state) applications() []access.Application { return nil }
func (st *state) groups() []access.Group             { return nil }

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request)   { http.NotFound(w, r) }
