package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// decode reads a message body as a journey event and checks the fields the
// engine relies on: the event type, the idempotency key and the timestamp.
func decode(body string) (journey.Event, time.Time, error) {
	var event journey.Event
	if err := json.Unmarshal([]byte(body), &event); err != nil {
		return event, time.Time{}, fmt.Errorf("decode event: %w", err)
	}
	switch event.Type {
	case journey.TypeApp, journey.TypeWeb, journey.TypeCustom:
	default:
		return event, time.Time{}, fmt.Errorf("decode event: invalid event_type %q", event.Type)
	}
	if event.IdempotencyKey == "" {
		return event, time.Time{}, errors.New("decode event: missing idempotency_key")
	}
	created, err := time.Parse(time.RFC3339Nano, event.Timestamp)
	if err != nil {
		return event, time.Time{}, fmt.Errorf("decode event: invalid timestamp %q", event.Timestamp)
	}
	return event, created, nil
}

// delivered records the delivery and settles the message. A failed record is
// logged and the message is settled anyway: the event reached Genesys, and a
// deleted message cannot come back to be sent twice.
func (r *run) delivered(ctx context.Context, it *item) {
	if err := r.deps.Claims.MarkDelivered(ctx, it.event.IdempotencyKey, r.ownerOf(it)); err != nil {
		r.cfg.Logger.ErrorContext(ctx, "event delivered but not recorded as delivered",
			"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey, "error", err)
	}
	it.claimed = false
	it.outcome = Outcome{Kind: Settled}

	r.cfg.Metrics.Add(MetricDelivered, 1)
	if received, err := time.Parse(time.RFC3339Nano, it.event.ReceivedAt); err == nil {
		lag := r.cfg.Now().Sub(received)
		r.cfg.Metrics.Observe(MetricDeliveryLag, float64(lag.Milliseconds()), telemetry.Milliseconds)
	}
	r.cfg.Logger.DebugContext(ctx, "event delivered",
		"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey)
}

// giveBack releases the item's claim and returns its message to the queue.
func (r *run) giveBack(ctx context.Context, it *item, visibility time.Duration) {
	r.release(ctx, it)
	r.retryLater(it, visibility)
}

func (r *run) retryLater(it *item, visibility time.Duration) {
	r.cfg.Metrics.Add(MetricRetried, 1)
	it.outcome = Outcome{Kind: Retry, Visibility: visibility}
}

// release deletes the item's claim so that the next attempt need not wait for
// it to expire. A failed release is logged, and the claim then ends at the deadline.
func (r *run) release(ctx context.Context, it *item) {
	if !it.claimed {
		return
	}
	it.claimed = false
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := r.deps.Claims.Release(ctx, it.event.IdempotencyKey, r.ownerOf(it)); err != nil {
		r.cfg.Logger.WarnContext(ctx, "claim release failed, it expires at the deadline",
			"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey, "error", err)
	}
}

// deadLetter releases the claim and copies the message to the dead-letter
// queue. When the copy fails the message goes back to the queue instead, so
// nothing is lost.
func (r *run) deadLetter(ctx context.Context, it *item, reason, detail string) {
	r.release(ctx, it)
	if err := r.deps.DeadLetters.DeadLetter(ctx, it.msg, reason, detail); err != nil {
		r.cfg.Logger.ErrorContext(ctx, "dead-letter send failed, message returned to the queue",
			"message_id", it.msg.ID, "reason", reason, "error", err)
		r.retryLater(it, defaultDeadLetterRetryDelay)
		return
	}
	r.cfg.Metrics.Add(MetricDeadLetteredPrefix+reason, 1)
	r.cfg.Logger.WarnContext(ctx, "message dead-lettered",
		"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey,
		"reason", reason, "detail", detail)
	it.outcome = Outcome{Kind: DeadLettered, Reason: reason, Detail: detail}
}

// rejectionDetail describes a permanent rejection for the dead-letter queue.
// The client's Detail already holds the status, the code and a body excerpt.
func rejectionDetail(res genesys.Result) string {
	if res.Detail != "" {
		return excerpt(res.Detail)
	}
	parts := []string{fmt.Sprintf("status %d", res.Status)}
	if res.Code != "" {
		parts = append(parts, "code "+res.Code)
	}
	if res.Err != nil {
		parts = append(parts, excerpt(res.Err.Error()))
	}
	return strings.Join(parts, ": ")
}

func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxDetailExcerpt {
		return s
	}
	cut := maxDetailExcerpt
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool {
	return b&0xC0 != 0x80
}
