package genesyssim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOutage503UntilExpiry(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	s.SetFaults(Faults{Outage: &Outage{For: Duration(5 * time.Minute)}})

	res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("during outage: got status %d, want 503", res.status)
	}
	if body := res.errorBody(t); body.Status != 503 || body.Code == "" {
		t.Errorf("got body %+v, want a platform error with status 503", body)
	}
	assertRateHeadersPresent(t, res)

	clock.Advance(5 * time.Minute)
	res = post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	if res.status != http.StatusCreated {
		t.Errorf("after outage: got status %d, want 201", res.status)
	}
	if s.CurrentFaults().Outage != nil {
		t.Error("expired outage is still listed")
	}
}

func TestOutageReset(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	s.SetFaults(Faults{Outage: &Outage{Mode: "reset", Endpoints: []string{EndpointAppEvents}}})

	resp, err := http.Post(appURL(base, testDeployment), "application/json",
		strings.NewReader(mustJSON(t, validAppEvent(clock.Now()))))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a connection error", resp.StatusCode)
	}
	if got := s.Stats().Requests[EndpointAppEvents][statusReset]; got != 1 {
		t.Errorf("resets: got %d, want 1", got)
	}

	// The fault is limited to appevents.
	res := post(t, webURL(base, testDeployment), mustJSON(t, validWebEvent(clock.Now())))
	if res.status != http.StatusCreated {
		t.Errorf("webevents: got status %d, want 201", res.status)
	}
}

func TestInjectedErrors(t *testing.T) {
	tests := []struct {
		name        string
		faults      Faults
		status      int
		contentType string
		bodyHas     string
	}{
		{"500 JSON", Faults{Errors: &ErrorFault{}}, 500, "application/json", `"status":500`},
		{"502 JSON", Faults{Errors: &ErrorFault{Status: 502}}, 502, "application/json", `"code":"bad.gateway"`},
		{"504 text", Faults{Errors: &ErrorFault{Status: 504}, ErrorBody: "text"}, 504,
			"text/plain; charset=utf-8", "504 Gateway Timeout"},
		{"503 HTML", Faults{Outage: &Outage{}, ErrorBody: "html"}, 503,
			"text/html; charset=utf-8", "<title>503 Service Unavailable</title>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, base := Start(t, newTestConfig(clock))
			s.SetFaults(tt.faults)

			res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
			if res.status != tt.status {
				t.Fatalf("got status %d, want %d", res.status, tt.status)
			}
			if got := res.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.contentType)
			}
			if !strings.Contains(string(res.body), tt.bodyHas) {
				t.Errorf("body %q does not contain %q", res.body, tt.bodyHas)
			}
			if got := s.Stats().EventsAccepted; got != 0 {
				t.Errorf("accepted: got %d, want 0", got)
			}
		})
	}
}

func TestErrorProbabilityIsSeeded(t *testing.T) {
	statuses := func(seed int64) string {
		clock := newFakeClock()
		cfg := newTestConfig(clock)
		cfg.Seed = seed
		cfg.Faults = Faults{Errors: &ErrorFault{Probability: 0.5}}
		_, base := Start(t, cfg)
		var out []string
		for range 32 {
			res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
			out = append(out, http.StatusText(res.status)[:3])
		}
		return strings.Join(out, ",")
	}

	first, again := statuses(7), statuses(7)
	if first != again {
		t.Errorf("same seed gave different sequences:\n%s\n%s", first, again)
	}
	if !strings.Contains(first, "Int") || !strings.Contains(first, "Cre") {
		t.Errorf("sequence %s does not mix 500 and 201 at probability 0.5", first)
	}
	if other := statuses(8); other == first {
		t.Errorf("seeds 7 and 8 gave the same sequence %s", first)
	}
}

func TestLatencyDraws(t *testing.T) {
	tests := []struct {
		name     string
		latency  Latency
		min, max time.Duration
	}{
		{"fixed", Latency{Delay: Duration(30 * time.Millisecond)}, 30 * time.Millisecond, 30 * time.Millisecond},
		{"uniform", Latency{Distribution: "uniform", Min: Duration(10 * time.Millisecond),
			Max: Duration(20 * time.Millisecond)}, 10 * time.Millisecond, 20 * time.Millisecond},
		{"exponential capped", Latency{Distribution: "exponential", Mean: Duration(time.Second),
			Max: Duration(50 * time.Millisecond)}, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := New(Config{Seed: 3}), New(Config{Seed: 3})
			for i := range 100 {
				x, y := a.drawLatency(&tt.latency), b.drawLatency(&tt.latency)
				if x != y {
					t.Fatalf("draw %d: got %s and %s under the same seed", i, x, y)
				}
				if x < tt.min || x > tt.max {
					t.Fatalf("draw %d: got %s, want within [%s, %s]", i, x, tt.min, tt.max)
				}
			}
		})
	}
}

