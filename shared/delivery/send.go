package delivery

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/genesys"
)

// sendOne sends one event until it is settled, dead-lettered or returned to
// the queue, waiting in-process between attempts while time allows.
func (r *run) sendOne(ctx context.Context, it *item) {
	for attempt := 1; ; attempt++ {
		if r.expired(ctx, it) {
			return
		}
		if err := r.awaitTurn(ctx, r.app); err != nil {
			r.cfg.Logger.InfoContext(ctx, "no send slot before the deadline, message returned to the queue",
				"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey, "error", err)
			r.giveBack(ctx, it, jitter(r.messageBackoff(it)))
			return
		}
		release, err := r.deps.Breaker.Acquire(ctx)
		if err != nil {
			r.breakerRefused(ctx, []*item{it}, err)
			return
		}

		res := r.deps.Sender.Send(ctx, it.event)
		release(genesysHealthy(res))

		wait, again := r.classify(ctx, it, res, r.app, attempt)
		if !again {
			return
		}
		if err := r.cfg.Sleep(ctx, wait); err != nil {
			r.giveBack(ctx, it, wait)
			return
		}
	}
}

// awaitTurn waits out a 429 pause of the lane and then for a rate-limit
// permit, and fails when either would end past the invocation's deadline. A
// pause that began while it waited for the permit is waited out too, so that
// senders queued behind the limiter do not all run into the same 429.
func (r *run) awaitTurn(ctx context.Context, l *lane) error {
	for {
		if wait := l.paused().Sub(r.cfg.Now()); wait > 0 {
			if wait > r.remaining() {
				return errNoTime
			}
			if err := r.cfg.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		maxWait := r.remaining()
		if maxWait <= 0 {
			return errNoTime
		}
		if err := l.acquire(ctx, maxWait); err != nil {
			return err
		}
		if !l.paused().After(r.cfg.Now()) {
			return nil
		}
	}
}

// classify acts on one Genesys result. It returns again=true with the wait
// before the next in-process attempt, or settles the item otherwise.
func (r *run) classify(ctx context.Context, it *item, res genesys.Result, l *lane, attempt int) (time.Duration, bool) {
	switch res.Outcome {
	case genesys.Delivered:
		r.delivered(ctx, it)
		return 0, false
	case genesys.Permanent:
		r.deadLetter(ctx, it, ReasonRejected, rejectionDetail(res))
		return 0, false
	case genesys.Misconfigured, genesys.Unauthorized:
		// A wrong deployment, configuration or permission affects every event,
		// so the alarm on this metric, not a flood of dead letters, reports it.
		r.cfg.Metrics.Add(MetricMisconfigured, 1)
		r.cfg.Logger.ErrorContext(ctx, "Genesys rejected the relay's configuration, message returned to the queue",
			"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey,
			"status", res.Status, "code", res.Code, "detail", excerpt(res.Detail))
		r.giveBack(ctx, it, jitter(r.messageBackoff(it)))
		return 0, false
	}

	// Anything else is retryable: 429, 5xx, a timeout or a lost connection.
	if res.Status == http.StatusTooManyRequests {
		r.cfg.Metrics.Add(MetricThrottled, 1)
	}
	if res.Uncertain {
		// Genesys may have the event already. Losing it is worse than a rare
		// duplicate, so it is sent again.
		r.cfg.Metrics.Add(MetricPossibleDuplicates, 1)
	}
	wait := r.attemptBackoff(attempt)
	if res.HasRetryAfter {
		wait = min(max(res.RetryAfter, 0), r.cfg.MaxRetryAfter)
	}
	if res.Status == http.StatusTooManyRequests {
		l.pause(r.cfg.Now().Add(wait))
	}
	if attempt < r.cfg.MaxAttempts && wait <= r.remaining() {
		r.cfg.Metrics.Add(MetricRetried, 1)
		return wait, true
	}

	visibility := r.messageBackoff(it)
	if res.HasRetryAfter {
		// At least a second, so that a Retry-After of 0 does not make the
		// message visible again at once to a drain that is still receiving.
		visibility = max(wait, minHeldVisibility)
	}
	r.cfg.Logger.InfoContext(ctx, "send failed, message returned to the queue",
		"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey,
		"status", res.Status, "attempts", attempt, "visibility", visibility, "error", res.Err)
	r.giveBack(ctx, it, jitter(visibility))
	return 0, false
}

// genesysHealthy reports whether a result counts as a success for the circuit
// breaker: a 429 or a rejected event shows Genesys is up, while 5xx, timeouts
// and 403/404 responses count against it.
func genesysHealthy(res genesys.Result) bool {
	switch res.Outcome {
	case genesys.Delivered, genesys.Permanent, genesys.Unauthorized:
		return true
	case genesys.Retry:
		return res.Status == http.StatusTooManyRequests
	}
	return false
}

// breakerRefused returns items to the queue when the breaker is open or
// could not be read. Nothing was sent.
func (r *run) breakerRefused(ctx context.Context, items []*item, err error) {
	var open *breaker.OpenError
	if !errors.As(err, &open) {
		r.cfg.Logger.ErrorContext(ctx, "circuit breaker unavailable, messages returned to the queue",
			"messages", len(items), "error", err)
		for _, it := range items {
			r.giveBack(ctx, it, jitter(r.messageBackoff(it)))
		}
		return
	}
	if r.breakerSeen.CompareAndSwap(false, true) {
		r.cfg.Logger.WarnContext(ctx, "circuit breaker open, messages returned to the queue",
			"until", open.Until)
	}
	for _, it := range items {
		visibility := max(open.Until.Sub(r.cfg.Now()), r.messageBackoff(it))
		r.giveBack(ctx, it, jitter(visibility))
	}
}

// messageBackoff is the visibility delay of a message returned to the queue:
// RetryBase doubled for each earlier receive, capped at RetryMax.
func (r *run) messageBackoff(it *item) time.Duration {
	return doubled(r.cfg.RetryBase, r.cfg.RetryMax, it.msg.ReceiveCount)
}

// attemptBackoff is the in-process wait after a failed attempt.
func (r *run) attemptBackoff(attempt int) time.Duration {
	return jitter(doubled(r.cfg.AttemptBase, r.cfg.AttemptMax, attempt))
}

// doubled returns base·2^(n-1), capped at limit. An n below 1 counts as 1.
func doubled(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// jitter adds up to a fifth of d at random, so that messages delayed
// together do not all come back at once.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + rand.N(d/5+1)
}
