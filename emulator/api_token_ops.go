package emulator

import "slices"

// findToken returns the token with id in the call's scope. st.mu must be held.
func (st *state) findToken(c *apiCall, id string) (*tokenRecord, error) {
	for _, tok := range st.tokens {
		if tok.id == id && tok.scope == c.scope {
			return tok, nil
		}
	}
	return nil, errNotFound()
}

func (s *Server) getToken(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, err := st.findToken(c, c.r.PathValue("id"))
	if err != nil {
		return apiResult{}, err
	}
	return okResult(tok.toJSON(false))
}

// updateToken is PUT: absent fields keep their value. A new duration resets expires_at to
// now + duration. A higher client_secret_version rotates the secret, and the answer then
// carries it; previous_client_secret_expires_at sets the old secret's grace (now, if
// absent).
func (s *Server) updateToken(c *apiCall) (apiResult, error) {
	var req tokenRequest
	if err := decodeBody(c, &req); err != nil {
		return apiResult{}, err
	}
	change, err := checkTokenRequest(req)
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, err := st.findToken(c, c.r.PathValue("id"))
	if err != nil {
		return apiResult{}, err
	}
	bump := change.version != nil && *change.version > tok.version
	if change.version != nil && *change.version < tok.version {
		return apiResult{}, errInvalid("client_secret_version: cannot go down from %d to %d",
			tok.version, *change.version)
	}
	tok.applyFields(change, c.now)
	switch {
	case bump:
		tok.rotate(st.gen, change.previousExpireAt, c.now)
		tok.version = *change.version
	case change.previousExpireAt != nil:
		expires := *change.previousExpireAt
		tok.previousExpiresAt = &expires
	}
	return okResult(tok.toJSON(bump))
}

// deleteToken answers with the deleted token.
func (s *Server) deleteToken(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, err := st.findToken(c, c.r.PathValue("id"))
	if err != nil {
		return apiResult{}, err
	}
	st.tokens = slices.DeleteFunc(st.tokens, func(t *tokenRecord) bool { return t == tok })
	delete(st.byClient, tok.clientID)
	return okResult(tok.toJSON(false))
}

// refreshToken sets expires_at to now + duration (Cloudflare's docs say "one year"; for the
// default duration that is the same) and keeps the secret.
func (s *Server) refreshToken(c *apiCall) (apiResult, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, err := st.findToken(c, c.r.PathValue("id"))
	if err != nil {
		return apiResult{}, err
	}
	tok.resetExpiry(c.now)
	tok.updatedAt = c.now
	return okResult(tok.toJSON(false))
}

// rotateRequest is the optional body of rotate.
type rotateRequest struct {
	PreviousClientSecretExpiresAt *string `json:"previous_client_secret_expires_at"`
}

// rotateToken makes a new secret and answers with it. The old secret works until the
// body's previous_client_secret_expires_at, or stops at once without it.
func (s *Server) rotateToken(c *apiCall) (apiResult, error) {
	var req rotateRequest
	if err := decodeOptionalBody(c, &req); err != nil {
		return apiResult{}, err
	}
	change, err := checkTokenRequest(tokenRequest{
		PreviousClientSecretExpiresAt: req.PreviousClientSecretExpiresAt})
	if err != nil {
		return apiResult{}, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	tok, err := st.findToken(c, c.r.PathValue("id"))
	if err != nil {
		return apiResult{}, err
	}
	tok.rotate(st.gen, change.previousExpireAt, c.now)
	tok.version++
	return okResult(tok.generatedJSON())
}
