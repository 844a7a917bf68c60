package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
)

// A batch an app sent twice puts two messages with one idempotency key into
// the queue, and SQS may hand both to one invocation.
func TestDeliverSameKeyTwiceInOneBatch(t *testing.T) {
	s := startStack(t, genesyssim.Config{Seed: 1})
	events := appEvents(3)
	msgs := messages(t, append(events, events...)...) // six messages, three keys

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	engine := s.engine(Config{Concurrency: 6, WaitMargin: 100 * time.Millisecond}, breaker.Config{})
	engine.Deliver(ctx, msgs)
	// The copies that found their key claimed come back later and are settled then.
	engine.Deliver(ctx, msgs)

	for name, n := range s.acceptedByName() {
		if n != 1 {
			t.Errorf("event %s: Genesys accepted it %d times, want 1", name, n)
		}
	}
	if got := s.sim.Stats().Duplicates; got != 0 {
		t.Errorf("simulator duplicates: got %d, want 0", got)
	}
}
