package delivery

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/testclock"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

// killingSender stops the invocation right after Genesys accepted the n-th
// event, as a crash between the 2xx and the delivered record would.
type killingSender struct {
	Sender
	n       int64
	count   atomic.Int64
	started atomic.Int64
	cancel  context.CancelFunc
}

func (k *killingSender) Send(ctx context.Context, e journey.Event) genesys.Result {
	k.started.Add(1)
	res := k.Sender.Send(ctx, e)
	if res.Outcome == genesys.Delivered && k.count.Add(1) == k.n {
		k.cancel()
	}
	return res
}

func TestDeliverKilledMidBatchLosesNothing(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1})
	events := appEvents(20)
	msgs := messages(t, events...)
	cfg := Config{Concurrency: 4, WaitMargin: 100 * time.Millisecond}

	// The first invocation dies right after Genesys accepted its 8th event.
	// Its outcomes are never reported, as a dead process reports nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	first := s.engine(cfg, breaker.Config{})
	killer := &killingSender{Sender: first.deps.Sender, n: 8, cancel: cancel}
	first.deps.Sender = killer
	first.Deliver(ctx, msgs)
	deadline, _ := ctx.Deadline()
	s.awaitRequests(killer.started.Load())

	// The events Genesys has that the relay did not record are the only
	// ones a redelivery may send twice.
	accepted := s.acceptedByName()
	unrecorded := map[string]bool{}
	for _, e := range events {
		if accepted[e.Name] > 0 && s.recordState(t, e.IdempotencyKey) != "delivered" {
			unrecorded[e.Name] = true
		}
	}
	if len(unrecorded) == 0 {
		t.Fatalf("no event was accepted but unrecorded at the kill; the test did not hit the window")
	}

	t.Logf("events accepted but unrecorded at the kill: %d", len(unrecorded))

	// SQS redelivers every message once the claims of the dead invocation expired.
	time.Sleep(time.Until(deadline) + 100*time.Millisecond)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	out := s.engine(cfg, breaker.Config{}).Deliver(ctx2, msgs)

	if kinds := countKinds(out); kinds[Settled] != len(msgs) {
		t.Errorf("redelivery outcomes: got %v, want all %d settled", kinds, len(msgs))
	}
	after := s.acceptedByName()
	for _, e := range events {
		want := 1
		if unrecorded[e.Name] {
			want = 2
		}
		if after[e.Name] != want {
			t.Errorf("%s accepted: got %d, want %d", e.Name, after[e.Name], want)
		}
	}
	if got, want := s.sim.Stats().Duplicates, int64(len(unrecorded)); got != want {
		t.Errorf("duplicates: got %d, want %d (the events accepted but unrecorded at the kill)\n%+v", got, want, s.sim.Stats())
	}
}

func TestTwoFlushesDeliverOnce(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1})
	events := appEvents(30)
	msgs := messages(t, events...)
	cfg := Config{Concurrency: 4, WaitMargin: 100 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Two instances get the same messages at once, as SQS may hand a message
	// to a second consumer.
	var outA, outB []Outcome
	var wg sync.WaitGroup
	wg.Go(func() { outA = s.engine(cfg, breaker.Config{}).Deliver(ctx, msgs) })
	wg.Go(func() { outB = s.engine(cfg, breaker.Config{}).Deliver(ctx, msgs) })
	wg.Wait()

	var again []int
	for i := range msgs {
		if outA[i].Kind != Settled && outB[i].Kind != Settled {
			t.Errorf("message %d: got %v and %v, want one settled", i, outA[i].Kind, outB[i].Kind)
		}
		if outA[i].Kind == Retry || outB[i].Kind == Retry {
			again = append(again, i)
		}
	}

	// The retried copies come back and are settled without a send.
	for _, i := range again {
		out := s.engine(cfg, breaker.Config{}).Deliver(ctx, msgs[i:i+1])
		if out[0].Kind != Settled {
			t.Errorf("redelivered message %d: got %v, want settled", i, out[0].Kind)
		}
	}
	stats := s.sim.Stats()
	if stats.EventsAccepted != int64(len(events)) {
		t.Errorf("events accepted: got %d, want %d", stats.EventsAccepted, len(events))
	}
	if stats.Duplicates != 0 {
		t.Errorf("duplicates: got %d, want 0", stats.Duplicates)
	}
	// Each message's second copy was skipped, at once or on redelivery.
	if got := s.metrics.Total(MetricDuplicatesSkipped); int(got) != len(msgs) {
		t.Errorf("duplicates_skipped: got %v, want %d", got, len(msgs))
	}
}

