package genesyssim

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// minTokenPrune is the token count at which expired tokens are first removed.
const minTokenPrune = 1024

// accessToken is an issued bearer token and its own request window.
type accessToken struct {
	client  Client
	expires time.Time
	window  fixedWindow
}

// TokenResponse is the body of a successful POST /oauth/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"` // seconds
}

// handleToken serves the client-credentials grant. Steps: the endpoint's own rate limit,
// client authentication, grant type, then a new token.
func (s *Server) handleToken(c *call) *response {
	state, retryAfter := s.limitTokenEndpoint()
	if retryAfter > 0 {
		return s.tooManyRequests(c, state, retryAfter)
	}

	resp := s.issueToken(c)
	state.apply(resp.header)
	return resp
}

func (s *Server) issueToken(c *call) *response {
	client, ok := s.authenticateClient(c.req)
	if !ok {
		return oauthError(http.StatusUnauthorized, "invalid_client",
			"Client authentication failed: check the client id and secret.")
	}

	form, err := url.ParseQuery(string(c.body))
	if err != nil || form.Get("grant_type") != "client_credentials" {
		return oauthError(http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("Grant type %q is not supported; use client_credentials.",
				form.Get("grant_type")))
	}

	s.mu.Lock()
	token := s.newTokenLocked(client)
	s.rec.stats.TokensIssued++
	s.mu.Unlock()

	resp := jsonResponse(http.StatusOK, TokenResponse{
		AccessToken: token,
		TokenType:   "bearer",
		ExpiresIn:   int(s.cfg.TokenLifetime / time.Second),
	})
	resp.header.Set("Cache-Control", "no-store")
	return resp
}

// authenticateClient checks the Basic credentials of r against the configured clients.
func (s *Server) authenticateClient(r *http.Request) (Client, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return Client{}, false
	}
	client, known := s.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		return Client{}, false
	}
	return client, true
}

// newTokenLocked stores a new token for client and returns it. s.mu must be held.
func (s *Server) newTokenLocked(client Client) string {
	now := s.cfg.Now()
	if len(s.tokens) >= s.pruneTokens {
		for value, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, value)
			}
		}
		s.pruneTokens = max(minTokenPrune, 2*len(s.tokens))
	}

	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(s.rng.Uint32())
	}
	value := base64.RawURLEncoding.EncodeToString(raw)
	s.tokens[value] = &accessToken{client: client, expires: now.Add(s.cfg.TokenLifetime)}
	return value
}

// authorize checks the bearer token of an authenticated call, counts the call against
// the token's budget and checks that its client holds permission. It returns the
// rate-limit header state and, when the call must be refused, the error response.
func (s *Server) authorize(c *call, permission string) (rateState, *response) {
	allowed, window := s.limitFor(c.endpoint)
	noToken := rateState{allowed: allowed, reset: window}

	scheme, value, found := strings.Cut(c.req.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(value) == "" {
		return noToken, s.platformError(c, http.StatusUnauthorized, codeAuthRequired,
			"No authentication bearer token specified in authorization header.")
	}

	s.mu.Lock()
	now := s.cfg.Now()
	token := s.tokens[strings.TrimSpace(value)]
	if token == nil || !now.Before(token.expires) {
		s.mu.Unlock()
		return noToken, s.platformError(c, http.StatusUnauthorized, codeBadCredentials,
			"Invalid login credentials.")
	}
	count, reset := token.window.hit(now, time.Minute)
	client := token.client
	s.mu.Unlock()

	state, retryAfter := windowState(count, s.cfg.TokenRequestsPerMinute, reset)
	if retryAfter > 0 {
		return state, s.tooManyRequests(c, state, retryAfter)
	}
	if !slices.Contains(client.Permissions, permission) {
		return state, s.platformError(c, http.StatusForbidden, codeMissingPermissions,
			fmt.Sprintf("Unable to perform the requested action. You are missing the following "+
				"permission(s): [%s]", permission))
	}
	return state, nil
}
