package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/queue"
)

// Deliverer is the delivery engine.
type Deliverer interface {
	Deliver(ctx context.Context, msgs []queue.Message) []delivery.Outcome

	// Begin starts an invocation that calls Deliver several times and returns
	// the function that ends it.
	Begin(ctx context.Context) (end func())
}

// Queue is the part of the SQS consumer the handler uses.
type Queue interface {
	Receive(ctx context.Context, wait time.Duration) ([]queue.Message, error)
	Delete(ctx context.Context, msgs []queue.Message) ([]queue.EntryError, error)
	ChangeVisibilityBatch(ctx context.Context, changes []queue.VisibilityChange) ([]queue.EntryError, error)
}

var _ Queue = (*queue.Consumer)(nil)

// Flusher is the metrics sink flushed after each invocation.
type Flusher interface {
	Flush() error
}

// handler serves both triggers of the flush function: the SQS event source
// and the EventBridge schedule that drains the queue.
type handler struct {
	engine  Deliverer
	queue   Queue
	metrics Flusher
	log     *slog.Logger
}

// trigger holds the fields that tell the two payloads apart: an SQS event
// has Records, a scheduled event has detail-type.
type trigger struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType string            `json:"detail-type"`
	Source     string            `json:"source"`
}

// Handle decodes the payload by its shape and runs the matching trigger.
func (h handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	defer func() {
		if err := h.metrics.Flush(); err != nil {
			h.log.WarnContext(ctx, "metrics flush failed", "error", err)
		}
	}()

	var t trigger
	if err := json.Unmarshal(payload, &t); err != nil {
		return nil, fmt.Errorf("decode invocation payload: %w", err)
	}
	switch {
	case t.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode SQS event: %w", err)
		}
		return h.handleSQS(ctx, ev), nil
	case t.DetailType != "":
		h.log.InfoContext(ctx, "drain started", "detail_type", t.DetailType, "source", t.Source)
		return h.drain(ctx)
	}
	return nil, errors.New("unsupported invocation payload: want an SQS event or an EventBridge scheduled event")
}

// handleSQS delivers one SQS batch and names the messages to retry. Each
// retried message first gets its visibility delay, so SQS brings it back
// after the delay rather than after the queue's visibility timeout.
func (h handler) handleSQS(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	msgs := make([]queue.Message, len(ev.Records))
	for i, rec := range ev.Records {
		msgs[i] = fromRecord(rec)
	}

	outcomes := h.engine.Deliver(ctx, msgs)
	retries := h.delay(ctx, msgs, outcomes)

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range retries {
		if m.ID == "" {
			// An empty item identifier would fail the whole batch, so this
			// record cannot be named, and the event source deletes it.
			// NOTE: SQS always sets the message id; this guards a malformed event.
			h.log.ErrorContext(ctx, "SQS record without a message id needs a retry but cannot be named; it is lost",
				"idempotency_key", m.StringAttribute("idempotency_key"))
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
	}
	return resp
}

// fromRecord converts an SQS event record to the consumer's message type.
func fromRecord(rec events.SQSMessage) queue.Message {
	msg := queue.Message{
		ID:            rec.MessageId,
		Body:          rec.Body,
		ReceiptHandle: rec.ReceiptHandle,
		Attributes:    make(map[string]queue.Attribute, len(rec.MessageAttributes)),
	}
	msg.ReceiveCount, _ = strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil {
		msg.SentAt = time.UnixMilli(ms).UTC()
	}
	for name, a := range rec.MessageAttributes {
		attr := queue.Attribute{DataType: a.DataType, BinaryValue: a.BinaryValue}
		if a.StringValue != nil {
			attr.StringValue = *a.StringValue
		}
		msg.Attributes[name] = attr
	}
	return msg
}
