package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// shares sizes the instance's rate share to the flush instances that are
// delivering. Each instance holds one lease in Leases while an invocation
// delivers, and the share of each budget is budget / live leases, clamped to
// between budget / Config.Instances and the whole budget. It is safe for
// concurrent use.
type shares struct {
	leases    Leases // nil keeps the fixed share of budget / Config.Instances
	id        string // the instance's lease, the same for all its invocations
	instances int
	refresh   time.Duration
	logger    *slog.Logger
	metrics   Metrics
	lanes     []*lane

	// warned records that a lease failure was logged in this invocation.
	warned atomic.Bool

	mu         sync.Mutex
	users      int                // Begin calls whose end has not run yet
	ctx        context.Context    // the context of the invocation's first Begin
	joined     bool               // the invocation started its refresh loop
	deadline   time.Time          // the end of the invocation's lease
	registered bool               // the lease is written for this invocation
	stop       context.CancelFunc // stops the refresh loop
	stopped    chan struct{}      // closed when the refresh loop has returned
}

// newShares returns shares for one instance, with a lease id of its own.
func newShares(leases Leases, cfg Config, lanes ...*lane) *shares {
	return &shares{
		leases:    leases,
		id:        uuid.NewString(),
		instances: cfg.Instances,
		refresh:   cfg.ShareRefresh,
		logger:    cfg.Logger,
		metrics:   cfg.Metrics,
		lanes:     lanes,
	}
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

// join registers the instance's lease until deadline, counts the live leases
// and starts the refresh loop, the first time it is called in an invocation.
// While the lease cannot be written, the invocation keeps the safe share of
// budget / Config.Instances, and the loop writes it again at each refresh, so
// that other instances count this one within a refresh interval.
func (s *shares) join(ctx context.Context, deadline time.Time) {
	if s.leases == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined {
		return
	}
	s.joined, s.deadline = true, deadline

	s.refreshLocked(ctx)

	loopCtx, stop := context.WithCancel(s.ctx)
	s.stop, s.stopped = stop, make(chan struct{})
	go s.loop(loopCtx, s.stopped)
}

// refreshLocked writes the lease if it is not written yet and then sets the
// share from the live leases. Each call to DynamoDB has a timeout of its own,
// so a slow table costs a refresh, never the invocation. s.mu must be held.
func (s *shares) refreshLocked(ctx context.Context) {
	if !s.registered {
		rctx, cancel := context.WithTimeout(ctx, bookkeepingTimeout)
		err := s.leases.Register(rctx, s.id, s.deadline)
		cancel()
		if err != nil {
			s.fallBack(ctx, err)
			return
		}
		s.registered = true
	}
	s.count(ctx)
}

// end counts one user less and, after the last one, stops the refresh loop
// and deletes the lease. It deletes it even when the invocation's write
// failed, because a write that returned an error may still have landed. The
// share stays as it was, and the next invocation counts the leases again
// before it sends.
func (s *shares) end(ctx context.Context) {
	s.mu.Lock()
	s.users--
	if s.users > 0 {
		s.mu.Unlock()
		return
	}
	joined, stop, stopped := s.joined, s.stop, s.stopped
	s.joined, s.registered, s.stop, s.stopped, s.ctx = false, false, nil, nil, nil
	s.mu.Unlock()

	if stop != nil {
		stop()
		<-stopped
	}
	s.warned.Store(false)
	if !joined {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := s.leases.Release(rctx, s.id); err != nil {
		// The lease stops counting at the invocation's deadline.
		s.logger.WarnContext(ctx, "rate-share lease not deleted, other instances count it until the invocation's deadline",
			"lease_id", s.id, "error", err)
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
			s.mu.Lock()
			s.refreshLocked(ctx)
			s.mu.Unlock()
		}
	}
}

// count sets the share from the number of live leases, or to the safe share
// when they cannot be counted.
func (s *shares) count(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, bookkeepingTimeout)
	live, err := s.leases.Live(cctx)
	cancel()
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
	s.metrics.Add(MetricRateShareFallback, 1)
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