func TestLatencyDelaysResponse(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	const delay = 30 * time.Millisecond
	s.SetFaults(Faults{Latency: &Latency{Delay: Duration(delay), Endpoints: []string{EndpointAppEvents}}})

	started := time.Now()
	res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	if elapsed := time.Since(started); elapsed < delay {
		t.Errorf("answered after %s, want at least %s", elapsed, delay)
	}
	if res.status != http.StatusCreated {
		t.Errorf("got status %d, want 201", res.status)
	}
}

func TestSlowResponseUnseenAndResent(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	s.SetFaults(Faults{SlowResponse: &SlowResponse{Delay: Duration(time.Minute)}})
	body := mustJSON(t, validAppEvent(clock.Now()))

	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	resp, err := impatient.Post(appURL(base, testDeployment), "application/json", strings.NewReader(body))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d before the client timeout, want a timeout", resp.StatusCode)
	}
	waitFor(t, "the slow response to be recorded", func() bool { return s.Stats().SlowResponses == 1 })

	s.SetFaults(Faults{})
	if res := post(t, appURL(base, testDeployment), body); res.status != http.StatusCreated {
		t.Fatalf("resend: got status %d, want 201", res.status)
	}

	stats := s.Stats()
	want := map[string]int64{
		"eventsAccepted": 2, "duplicates": 1, "slowResponses": 1,
		"unseenResponses": 1, "unseenEvents": 1, "unseenEventsResent": 1,
	}
	got := map[string]int64{
		"eventsAccepted": stats.EventsAccepted, "duplicates": stats.Duplicates,
		"slowResponses": stats.SlowResponses, "unseenResponses": stats.UnseenResponses,
		"unseenEvents": stats.UnseenEvents, "unseenEventsResent": stats.UnseenEventsResent,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %d, want %d", name, got[name], w)
		}
	}
	if events := s.Events(); len(events) != 2 || !events[0].Slow || !events[1].Duplicate {
		t.Errorf("got events %+v, want a slow one and then a duplicate", events)
	}
}

func TestSlowResponseSeenByPatientClient(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	s.SetFaults(Faults{SlowResponse: &SlowResponse{Delay: Duration(20 * time.Millisecond)}})

	if res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))); res.status != 201 {
		t.Fatalf("got status %d, want 201", res.status)
	}
	stats := s.Stats()
	if stats.SlowResponses != 1 || stats.UnseenResponses != 0 {
		t.Errorf("slow %d unseen %d, want 1 and 0", stats.SlowResponses, stats.UnseenResponses)
	}
}

func TestRateLimitStorm(t *testing.T) {
	tests := []struct {
		name       string
		storm      RateLimitStorm
		advance    time.Duration
		retryAfter string
		limited    int // 429s before requests pass again
	}{
		{"count", RateLimitStorm{Count: 2, RetryAfterSeconds: 7}, 0, "7", 2},
		{"duration", RateLimitStorm{For: Duration(3 * time.Second)}, time.Second, "1", 3},
		{"http-date", RateLimitStorm{Count: 1, RetryAfterSeconds: 30, RetryAfterFormat: "http-date"}, 0,
			testStart.Add(30 * time.Second).Format(http.TimeFormat), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, base := Start(t, newTestConfig(clock))
			s.SetFaults(Faults{RateLimitStorm: &tt.storm})

			for i := range tt.limited {
				res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
				if res.status != http.StatusTooManyRequests {
					t.Fatalf("request %d: got status %d, want 429", i+1, res.status)
				}
				if i == 0 {
					assertTooManyRequests(t, res, tt.retryAfter)
				}
				clock.Advance(tt.advance)
			}
			res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
			if res.status != http.StatusCreated {
				t.Errorf("after the storm: got status %d, want 201", res.status)
			}
			if got := s.Stats().RateLimited; got != int64(tt.limited) {
				t.Errorf("rateLimited: got %d, want %d", got, tt.limited)
			}
		})
	}
}

