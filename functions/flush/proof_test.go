package main

import (
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/delivery"
)

const testConcurrency = 4

// fastEngine scales the production delays down from seconds and minutes to
// fractions of a second, so that an outage of a few seconds plays out the way
// an outage of many minutes does in production.
func fastEngine() delivery.Config {
	return delivery.Config{
		EventsPerSecond: 200,
		Instances:       1,
		Concurrency:     testConcurrency,
		WaitMargin:      time.Second,
		MaxAttempts:     3,
		RetryBase:       time.Second,
		RetryMax:        2 * time.Second,
		AttemptBase:     50 * time.Millisecond,
		AttemptMax:      200 * time.Millisecond,
	}
}

func fastBreaker() breaker.Config {
	return breaker.Config{
		FailureThreshold: 3,
		OpenDelay:        500 * time.Millisecond,
		MaxOpenDelay:     time.Second,
		ProbeTimeout:     2 * time.Second,
		SyncInterval:     50 * time.Millisecond,
	}
}

// drainTimeout is the function timeout each scheduled invocation gets: enough
// for the drain margin plus a few seconds of work.
const drainTimeout = drainMargin + 5*time.Second

func TestFlushDeadLettersOnlyRejectedEvent(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1})
	events := appEvents(6)
	events[2].Name = "bad-name" // Genesys accepts only letters, digits and underscores
	s.enqueue(t, events...)

	s.drainUntilEmpty(t, s.handler(fastEngine(), fastBreaker()), drainTimeout, time.Minute)

	dead := s.deadLetters(t)
	if len(dead) != 1 {
		t.Fatalf("dead letters: got %d, want 1", len(dead))
	}
	if got := dead[0].StringAttribute("idempotency_key"); got != events[2].IdempotencyKey {
		t.Errorf("dead letter: got key %q, want %q", got, events[2].IdempotencyKey)
	}
	if got := dead[0].StringAttribute("dead_letter_reason"); got != delivery.ReasonRejected {
		t.Errorf("dead_letter_reason: got %q, want %q", got, delivery.ReasonRejected)
	}
	if got := dead[0].StringAttribute("dead_letter_detail"); !strings.Contains(got, "400") {
		t.Errorf("dead_letter_detail: got %q, want the 400 status in it", got)
	}
	accepted := s.acceptedByName()
	for i, e := range events {
		want := 1
		if i == 2 {
			want = 0
		}
		if accepted[e.Name] != want {
			t.Errorf("%s accepted: got %d, want %d", e.Name, accepted[e.Name], want)
		}
	}
	if got := s.sim.Stats().Duplicates; got != 0 {
		t.Errorf("duplicates: got %d, want 0", got)
	}
}

func TestFlushRidesOutRateLimitStorm(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		minWait time.Duration // shortest wait the Retry-After value can mean
	}{
		// The simulator sends now+2s as an HTTP-date, whole seconds only,
		// so the wait it means is between one and two seconds.
		{name: "seconds", format: "seconds", minWait: 2 * time.Second},
		{name: "HTTP-date", format: "http-date", minWait: time.Second},
	}
	const stormFor = 3 * time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, genesyssim.Config{Seed: 1, Faults: genesyssim.Faults{
				RateLimitStorm: &genesyssim.RateLimitStorm{
					For:               genesyssim.Duration(stormFor),
					RetryAfterSeconds: 2,
					RetryAfterFormat:  tt.format,
				},
			}})
			events := appEvents(20)
			s.enqueue(t, events...)

			s.drainUntilEmpty(t, s.handler(fastEngine(), fastBreaker()), drainTimeout, time.Minute)

			stats := s.sim.Stats()
			t.Logf("requests %v, 429 responses %d", stats.Requests, stats.RateLimited)
			if stats.EventsAccepted != int64(len(events)) {
				t.Errorf("events accepted: got %d, want %d", stats.EventsAccepted, len(events))
			}
			if stats.Duplicates != 0 {
				t.Errorf("duplicates: got %d, want 0", stats.Duplicates)
			}
			if stats.RateLimited == 0 {
				t.Fatalf("429 responses: got 0, want the storm to throttle some requests")
			}
			// Honouring Retry-After pauses every sender, so each wait costs at
			// most the requests already in flight.
			bound := int64(stormFor/tt.minWait+1) * testConcurrency
			if stats.RateLimited > bound {
				t.Errorf("429 responses: got %d, want at most %d", stats.RateLimited, bound)
			}
			if got := s.metrics.Total(delivery.MetricThrottled); int64(got) != stats.RateLimited {
				t.Errorf("throttled: got %v, want %d", got, stats.RateLimited)
			}
			if dead := s.deadLetters(t); len(dead) != 0 {
				t.Errorf("dead letters: got %d, want 0", len(dead))
			}
		})
	}
}

func TestFlushSurvivesOutage(t *testing.T) {
	tests := []struct {
		name   string
		mode   string // the simulator's outage mode
		status string // how the simulator counts the failed requests
	}{
		{name: "503 responses", mode: "503", status: "503"},
		{name: "connection resets", mode: "reset", status: "reset"},
	}
	const outage = 5 * time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, genesyssim.Config{Seed: 1, Faults: genesyssim.Faults{
				Outage: &genesyssim.Outage{For: genesyssim.Duration(outage), Mode: tt.mode,
					Endpoints: []string{genesyssim.EndpointAppEvents}},
			}})
			events := appEvents(20)
			s.enqueue(t, events...)
			brk := fastBreaker()

			s.drainUntilEmpty(t, s.handler(fastEngine(), brk), drainTimeout, time.Minute)

			stats := s.sim.Stats()
			t.Logf("requests %v", stats.Requests)
			if stats.EventsAccepted != int64(len(events)) {
				t.Errorf("events accepted: got %d, want %d", stats.EventsAccepted, len(events))
			}
			if stats.Duplicates != 0 {
				t.Errorf("duplicates: got %d, want 0", stats.Duplicates)
			}
			if dead := s.deadLetters(t); len(dead) != 0 {
				t.Errorf("dead letters: got %d, want 0", len(dead))
			}
			// Before the breaker opens, the failures that open it plus the
			// requests already in flight; while it is open, one probe per open delay.
			failed := stats.Requests[genesyssim.EndpointAppEvents][tt.status]
			bound := int64(brk.FailureThreshold) + testConcurrency + int64(outage/brk.OpenDelay) + 1
			if failed == 0 || failed > bound {
				t.Errorf("failed requests: got %d, want 1 to %d", failed, bound)
			}
			if got := s.metrics.Total(delivery.MetricBreakerOpen); got < 1 {
				t.Errorf("breaker_open: got %v, want at least 1", got)
			}
			if got := s.metrics.Total(delivery.MetricBreakerClose); got < 1 {
				t.Errorf("breaker_close: got %v, want at least 1", got)
			}
		})
	}
}
