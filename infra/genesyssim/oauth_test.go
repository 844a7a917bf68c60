package genesyssim

import (
	"net/http"
	"testing"
	"time"
)

func TestTokenEndpoint(t *testing.T) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	withAuth := func(auth string) map[string]string {
		h := map[string]string{"Authorization": auth}
		for k, v := range form {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name      string
		header    map[string]string
		body      string
		status    int
		errorCode string
	}{
		{"valid", withAuth(basicAuth(testClient, testSecret)), "grant_type=client_credentials", 200, ""},
		{"wrong secret", withAuth(basicAuth(testClient, "nope")), "grant_type=client_credentials",
			401, "invalid_client"},
		{"unknown client", withAuth(basicAuth("stranger", testSecret)), "grant_type=client_credentials",
			401, "invalid_client"},
		{"no credentials", form, "grant_type=client_credentials", 401, "invalid_client"},
		{"bearer instead of basic", withAuth("Bearer abc"), "grant_type=client_credentials",
			401, "invalid_client"},
		{"password grant", withAuth(basicAuth(testClient, testSecret)), "grant_type=password",
			400, "unsupported_grant_type"},
		{"missing grant", withAuth(basicAuth(testClient, testSecret)), "", 400, "unsupported_grant_type"},
		{"JSON body", withAuth(basicAuth(testClient, testSecret)),
			`{"grant_type":"client_credentials"}`, 400, "unsupported_grant_type"},
	}

	clock := newFakeClock()
	_, base := Start(t, newTestConfig(clock))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token", tt.body, tt.header)
			if res.status != tt.status {
				t.Fatalf("got status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if res.header.Get("inin-ratelimit-count") == "" {
				t.Error("missing inin-ratelimit-count header")
			}
			if tt.errorCode == "" {
				var token TokenResponse
				res.json(t, &token)
				if token.AccessToken == "" || token.TokenType != "bearer" || token.ExpiresIn != 86400 {
					t.Errorf("got %+v, want a bearer token expiring in 86400 seconds", token)
				}
				return
			}
			var body OAuthError
			res.json(t, &body)
			if body.Error != tt.errorCode || body.Description == "" || body.ErrorDescription == "" {
				t.Errorf("got %+v, want error %s with both descriptions", body, tt.errorCode)
			}
		})
	}
}

func TestTokenEndpointWrongMethod(t *testing.T) {
	_, base := Start(t, newTestConfig(newFakeClock()))
	res := doRequest(t, http.DefaultClient, http.MethodGet, base+"/oauth/token", "", nil)
	if res.status != http.StatusMethodNotAllowed {
		t.Errorf("got status %d, want 405", res.status)
	}
}

func TestTokenLifetimeFromConfig(t *testing.T) {
	cfg := newTestConfig(newFakeClock())
	cfg.TokenLifetime = 5 * time.Minute
	_, base := Start(t, cfg)

	res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token",
		"grant_type=client_credentials", map[string]string{
			"Authorization": basicAuth(testClient, testSecret),
			"Content-Type":  "application/x-www-form-urlencoded",
		})
	var token TokenResponse
	res.json(t, &token)
	if token.ExpiresIn != 300 {
		t.Errorf("expires_in: got %d, want 300", token.ExpiresIn)
	}
}

func TestExternalEventsAuthorization(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.TokenLifetime = time.Hour
	_, base := Start(t, cfg)
	token := getToken(t, base)

	readerToken := func() string {
		res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token",
			"grant_type=client_credentials", map[string]string{
				"Authorization": basicAuth("reader", "reader-secret"),
				"Content-Type":  "application/x-www-form-urlencoded",
			})
		var body TokenResponse
		res.json(t, &body)
		return body.AccessToken
	}()

	tests := []struct {
		name    string
		auth    string
		advance time.Duration
		status  int
		code    string
	}{
		{"no header", "", 0, 401, codeAuthRequired},
		{"basic instead of bearer", basicAuth(testClient, testSecret), 0, 401, codeAuthRequired},
		{"unknown token", "Bearer not-a-token", 0, 401, codeBadCredentials},
		{"missing permission", "Bearer " + readerToken, 0, 403, codeMissingPermissions},
		{"valid", "Bearer " + token, 0, 200, ""},
		{"lowercase scheme", "bearer " + token, 0, 200, ""},
		{"expired token", "Bearer " + token, time.Hour, 401, codeBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			header := map[string]string{"Content-Type": "application/json"}
			if tt.auth != "" {
				header["Authorization"] = tt.auth
			}
			body := mustJSON(t, map[string]any{"entities": []any{validEntity("e-"+tt.name, clock.Now())}})
			res := doRequest(t, http.DefaultClient, http.MethodPost, externalURL(base, testConfig), body, header)
			if res.status != tt.status {
				t.Fatalf("got status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.code != "" {
				if got := res.errorBody(t).Code; got != tt.code {
					t.Errorf("code: got %q, want %q", got, tt.code)
				}
			}
			if res.header.Get("inin-ratelimit-allowed") != "300" {
				t.Errorf("inin-ratelimit-allowed: got %q, want 300", res.header.Get("inin-ratelimit-allowed"))
			}
		})
	}
}

func TestTokenEndpointRateLimit(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.TokenEndpointRequestsPerMinute = 2
	s, base := Start(t, cfg)
	header := map[string]string{
		"Authorization": basicAuth(testClient, testSecret),
		"Content-Type":  "application/x-www-form-urlencoded",
	}
	request := func() result {
		return doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token",
			"grant_type=client_credentials", header)
	}

	for i := range 2 {
		if res := request(); res.status != http.StatusOK {
			t.Fatalf("request %d: got status %d, want 200", i+1, res.status)
		}
	}
	clock.Advance(20 * time.Second)
	res := request()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("third request: got status %d, want 429", res.status)
	}
	assertTooManyRequests(t, res, "40")
	if got := res.header.Get("inin-ratelimit-count"); got != "3" {
		t.Errorf("inin-ratelimit-count: got %q, want 3", got)
	}

	clock.Advance(40 * time.Second)
	if res := request(); res.status != http.StatusOK {
		t.Errorf("after the window: got status %d, want 200", res.status)
	}
	if got := s.Stats().Requests[EndpointToken]["429"]; got != 1 {
		t.Errorf("token 429 count: got %d, want 1", got)
	}
}

// assertTooManyRequests checks the platform's 429 shape and the Retry-After seconds.
func assertTooManyRequests(t *testing.T, res result, retryAfter string) {
	t.Helper()
	if got := res.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After: got %q, want %q", got, retryAfter)
	}
	if res.header.Get("ININ-Correlation-Id") == "" {
		t.Error("missing ININ-Correlation-Id header")
	}
	body := res.errorBody(t)
	if body.Code != codeTooManyRequests || body.Status != 429 || body.Message == "" ||
		body.ContextID == "" || body.Details == nil || body.Errors == nil {
		t.Errorf("got body %+v, want the platform 429 shape", body)
	}
	for _, h := range []string{"inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"} {
		if res.header.Get(h) == "" {
			t.Errorf("missing %s header", h)
		}
	}
}
