package journey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Options are the rules a batch is checked against.
type Options struct {
	DeadBand    time.Duration // device clock offsets within this are network delay, not skew
	MaxEventAge time.Duration // APP and WEB events older than this are rejected
	MaxEvents   int           // events per request
}

// Accepted is an event that passed validation, ready to enqueue.
type Accepted struct {
	Index int
	Event Event
}

// SkewFlag marks a session whose device clock was corrected or whose events
// came from the future.
type SkewFlag struct {
	SessionID string
	Reason    string        // SkewOffset or SkewFuture
	Offset    time.Duration // the device clock's offset, or how far ahead a future event was
}

// Batch is the outcome of checking one request's body.
type Batch struct {
	Accepted     []Accepted
	Rejected     []Violation
	ClockOffset  time.Duration // sent_at minus the receive time; zero without sent_at
	HasSentAt    bool
	Flags        []SkewFlag // one per session, in order of first appearance
	RequestError *Violation // set when the body as a whole is unusable
}

type batchContext struct {
	in inputContext
}

// Parse checks a decoded request body: a batch envelope {"sent_at", "context",
// "events"} or one bare event. headerKey is the Idempotency-Key header, used
// for a bare event without idempotency_key. receivedAt is the server's
// receive time, the reference for clock skew and event age.
func Parse(body []byte, headerKey string, receivedAt time.Time, opts Options) Batch {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return requestError(CodeInvalidJSON, "", invalidJSONMessage(body))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return requestError(CodeInvalidJSON, "", invalidJSONMessage(body))
	}
	if _, isBatch := top["events"]; !isBatch {
		return parseEvents([]json.RawMessage{trimmed}, nil, headerKey, nil, receivedAt, opts)
	}

	c := &checker{index: -1}
	var env inputEnvelope
	if !decodeStrict(c, "", trimmed, &env) {
		v := c.violations[0]
		return Batch{RequestError: &v}
	}
	if len(env.Events) == 0 {
		return requestError(CodeNoEvents, "events", "events is empty; send at least one event")
	}
	if len(env.Events) > opts.MaxEvents {
		return requestError(CodeTooManyEvents, "events",
			fmt.Sprintf("the request has %d events; the maximum is %d, so split it into several requests", len(env.Events), opts.MaxEvents))
	}
	var sentAt *time.Time
	if len(env.SentAt) > 0 && string(env.SentAt) != "null" {
		var s string
		t, err := time.Time{}, error(nil)
		if json.Unmarshal(env.SentAt, &s) == nil {
			t, err = ParseTime(s)
		} else {
			err = fmt.Errorf("it must be a string")
		}
		if err != nil {
			return requestError(CodeInvalidSentAt, "sent_at",
				fmt.Sprintf("sent_at is not a valid time: %v; send the device clock's time as RFC 3339 with a zone, such as 2026-12-04T15:04:05.123Z", err))
		}
		sentAt = &t
	}
	var ctx *batchContext
	if len(env.Context) > 0 && string(env.Context) != "null" {
		ctx = &batchContext{}
		if !decodeStrict(c, "context", env.Context, &ctx.in) {
			v := c.violations[0]
			return Batch{RequestError: &v}
		}
	}
	return parseEvents(env.Events, ctx, "", sentAt, receivedAt, opts)
}

func requestError(code, field, message string) Batch {
	return Batch{RequestError: &Violation{Index: -1, Field: field, Code: code, Message: message}}
}

func invalidJSONMessage(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	if syntax, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("the body is not valid JSON (%s at byte %d); send a JSON object", syntax.Error(), syntax.Offset)
	}
	return "the body must be a JSON object: a batch {\"sent_at\", \"context\", \"events\": [...]} or one event"
}

func parseEvents(raws []json.RawMessage, ctx *batchContext, headerKey string, sentAt *time.Time, receivedAt time.Time, opts Options) Batch {
	var b Batch
	if sentAt != nil {
		b.HasSentAt = true
		b.ClockOffset = sentAt.Sub(receivedAt).Truncate(time.Millisecond)
	}
	correct := b.HasSentAt && abs(b.ClockOffset) > opts.DeadBand
	received := FormatTime(receivedAt)
	seenKeys := make(map[string]int, len(raws))
	flagged := map[string]bool{}

	for i, raw := range raws {
		d, violations := parseEvent(raw, i, ctx)
		if len(violations) > 0 {
			b.Rejected = append(b.Rejected, violations...)
			continue
		}
		ev := d.event
		ev.ReceivedAt = received
		if ev.IdempotencyKey == "" && headerKey != "" && len(raws) == 1 {
			c := &checker{index: i}
			if ev.IdempotencyKey = c.idempotencyKey("Idempotency-Key header", headerKey); !c.ok() {
				b.Rejected = append(b.Rejected, c.violations...)
				continue
			}
		}
		if ev.IdempotencyKey == "" {
			ev.IdempotencyKey = DeriveKey(&ev, d.at)
		}

		at := d.at
		if correct {
			at = at.Add(-b.ClockOffset)
			ev.Skew = SkewOffset
		}
		if at.Sub(receivedAt) > opts.DeadBand {
			at = receivedAt
			ev.Skew = SkewFuture
		}
		ev.Timestamp = FormatTime(at)
		if ev.Skew != "" {
			ev.OriginalTimestamp = FormatTime(d.at)
		}

		if ev.Type != TypeCustom && receivedAt.Sub(at) > opts.MaxEventAge {
			b.Rejected = append(b.Rejected, Violation{Index: i, Field: "timestamp", Code: CodeTooOld,
				Message: fmt.Sprintf("timestamp %s is %s old; Genesys accepts %s events up to one hour old, and the relay needs part of that hour to deliver, so send events within %s",
					ev.Timestamp, receivedAt.Sub(at).Round(time.Second), ev.Type, opts.MaxEventAge)})
			continue
		}
		if first, dup := seenKeys[ev.IdempotencyKey]; dup {
			b.Rejected = append(b.Rejected, Violation{Index: i, Field: "idempotency_key", Code: CodeDuplicateInRequest,
				Message: fmt.Sprintf("event %d of this request has the same idempotency key; it is delivered once, so drop one of them", first)})
			continue
		}
		seenKeys[ev.IdempotencyKey] = i

		if ev.Skew != "" && !flagged[ev.SessionID] {
			flagged[ev.SessionID] = true
			offset := b.ClockOffset
			if ev.Skew == SkewFuture {
				offset = d.at.Sub(receivedAt).Truncate(time.Millisecond)
			}
			b.Flags = append(b.Flags, SkewFlag{SessionID: ev.SessionID, Reason: ev.Skew, Offset: offset})
		}
		b.Accepted = append(b.Accepted, Accepted{Index: i, Event: ev})
	}
	return b
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
