package breaker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
)

// writeTimeout bounds the DynamoDB writes made by a release function, which
// has no context of its own.
const writeTimeout = 3 * time.Second

// Breaker is a circuit breaker whose state is shared through DynamoDB. It is
// safe for concurrent use.
type Breaker struct {
	cfg   Config
	store store
	local circuitbreaker.CircuitBreaker[any]

	mu         sync.Mutex
	view       shared    // the shared state as this instance last read or wrote it
	generation uint64    // counts changes of view, so a slow read never replaces a newer state
	inflight   int       // writes of the shared item in progress
	lastSync   time.Time // start of the last read of the shared item
	syncing    bool
	claimUntil time.Time // while in the future, this instance is claiming the probe
	changes    []change  // changes from the local breaker's listener, not yet logged or reported

	dbFailures atomic.Int64 // DynamoDB calls failed in a row
}

type change struct{ from, to State }

// New returns a Breaker that keeps its shared state in table.
func New(db DynamoDB, table string, cfg Config) *Breaker {
	b := &Breaker{cfg: cfg.withDefaults(), store: store{db: db, table: table}}
	b.local = circuitbreaker.NewBuilder[any]().
		WithFailureThreshold(b.cfg.FailureThreshold).
		// Acquire never calls the local breaker's TryAcquirePermit, so this
		// delay is unused: the shared item decides when to probe.
		WithDelay(b.cfg.MaxOpenDelay).
		OnStateChanged(b.recordChange).
		Build()
	return b
}

// State returns the state this instance last saw.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.view.State
}

// Acquire reports whether a request may be sent now. When it may, Acquire
// returns a release function that the caller must call once with the outcome:
// false for 5xx, timeouts, connection errors and 403 or 404 responses, true
// otherwise. While the breaker is open, or while another caller holds the
// half-open probe, it returns an *OpenError. It returns ctx's error when ctx
// is done.
func (b *Breaker) Acquire(ctx context.Context) (release func(success bool), err error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	b.sync(ctx)

	b.mu.Lock()
	now := b.cfg.Now()
	verdict, until := b.judgeLocked(now)
	if verdict == probe {
		b.claimUntil = now.Add(b.cfg.ProbeTimeout)
	}
	b.mu.Unlock()

	switch verdict {
	case allow:
		return b.closedRelease(ctx), nil
	case deny:
		return nil, &OpenError{Until: until}
	}
	return b.claimProbe(ctx, now)
}

type verdict int

const (
	allow verdict = iota
	deny
	probe
)

// judgeLocked decides what Acquire does at now and, for deny, until when.
func (b *Breaker) judgeLocked(now time.Time) (verdict, time.Time) {
	v := b.view
	switch {
	case v.State == Closed:
		return allow, time.Time{}
	case now.Before(b.claimUntil):
		return deny, b.claimUntil
	case v.State == Open && now.Before(v.OpenUntil):
		return deny, v.OpenUntil
	case v.State == HalfOpen && now.Before(v.ProbeExpires):
		return deny, v.ProbeExpires
	}
	return probe, time.Time{}
}

// closedRelease returns the release function of a request sent while the
// breaker was closed: it feeds the outcome to the local failure count.
func (b *Breaker) closedRelease(ctx context.Context) func(bool) {
	var once sync.Once
	return func(success bool) {
		once.Do(func() { b.recordOutcome(ctx, success) })
	}
}

func (b *Breaker) recordOutcome(ctx context.Context, success bool) {
	b.mu.Lock()
	// A request that started before the breaker opened counts for nothing.
	if b.view.State != Closed {
		b.mu.Unlock()
		return
	}
	if success {
		b.local.RecordSuccess()
		b.mu.Unlock()
		return
	}

	b.local.RecordFailure()
	if !b.local.IsOpen() {
		b.mu.Unlock()
		return
	}
	now := b.cfg.Now()
	next := shared{State: Open, OpenUntil: now.Add(b.cfg.OpenDelay), OpenedCount: 1}
	b.setViewLocked(next)
	b.inflight++
	b.notifyAndUnlock(ctx)

	b.publishOpen(ctx, next, now)
}

// recordChange is the local breaker's state listener. The local breaker is
// only ever called with b.mu held, so the listener runs with it held too.
func (b *Breaker) recordChange(e circuitbreaker.StateChangedEvent) {
	b.changes = append(b.changes, change{from: fromLocal(e.OldState), to: fromLocal(e.NewState)})
}

func fromLocal(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.OpenState:
		return Open
	case circuitbreaker.HalfOpenState:
		return HalfOpen
	}
	return Closed
}

// setViewLocked makes next the state of this instance and moves the local
// breaker to match, which records a change when the state differs.
func (b *Breaker) setViewLocked(next shared) {
	b.view = next
	b.generation++
	switch next.State {
	case Closed:
		b.local.Close()
	case Open:
		b.local.Open()
	case HalfOpen:
		b.local.HalfOpen()
	}
}

// notifyAndUnlock unlocks b.mu, then logs each recorded change and passes
// it to OnStateChange.
func (b *Breaker) notifyAndUnlock(ctx context.Context) {
	changes, view := b.changes, b.view
	b.changes = nil
	b.mu.Unlock()

	for _, c := range changes {
		attrs := []any{"from", c.from.String(), "to", c.to.String(), "owner", b.cfg.Owner}
		if c.to == Open {
			attrs = append(attrs, "open_until", view.OpenUntil.UTC())
		}
		b.cfg.Logger.InfoContext(ctx, "circuit breaker state changed", attrs...)
		if b.cfg.OnStateChange != nil {
			b.cfg.OnStateChange(c.from, c.to)
		}
	}
}

// finishWrite ends a write of the shared item started with inflight++ and
// makes next the state of this instance.
func (b *Breaker) finishWrite(ctx context.Context, next shared) {
	b.mu.Lock()
	b.inflight--
	b.setViewLocked(next)
	b.notifyAndUnlock(ctx)
}

// writeContext returns a context for a write made after the request, which
// must happen even when the request's own context has been cancelled.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}
