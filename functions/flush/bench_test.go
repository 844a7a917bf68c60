package main

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/delivery"
)

const (
	benchEvents = 500
	benchBudget = delivery.DefaultEventsPerSecond // events per second, the production default
)

// benchEngine is the production engine configuration for one instance that
// owns the whole budget.
func benchEngine() delivery.Config {
	return delivery.Config{EventsPerSecond: benchBudget, Instances: 1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// BenchmarkFlushBudget drains benchEvents events against a simulator that
// allows benchBudget events per second. It reports the delivered rate as a
// share of that budget, and the share of requests that got a 429 response.
func BenchmarkFlushBudget(b *testing.B) {
	var ratio, throttled float64
	for range b.N {
		b.StopTimer()
		s := startStack(b, genesyssim.Config{Seed: 1, DeploymentEventsPerSecond: benchBudget})
		s.enqueue(b, appEvents(benchEvents)...)
		h := s.handler(benchEngine(), breaker.Config{})
		b.StartTimer()

		s.drainUntilEmpty(b, h, time.Minute, 5*time.Minute)

		b.StopTimer()
		stats := s.sim.Stats()
		if stats.EventsAccepted != benchEvents || stats.Duplicates != 0 {
			b.Fatalf("accepted %d events with %d duplicates, want %d and 0",
				stats.EventsAccepted, stats.Duplicates, benchEvents)
		}
		ratio += s.deliveredRate() / benchBudget
		throttled += float64(stats.RateLimited) / float64(totalRequests(stats))
	}
	b.ReportMetric(ratio/float64(b.N), "budget_ratio")
	b.ReportMetric(100*throttled/float64(b.N), "%429")
}

// BenchmarkFlushStorm drains benchEvents events through a 429 storm of a few
// seconds and reports the requests sent per delivered event.
func BenchmarkFlushStorm(b *testing.B) {
	var perEvent float64
	for range b.N {
		b.StopTimer()
		s := startStack(b, genesyssim.Config{Seed: 1, DeploymentEventsPerSecond: benchBudget,
			Faults: genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{
				For:               genesyssim.Duration(3 * time.Second),
				RetryAfterSeconds: 1,
			}}})
		s.enqueue(b, appEvents(benchEvents)...)
		h := s.handler(benchEngine(), breaker.Config{})
		b.StartTimer()

		s.drainUntilEmpty(b, h, time.Minute, 5*time.Minute)

		b.StopTimer()
		stats := s.sim.Stats()
		if stats.EventsAccepted != benchEvents || stats.Duplicates != 0 {
			b.Fatalf("accepted %d events with %d duplicates, want %d and 0",
				stats.EventsAccepted, stats.Duplicates, benchEvents)
		}
		perEvent += float64(totalRequests(stats)) / float64(stats.EventsAccepted)
	}
	b.ReportMetric(perEvent/float64(b.N), "requests/event")
}

// deliveredRate is the simulator's acceptance rate from the first accepted
// event to the last, in events per second.
func (s *stack) deliveredRate() float64 {
	events := s.sim.Events()
	if len(events) < 2 {
		return 0
	}
	span := events[len(events)-1].ReceivedAt.Sub(events[0].ReceivedAt)
	return float64(len(events)-1) / span.Seconds()
}

func totalRequests(stats genesyssim.Stats) int64 {
	var n int64
	for _, byStatus := range stats.Requests {
		for _, count := range byStatus {
			n += count
		}
	}
	return n
}
