package emulator

// This file holds placeholders that the edge work replaces (edge.go, team.go, events.go).

import "net/http"

type eventLog struct{}

func newEventLog() *eventLog { return &eventLog{} }

func (s *Server) isEdgeHost(host string) bool                      { return false }
func (s *Server) serveEdge(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
func (s *Server) serveTeam(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