// awaitRequests waits, up to two seconds, until the simulator has finished n
// requests, so that one the client gave up on is counted before the test
// reads what Genesys accepted.
func (s *stack) awaitRequests(n int64) {
	for stop := time.Now().Add(2 * time.Second); time.Now().Before(stop); {
		var done int64
		for _, byStatus := range s.sim.Stats().Requests {
			for _, count := range byStatus {
				done += count
			}
		}
		if done >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entityCounter counts the entities of each external-events request.
type entityCounter struct {
	Sender
	entities atomic.Int64
}

func (c *entityCounter) SendExternal(ctx context.Context, token string, events []journey.Event) []genesys.Result {
	c.entities.Add(int64(len(events)))
	return c.Sender.SendExternal(ctx, token, events)
}

func TestDeliverExternalResendsOnlyUnprocessed(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1, Faults: genesyssim.Faults{
		PartialFailure: &genesyssim.PartialFailure{Probability: 0.3},
	}})
	events := customEvents(30)
	e := s.externalEngine(t, Config{
		RequestsPerMinute: 6000,
		ExternalBatchSize: 10,
		MaxAttempts:       10,
		AttemptBase:       10 * time.Millisecond,
		AttemptMax:        50 * time.Millisecond,
		WaitMargin:        100 * time.Millisecond,
	})
	counter := &entityCounter{Sender: e.deps.Sender}
	e.deps.Sender = counter
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out := e.Deliver(ctx, messages(t, events...))

	if kinds := countKinds(out); kinds[Settled] != len(events) {
		t.Errorf("outcomes: got %v, want all %d settled", kinds, len(events))
	}
	stats := s.sim.Stats()
	if got := stats.EventsAcceptedByEndpoint[genesyssim.EndpointExternalEvents]; got != int64(len(events)) {
		t.Errorf("external events accepted: got %d, want %d", got, len(events))
	}
	if stats.Duplicates != 0 {
		t.Errorf("duplicates: got %d, want 0", stats.Duplicates)
	}
	if stats.EntitiesUnprocessed == 0 {
		t.Fatalf("unprocessed entities: got 0, want the fault to leave some")
	}
	// Every entity was sent once, plus once more for each time Genesys
	// listed it as unprocessed: accepted entities were never resent.
	if got, want := counter.entities.Load(), int64(len(events))+stats.EntitiesUnprocessed; got != want {
		t.Errorf("entities sent: got %d, want %d", got, want)
	}
	if stats.TokensIssued != 1 {
		t.Errorf("tokens issued: got %d, want 1", stats.TokensIssued)
	}
}

func TestDeliverExternalRefreshesExpiredToken(t *testing.T) {
	clock := testclock.New(time.Now())
	s := startStack(t, genesyssim.Config{Seed: 1, Now: clock.Now, TokenLifetime: 10 * time.Minute})
	events := customEvents(10)
	e := s.externalEngine(t, Config{RequestsPerMinute: 6000, WaitMargin: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if kinds := countKinds(e.Deliver(ctx, messages(t, events[:5]...))); kinds[Settled] != 5 {
		t.Fatalf("first batch: got %v, want 5 settled", kinds)
	}

	// Genesys expires the token while the relay still holds it as valid.
	clock.Advance(11 * time.Minute)
	out := e.Deliver(ctx, messages(t, events[5:]...))

	if kinds := countKinds(out); kinds[Settled] != 5 {
		t.Errorf("second batch: got %v, want 5 settled", kinds)
	}
	stats := s.sim.Stats()
	if got := stats.Requests[genesyssim.EndpointExternalEvents]["401"]; got != 1 {
		t.Errorf("401 responses: got %d, want 1", got)
	}
	if stats.TokensIssued != 2 {
		t.Errorf("tokens issued: got %d, want 2", stats.TokensIssued)
	}
	if got := stats.EventsAcceptedByEndpoint[genesyssim.EndpointExternalEvents]; got != int64(len(events)) {
		t.Errorf("external events accepted: got %d, want %d", got, len(events))
	}
	if got := s.metrics.Total(MetricMisconfigured); got != 0 {
		t.Errorf("misconfigured: got %v, want 0", got)
	}
}
