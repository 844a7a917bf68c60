package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// shares sizes the instance's rate share to the flush invocations that are
// delivering across all instances. Each delivering invocation holds a lease
// in Leases, and the share of each budget is budget / live leases, clamped to
// between budget / Config.Instances and the whole budget. It is safe for
// concurrent use.
type shares struct {
	leases    Leases // nil keeps the fixed share of budget / Config.Instances
	instances int
	refresh   time.Duration
	logger    *slog.Logger
	lanes     []*lane

	// warned records that a lease failure was logged in this invocation.
	warned atomic.Bool

	mu      sync.Mutex
	users   int                // Begin calls whose end has not run yet
	ctx     context.Context    // the context of the invocation's first Begin
	joined  bool               // the invocation registered its lease or tried to
	leaseID string             // the registered lease, empty when none
	stop    context.CancelFunc // stops the refresh loop
	stopped chan struct{}      // closed when the refresh loop has returned
}

// divisorFor returns the number the budgets are divided by when live leases
// are live: at least 1 and at most instances.
func divisorFor(live, instances int) int {
	return min(max(live, 1), instances)
}

// begin counts one more user of the current invocation. The first one's ctx
// bounds the refresh loop.
func (s *shares) begin(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == 0 {
		s.ctx = ctx
	}
	s.users++
}

// join registers the invocation's lease, counts the live leases and starts
// the refresh loop, the first time it is called in an invocation. Leases live
// until deadline. When the registration fails, the invocation keeps the safe
// share of budget / Config.Instances.
func (s *shares) join(ctx context.Context, deadline time.Time) {
	if s.leases == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined {
		return
	}
	s.joined = true

	id := uuid.NewString()
	if err := s.leases.Register(ctx, id, deadline); err != nil {
		s.fallBack(ctx, err)
		return
	}
	s.leaseID = id
	s.count(ctx)

	loopCtx, stop := context.WithCancel(s.ctx)
	s.stop, s.stopped = stop, make(chan struct{})
	go s.loop(loopCtx, s.stopped)
}

// end counts one user less and, after the last one, stops the refresh loop
// and deletes the invocation's lease. The share stays as it was, and the next
// invocation counts the leases again before it sends.
func (s *shares) end(ctx context.Context) {
	s.mu.Lock()
	s.users--
	if s.users > 0 {
		s.mu.Unlock()
		return
	}
	id, stop, stopped := s.leaseID, s.stop, s.stopped
	s.joined, s.leaseID, s.stop, s.stopped, s.ctx = false, "", nil, nil, nil
	s.mu.Unlock()

	if stop != nil {
		stop()
		<-stopped
	}
	s.warned.Store(false)
	if id == "" {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := s.leases.Release(rctx, id); err != nil {
		// The lease stops counting at the invocation's deadline.
		s.logger.WarnContext(ctx, "rate-share lease not deleted, other instances count it until it ends",
			"lease_id", id, "error", err)
	}
}

// loop counts the live leases every refresh interval until ctx ends.
func (s *shares) loop(ctx context.Context, stopped chan<- struct{}) {
	defer close(stopped)
	ticker := time.NewTicker(s.refresh)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.count(ctx)
		}
	}
}

// count sets the share from the number of live leases, or to the safe share
// when they cannot be counted.
func (s *shares) count(ctx context.Context) {
	live, err := s.leases.Live(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.fallBack(ctx, err)
		}
		return
	}
	s.set(ctx, divisorFor(live, s.instances), live)
}

// fallBack sets the safe share, budget / Config.Instances, and logs the first
// failure of the invocation. Delivery goes on either way.
func (s *shares) fallBack(ctx context.Context, err error) {
	s.set(ctx, s.instances, -1)
	if s.warned.CompareAndSwap(false, true) {
		s.logger.WarnContext(ctx, "rate-share leases unavailable, using the share of the maximum instances",
			"instances", s.instances, "error", err)
	}
}

// set divides every lane's budget by divisor. live is the count it comes
// from, or -1 for the safe share.
func (s *shares) set(ctx context.Context, divisor, live int) {
	changed := false
	for _, l := range s.lanes {
		if l.share(divisor) {
			changed = true
		}
	}
	if changed {
		s.logger.DebugContext(ctx, "rate share changed", "divisor", divisor, "live_leases", live)
	}
}
