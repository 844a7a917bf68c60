package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/queue"
)

const (
	// drainMargin is the time left before the deadline at which a drain stops
	// receiving, so that the last round can finish and settle its messages.
	drainMargin = 15 * time.Second

	// drainReceives is how many receives one drain round collects before it
	// delivers, so that the rate limiter always has events waiting.
	drainReceives = 3

	// receiveWait is how long the first receive of a round waits on an empty
	// queue. When it returns no message, the worker ends.
	receiveWait = time.Second

	// drainWorkers is how many receive-deliver-settle loops a drain runs at once.
	drainWorkers = 2

	// settleTimeout bounds the SQS calls that settle a round, which run even
	// when the invocation's context has ended.
	settleTimeout = 5 * time.Second
)

// DrainResult is the response to a scheduled invocation.
type DrainResult struct {
	Received     int `json:"received"`
	Settled      int `json:"settled"`
	Retried      int `json:"retried"`
	DeadLettered int `json:"dead_lettered"`
}

func (r *DrainResult) add(other DrainResult) {
	r.Received += other.Received
	r.Settled += other.Settled
	r.Retried += other.Retried
	r.DeadLettered += other.DeadLettered
}

// drain receives, delivers and settles rounds of messages until a receive
// that waits receiveWait finds the queue empty, or the invocation is close to
// its deadline. The whole drain holds one rate-share lease from its first
// delivery to its end. Two workers overlap so
// that one receives and settles while the other's events wait for the rate
// limiter. Each round is settled before its worker receives again, so an
// interrupted drain redoes at most the rounds in flight, and the idempotency
// records make redoing them safe.
func (h handler) drain(ctx context.Context) (DrainResult, error) {
	var (
		mu     sync.Mutex
		result DrainResult
		errs   []error
		wg     sync.WaitGroup
	)
	end := h.engine.Begin(ctx)
	defer end()
	for range drainWorkers {
		wg.Go(func() {
			for enoughTime(ctx) {
				msgs, stop, err := h.receiveRound(ctx)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(msgs) > 0 {
					tally := h.settle(ctx, msgs, h.engine.Deliver(ctx, msgs))
					mu.Lock()
					result.add(tally)
					mu.Unlock()
				}
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()

	h.log.InfoContext(ctx, "drain finished", "received", result.Received, "settled", result.Settled,
		"retried", result.Retried, "dead_lettered", result.DeadLettered)
	return result, errors.Join(errs...)
}

// receiveRound collects up to drainReceives batches and reports whether the
// worker should stop. It stops when the round's first receive, which waits up
// to receiveWait, returns no message or fails. Only that first receive waits,
// so that a round never idles once it has messages. A later receive that
// returns less than a full batch, or fails, ends the round but not the
// worker, because the next round's first receive shows whether the queue is
// empty or SQS keeps failing.
func (h handler) receiveRound(ctx context.Context) ([]queue.Message, bool, error) {
	var msgs []queue.Message
	for i := range drainReceives {
		wait := receiveWait
		if i > 0 {
			wait = 0
		}
		batch, err := h.queue.Receive(ctx, wait)
		if err != nil {
			if len(msgs) > 0 {
				h.log.WarnContext(ctx, "receive failed, delivering what was received", "error", err)
				return msgs, false, nil
			}
			return nil, true, fmt.Errorf("drain: %w", err)
		}
		if len(batch) == 0 {
			return msgs, i == 0, nil
		}
		msgs = append(msgs, batch...)
		if len(batch) < queue.MaxBatchEntries {
			return msgs, false, nil
		}
	}
	return msgs, false, nil
}

// settle deletes settled and dead-lettered messages, delays retried ones and
// returns the tally.
func (h handler) settle(ctx context.Context, msgs []queue.Message, outcomes []delivery.Outcome) DrainResult {
	result := DrainResult{Received: len(msgs)}
	var done []queue.Message
	for i, o := range outcomes {
		switch o.Kind {
		case delivery.Settled:
			result.Settled++
			done = append(done, msgs[i])
		case delivery.DeadLettered:
			result.DeadLettered++
			done = append(done, msgs[i])
		default:
			result.Retried++
		}
	}
	h.delay(ctx, msgs, outcomes)

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	failed, err := h.queue.Delete(sctx, done)
	for _, f := range failed {
		// The message comes back after the visibility timeout; its
		// idempotency record then settles it without a second send.
		h.log.WarnContext(ctx, "delete failed", "message_id", f.MessageID, "code", f.Code, "error", f.Message)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "delete batch failed", "error", err)
	}
	return result
}

// delay applies each Retry outcome's visibility and returns the retried messages.
func (h handler) delay(ctx context.Context, msgs []queue.Message, outcomes []delivery.Outcome) []queue.Message {
	var retries []queue.Message
	var changes []queue.VisibilityChange
	for i, o := range outcomes {
		if o.Kind == delivery.Retry {
			retries = append(retries, msgs[i])
			changes = append(changes, queue.VisibilityChange{Message: msgs[i], Timeout: o.Visibility})
		}
	}
	if len(changes) == 0 {
		return nil
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	failed, err := h.queue.ChangeVisibilityBatch(sctx, changes)
	for _, f := range failed {
		h.log.WarnContext(ctx, "visibility change failed, the queue's visibility timeout applies",
			"message_id", f.MessageID, "code", f.Code, "error", f.Message)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "visibility change batch failed", "error", err)
	}
	return retries
}

func enoughTime(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > drainMargin
}
