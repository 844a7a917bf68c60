package breaker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Conditions of the writes to the shared item.
const (
	// An instance may open a breaker that is closed or does not exist yet.
	condOpen = "attribute_not_exists(pk) OR #state = :closed_state"

	// An instance may take the probe once the open delay has passed, or when
	// the probe's owner has not reported back in time.
	condClaimProbe = "(#state = :open_state AND open_until <= :now)" +
		" OR (#state = :half_open_state AND probe_expires_at < :now)"

	// Only the probe's owner may close or reopen the breaker.
	condFinishProbe = "#state = :half_open_state AND probe_owner = :owner"
)

// sync reads the shared item unless it was read less than SyncInterval ago
// or another goroutine is reading it now.
func (b *Breaker) sync(ctx context.Context) {
	b.mu.Lock()
	now := b.cfg.Now()
	if b.syncing || now.Sub(b.lastSync) < b.cfg.SyncInterval {
		b.mu.Unlock()
		return
	}
	b.syncing = true
	b.lastSync = now
	generation := b.generation
	b.mu.Unlock()

	current, err := b.store.read(ctx)
	if err != nil {
		b.dbFailed(ctx, err)
	} else {
		b.dbSucceeded(ctx)
	}

	b.mu.Lock()
	b.syncing = false
	if err == nil && generation == b.generation && b.inflight == 0 {
		b.setViewLocked(current)
	}
	b.notifyAndUnlock(ctx)
}

// publishOpen writes the open state this instance entered. When another
// instance changed the item first, its state wins.
func (b *Breaker) publishOpen(ctx context.Context, next shared, now time.Time) {
	ctx, cancel := writeContext(ctx)
	defer cancel()

	written, err := b.store.update(ctx, next, now, condOpen, map[string]types.AttributeValue{
		":closed_state": str(Closed.String()),
	})
	b.finishWrite(ctx, b.settle(ctx, next, written, err))
}

// claimProbe tries to become the one instance that sends the half-open probe.
func (b *Breaker) claimProbe(ctx context.Context, now time.Time) (func(bool), error) {
	b.mu.Lock()
	b.inflight++
	next := shared{
		State:        HalfOpen,
		ProbeOwner:   b.cfg.Owner,
		ProbeExpires: now.Add(b.cfg.ProbeTimeout),
		OpenedCount:  b.view.OpenedCount,
	}
	b.mu.Unlock()

	written, err := b.store.update(ctx, next, now, condClaimProbe, map[string]types.AttributeValue{
		":open_state":      str(Open.String()),
		":half_open_state": str(HalfOpen.String()),
		":now":             number(now.UnixMilli()),
	})
	if err != nil && !errors.Is(err, errConflict) && ctx.Err() != nil {
		b.mu.Lock()
		b.inflight--
		b.claimUntil = time.Time{}
		b.mu.Unlock()
		return nil, ctx.Err()
	}
	// Only a write that landed, or one DynamoDB failed to take at all, wins:
	// after a lost write the item may name this instance for another
	// goroutine's probe.
	won := !errors.Is(err, errConflict) && !errors.Is(err, errConflictUnread)
	state := b.settle(ctx, next, written, err)

	// The claim window closes in the same step that publishes the new state,
	// so other goroutines never see a gap between the two.
	b.mu.Lock()
	b.claimUntil = time.Time{}
	b.inflight--
	b.setViewLocked(state)
	b.notifyAndUnlock(ctx)

	if won {
		return b.probeRelease(ctx), nil
	}
	return b.afterLostClaim(ctx, now)
}

// afterLostClaim decides again after another instance changed the item
// first: it may have closed the breaker already.
func (b *Breaker) afterLostClaim(ctx context.Context, now time.Time) (func(bool), error) {
	b.mu.Lock()
	verdict, until := b.judgeLocked(now)
	b.mu.Unlock()

	switch verdict {
	case allow:
		return b.closedRelease(ctx), nil
	case probe:
		// The item changed again since the failed write: look at it on the next sync.
		until = now.Add(b.cfg.SyncInterval)
	}
	return nil, &OpenError{Until: until}
}

// probeRelease returns the release function of the half-open probe: success
// closes the breaker for every instance, failure reopens it for longer.
func (b *Breaker) probeRelease(ctx context.Context) func(bool) {
	var once sync.Once
	return func(success bool) {
		once.Do(func() { b.finishProbe(ctx, success) })
	}
}

func (b *Breaker) finishProbe(ctx context.Context, success bool) {
	ctx, cancel := writeContext(ctx)
	defer cancel()

	now := b.cfg.Now()
	b.mu.Lock()
	next := shared{State: Closed}
	if !success {
		opened := b.view.OpenedCount + 1
		next = shared{State: Open, OpenUntil: now.Add(b.cfg.openDelay(opened)), OpenedCount: opened}
	}
	b.inflight++
	b.mu.Unlock()

	written, err := b.store.update(ctx, next, now, condFinishProbe, map[string]types.AttributeValue{
		":half_open_state": str(HalfOpen.String()),
		":owner":           str(b.cfg.Owner),
	})
	b.finishWrite(ctx, b.settle(ctx, next, written, err))
}

// settle returns the state this instance adopts after writing next: the item
// as written or as another instance left it. When DynamoDB failed it is next
// itself, unless the write is known to have lost, which keeps the state as it was.
func (b *Breaker) settle(ctx context.Context, next, written shared, err error) shared {
	switch {
	case err == nil, errors.Is(err, errConflict):
		b.dbSucceeded(ctx)
		return written
	}
	b.dbFailed(ctx, err)
	if errors.Is(err, errConflictUnread) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.view
	}
	return next
}

// dbFailed logs the first of a run of DynamoDB failures. The Breaker keeps
// using its own state until a call succeeds again.
func (b *Breaker) dbFailed(ctx context.Context, err error) {
	if b.dbFailures.Add(1) == 1 {
		b.cfg.Logger.WarnContext(ctx, "failed to share circuit breaker state in DynamoDB, using local state",
			"error", err, "owner", b.cfg.Owner)
	}
}

func (b *Breaker) dbSucceeded(ctx context.Context) {
	if failed := b.dbFailures.Swap(0); failed > 0 {
		b.cfg.Logger.InfoContext(ctx, "circuit breaker state in DynamoDB reachable again",
			"failed_calls", failed, "owner", b.cfg.Owner)
	}
}
