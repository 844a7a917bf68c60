package genesyssim

import (
	"net/http"
	"testing"
	"time"
)

func TestDeploymentRateLimit(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.DeploymentEventsPerSecond = 2
	s, base := Start(t, cfg)
	send := func(url string) result {
		return post(t, url, mustJSON(t, validAppEvent(clock.Now())))
	}

	// App and web events share the deployment's bucket of two.
	first := send(appURL(base, testDeployment))
	if first.status != http.StatusCreated {
		t.Fatalf("first: got status %d, want 201", first.status)
	}
	assertRateHeaders(t, first, "1", "2")
	if res := post(t, webURL(base, testDeployment), mustJSON(t, validWebEvent(clock.Now()))); res.status != 201 {
		t.Fatalf("second: got status %d, want 201", res.status)
	}
	limited := send(appURL(base, testDeployment))
	if limited.status != http.StatusTooManyRequests {
		t.Fatalf("third: got status %d, want 429", limited.status)
	}
	assertTooManyRequests(t, limited, "1")
	assertRateHeaders(t, limited, "3", "2")

	// Half a second refills one token at two per second.
	clock.Advance(500 * time.Millisecond)
	if res := send(appURL(base, testDeployment)); res.status != http.StatusCreated {
		t.Errorf("after 500ms: got status %d, want 201", res.status)
	}
	if res := send(appURL(base, testDeployment)); res.status != http.StatusTooManyRequests {
		t.Errorf("again at once: got status %d, want 429", res.status)
	}
	if got := s.Stats().RateLimited; got != 2 {
		t.Errorf("rateLimited: got %d, want 2", got)
	}
}

func TestDeploymentRateLimitFractional(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.DeploymentEventsPerSecond = 0.25
	_, base := Start(t, cfg)
	send := func() result { return post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))) }

	if res := send(); res.status != http.StatusCreated {
		t.Fatalf("first: got status %d, want 201", res.status)
	}
	res := send()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("second: got status %d, want 429", res.status)
	}
	assertTooManyRequests(t, res, "4")
	clock.Advance(4 * time.Second)
	if res := send(); res.status != http.StatusCreated {
		t.Errorf("after 4s: got status %d, want 201", res.status)
	}
}

func TestUnlimitedDeploymentHeaders(t *testing.T) {
	clock := newFakeClock()
	_, base := Start(t, newTestConfig(clock))
	for i, want := range []string{"1", "2"} {
		res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
		if res.status != http.StatusCreated {
			t.Fatalf("request %d: got status %d, want 201", i, res.status)
		}
		assertRateHeaders(t, res, want, "2147483647")
	}
}

func TestTokenRateLimit(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.TokenRequestsPerMinute = 3
	s, base := Start(t, cfg)
	token := getToken(t, base)
	other := getToken(t, base)

	for i := range 3 {
		res := postExternal(t, base, testConfig, token, validEntity("e", clock.Now()))
		if res.status != http.StatusOK {
			t.Fatalf("request %d: got status %d, want 200", i+1, res.status)
		}
		assertRateHeaders(t, res, []string{"1", "2", "3"}[i], "3")
	}
	clock.Advance(15 * time.Second)
	res := postExternal(t, base, testConfig, token, validEntity("e", clock.Now()))
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("fourth: got status %d, want 429", res.status)
	}
	assertTooManyRequests(t, res, "45")
	assertRateHeaders(t, res, "4", "3")

	// Each token has its own budget.
	if res := postExternal(t, base, testConfig, other, validEntity("e", clock.Now())); res.status != 200 {
		t.Errorf("other token: got status %d, want 200", res.status)
	}
	clock.Advance(45 * time.Second)
	if res := postExternal(t, base, testConfig, token, validEntity("e", clock.Now())); res.status != 200 {
		t.Errorf("next window: got status %d, want 200", res.status)
	}
	if got := s.Stats().Requests[EndpointExternalEvents]["429"]; got != 1 {
		t.Errorf("external 429 count: got %d, want 1", got)
	}
}

func TestTokenRateLimitNegativeIsUnlimited(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.TokenRequestsPerMinute = -1
	_, base := Start(t, cfg)
	token := getToken(t, base)
	for i := range 5 {
		if res := postExternal(t, base, testConfig, token, validEntity("e", clock.Now())); res.status != 200 {
			t.Fatalf("request %d: got status %d, want 200", i+1, res.status)
		}
	}
}

func assertRateHeaders(t *testing.T, res result, count, allowed string) {
	t.Helper()
	if got := res.header.Get("inin-ratelimit-count"); got != count {
		t.Errorf("inin-ratelimit-count: got %q, want %q", got, count)
	}
	if got := res.header.Get("inin-ratelimit-allowed"); got != allowed {
		t.Errorf("inin-ratelimit-allowed: got %q, want %q", got, allowed)
	}
	if res.header.Get("inin-ratelimit-reset") == "" {
		t.Error("missing inin-ratelimit-reset header")
	}
}
