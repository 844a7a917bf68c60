package genesys_test

import (
	"context"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/genesys"
)

func TestSimulatorFaults(t *testing.T) {
	sim, baseURL := startSim(t)
	client := simClientFor(baseURL, 0)

	tests := []struct {
		name      string
		faults    genesyssim.Faults
		status    int
		code      string
		detail    string
		retry     time.Duration
		hasRetry  bool
		uncertain bool
	}{
		{
			name:   "outage 503",
			faults: genesyssim.Faults{Outage: &genesyssim.Outage{}},
			status: 503, code: "service.unavailable",
			detail: "HTTP 503 service.unavailable: The service is currently unavailable.",
		},
		{
			name:      "outage with connection reset",
			faults:    genesyssim.Faults{Outage: &genesyssim.Outage{Mode: "reset"}},
			uncertain: true,
		},
		{
			name:   "500 with text body",
			faults: genesyssim.Faults{Errors: &genesyssim.ErrorFault{Status: 500}, ErrorBody: "text"},
			status: 500, detail: "HTTP 500: 500 Internal Server Error",
		},
		{
			name:   "502 with html body",
			faults: genesyssim.Faults{Errors: &genesyssim.ErrorFault{Status: 502}, ErrorBody: "html"},
			status: 502, detail: "HTTP 502: 502 Bad Gateway 502 Bad Gateway",
		},
		{
			name:   "504 gateway timeout",
			faults: genesyssim.Faults{Errors: &genesyssim.ErrorFault{Status: 504}},
			status: 504, code: "gateway.timeout", uncertain: true,
			detail: "HTTP 504 gateway.timeout: The gateway timed out waiting for the service.",
		},
		{
			name:   "429 storm in seconds",
			faults: genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{RetryAfterSeconds: 7}},
			status: 429, code: "too.many.requests.retry.after", retry: 7 * time.Second, hasRetry: true,
			detail: "HTTP 429 too.many.requests.retry.after: Rate limit exceeded the maximum. Retry the request in [7] seconds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim.Reset()
			sim.SetFaults(tt.faults)
			got := client.Send(context.Background(), liveEvent(t, "app_minimal.json"))

			if got.Outcome != genesys.Retry {
				t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, genesys.Retry, got.Detail)
			}
			if got.Status != tt.status {
				t.Errorf("Status: got %d, want %d", got.Status, tt.status)
			}
			if got.Code != tt.code {
				t.Errorf("Code: got %q, want %q", got.Code, tt.code)
			}
			if tt.detail != "" && got.Detail != tt.detail {
				t.Errorf("Detail: got %q, want %q", got.Detail, tt.detail)
			}
			if got.RetryAfter != tt.retry || got.HasRetryAfter != tt.hasRetry {
				t.Errorf("RetryAfter: got %v (%v), want %v (%v)", got.RetryAfter, got.HasRetryAfter, tt.retry, tt.hasRetry)
			}
			if got.Uncertain != tt.uncertain {
				t.Errorf("Uncertain: got %v, want %v", got.Uncertain, tt.uncertain)
			}
		})
	}
}

func TestSimulatorRetryAfterDate(t *testing.T) {
	sim, baseURL := startSim(t)
	sim.SetFaults(genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{
		RetryAfterSeconds: 7, RetryAfterFormat: "http-date",
	}})

	got := simClientFor(baseURL, 0).Send(context.Background(), liveEvent(t, "web_minimal.json"))
	if got.Outcome != genesys.Retry || got.Status != 429 {
		t.Fatalf("result: got %v %d, want retry 429 (detail %q)", got.Outcome, got.Status, got.Detail)
	}
	if !got.HasRetryAfter {
		t.Fatalf("HasRetryAfter: got false, want true")
	}
	// The date has whole seconds and is measured from the Date header, which
	// the server writes a moment after it chose the date.
	if got.RetryAfter <= 0 || got.RetryAfter > 7*time.Second {
		t.Errorf("RetryAfter: got %v, want more than 0 and at most 7s", got.RetryAfter)
	}
}

func TestSimulatorSlowResponse(t *testing.T) {
	sim, baseURL := startSim(t)
	sim.SetFaults(genesyssim.Faults{SlowResponse: &genesyssim.SlowResponse{
		Delay: genesyssim.Duration(time.Minute),
	}})

	// The timeout leaves the simulator ample time to accept the event first.
	got := simClientFor(baseURL, time.Second).Send(context.Background(), liveEvent(t, "app_full.json"))
	if got.Outcome != genesys.Retry {
		t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, genesys.Retry, got.Detail)
	}
	if !got.Uncertain {
		t.Errorf("Uncertain: got false, want true (detail %q)", got.Detail)
	}

	// The simulator accepted the event although the client never received the response.
	sim.Close()
	if got := sim.Stats().EventsAccepted; got != 1 {
		t.Errorf("events accepted: got %d, want 1", got)
	}
}

func TestSimulatorExternalFaults(t *testing.T) {
	sim, baseURL := startSim(t)
	client := simClientFor(baseURL, 0)
	token := fetchToken(t, baseURL, simClient, simSecret)

	t.Run("partial failure", func(t *testing.T) {
		sim.SetFaults(genesyssim.Faults{PartialFailure: &genesyssim.PartialFailure{Status: 503, Probability: 1}})
		results := client.SendExternal(context.Background(), token, liveCustomEvents(t, 3))
		assertOutcomes(t, results, genesys.Retry, genesys.Retry, genesys.Retry)
		for i, r := range results {
			if r.Status != 503 {
				t.Errorf("result %d Status: got %d, want 503", i, r.Status)
			}
		}
	})

	t.Run("rate limit storm", func(t *testing.T) {
		sim.SetFaults(genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{
			RetryAfterSeconds: 4, Endpoints: []string{genesyssim.EndpointExternalEvents},
		}})
		results := client.SendExternal(context.Background(), token, liveCustomEvents(t, 2))
		assertOutcomes(t, results, genesys.Retry, genesys.Retry)
		for i, r := range results {
			if r.RetryAfter != 4*time.Second {
				t.Errorf("result %d RetryAfter: got %v, want 4s", i, r.RetryAfter)
			}
		}
	})
}
