package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/rateshare"
)

// TestSharedLeasesSplitBudget runs two engines against one table in kumo and
// the Genesys simulator. An engine alone takes the whole budget, and each
// takes half while both deliver. After one ends, the other takes the whole
// budget again.
func TestSharedLeasesSplitBudget(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1})
	cfg := Config{EventsPerSecond: 100, RequestsPerMinute: 300, Instances: 3, ShareRefresh: 10 * time.Millisecond}
	newEngine := func() *Engine {
		e := s.engine(cfg, breaker.Config{})
		leases := rateshare.New(s.db, s.res.Table, rateshare.Options{})
		e.deps.Leases = leases
		e.shares.leases = leases
		return e
	}
	first, second := newEngine(), newEngine()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := appEvents(2)

	endFirst := first.Begin(ctx)
	defer endFirst()
	if got := countKinds(first.Deliver(ctx, messages(t, events[0]))); got[Settled] != 1 {
		t.Fatalf("first engine's outcomes: %v, want 1 settled", got)
	}
	waitForRates(t, first, 100, 300)

	endSecond := second.Begin(ctx)
	if got := countKinds(second.Deliver(ctx, messages(t, events[1]))); got[Settled] != 1 {
		t.Fatalf("second engine's outcomes: %v, want 1 settled", got)
	}
	waitForRates(t, second, 50, 150)
	waitForRates(t, first, 50, 150)

	endSecond()
	waitForRates(t, first, 100, 300)
	endFirst()

	live, err := rateshare.New(s.db, s.res.Table, rateshare.Options{}).Live(ctx)
	if err != nil {
		t.Fatalf("Live: %v", err)
	}
	if live != 0 {
		t.Errorf("live leases after both invocations = %d, want 0", live)
	}
}

// waitForRates waits until e's shares are events per second and requests per
// minute, because the refresh loop runs on its own goroutine. The wait has no
// time goal: it only bounds a hung test.
func waitForRates(t *testing.T, e *Engine, events, requests float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gotEvents, gotRequests := e.Rates()
		if gotEvents == events && gotRequests == requests {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("shares = %v events/s and %v requests/min, want %v and %v",
				gotEvents, gotRequests, events, requests)
		}
		time.Sleep(time.Millisecond)
	}
}