func TestTokenFailure(t *testing.T) {
	tests := []struct {
		name   string
		fault  TokenFailure
		status int
	}{
		{"503", TokenFailure{Count: 1}, 503},
		{"500", TokenFailure{Status: 500, Count: 1}, 500},
		{"429", TokenFailure{Status: 429, RetryAfterSeconds: 9, Count: 1}, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, base := Start(t, newTestConfig(clock))
			s.SetFaults(Faults{TokenFailure: &tt.fault})
			header := map[string]string{
				"Authorization": basicAuth(testClient, testSecret),
				"Content-Type":  "application/x-www-form-urlencoded",
			}

			res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token",
				"grant_type=client_credentials", header)
			if res.status != tt.status {
				t.Fatalf("got status %d, want %d", res.status, tt.status)
			}
			if tt.status == 429 {
				assertTooManyRequests(t, res, "9")
			}
			// App events are not affected, and the failure ends after Count.
			if res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))); res.status != 201 {
				t.Errorf("appevents: got status %d, want 201", res.status)
			}
			getToken(t, base)
		})
	}
}

func TestFaultEndpointsFilter(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	s.SetFaults(Faults{Errors: &ErrorFault{Status: 502, Endpoints: []string{EndpointToken}}})

	if res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))); res.status != 201 {
		t.Errorf("appevents: got status %d, want 201", res.status)
	}
	res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token", "grant_type=client_credentials",
		map[string]string{"Authorization": basicAuth(testClient, testSecret)})
	if res.status != http.StatusBadGateway {
		t.Errorf("token: got status %d, want 502", res.status)
	}
}

func TestFaultsControlAPI(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))

	res := post(t, base+"/_sim/faults", `{"outage":{"for":"5m","mode":"503"},"errors":{"status":504,"probability":0.1}}`)
	if res.status != http.StatusOK {
		t.Fatalf("set: got status %d, want 200: %s", res.status, res.body)
	}
	var shown Faults
	res.json(t, &shown)
	if shown.Outage == nil || !shown.Outage.Until.Equal(testStart.Add(5*time.Minute)) {
		t.Errorf("got outage %+v, want one until %s", shown.Outage, testStart.Add(5*time.Minute))
	}

	got := doRequest(t, http.DefaultClient, http.MethodGet, base+"/_sim/faults", "", nil)
	var current Faults
	got.json(t, &current)
	if current.Errors == nil || current.Errors.Status != 504 {
		t.Errorf("GET: got errors %+v, want status 504", current.Errors)
	}

	for name, req := range map[string][2]string{
		"invalid JSON":     {"POST", `{`},
		"unknown field":    {"POST", `{"blackout":{}}`},
		"invalid status":   {"POST", `{"errors":{"status":418}}`},
		"invalid duration": {"POST", `{"outage":{"for":300}}`},
		"unknown endpoint": {"POST", `{"latency":{"delay":"1s","endpoints":["login"]}}`},
	} {
		if res := doRequest(t, http.DefaultClient, req[0], base+"/_sim/faults", req[1], nil); res.status != 400 {
			t.Errorf("%s: got status %d, want 400", name, res.status)
		}
	}
	if s.CurrentFaults().Outage == nil {
		t.Error("a rejected request changed the faults")
	}

	if res := post(t, base+"/_sim/faults", ""); res.status != http.StatusOK || s.CurrentFaults().Outage != nil {
		t.Errorf("empty body: got status %d and outage %+v, want 200 and no faults",
			res.status, s.CurrentFaults().Outage)
	}
	s.SetFaults(Faults{Outage: &Outage{}})
	doRequest(t, http.DefaultClient, http.MethodDelete, base+"/_sim/faults", "", nil)
	if s.CurrentFaults().Outage != nil {
		t.Error("DELETE left the outage in place")
	}
}

func TestSetFaultsPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("SetFaults accepted an invalid probability")
		}
	}()
	New(Config{}).SetFaults(Faults{Errors: &ErrorFault{Probability: 2}})
}

func assertRateHeadersPresent(t *testing.T, res result) {
	t.Helper()
	for _, h := range []string{"inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset",
		"ININ-Correlation-Id"} {
		if res.header.Get(h) == "" {
			t.Errorf("missing %s header", h)
		}
	}
}
