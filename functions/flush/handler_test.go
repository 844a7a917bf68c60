package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/queue"
)

// scriptedEngine returns the outcome scripted for each message id, Settled by default.
type scriptedEngine struct {
	mu       sync.Mutex
	outcomes map[string]delivery.Outcome
	calls    [][]queue.Message
	begun    int // Begin calls
	ended    int // calls of the functions Begin returned
}

func (e *scriptedEngine) Begin(context.Context) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.begun++
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.ended++
	}
}

func (e *scriptedEngine) Deliver(_ context.Context, msgs []queue.Message) []delivery.Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, msgs)
	out := make([]delivery.Outcome, len(msgs))
	for i, m := range msgs {
		o, ok := e.outcomes[m.ID]
		if !ok {
			o = delivery.Outcome{Kind: delivery.Settled}
		}
		o.MessageID = m.ID
		out[i] = o
	}
	return out
}

// memoryQueue hands out its messages in batches of ten, or of batchSize when
// set, and records what was deleted and delayed.
type memoryQueue struct {
	mu        sync.Mutex
	pending   []queue.Message
	deleted   []string
	delayed   map[string]time.Duration
	batchSize int
	waits     []time.Duration // the wait of each receive
}

func (q *memoryQueue) Receive(_ context.Context, wait time.Duration) ([]queue.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waits = append(q.waits, wait)
	size := queue.MaxBatchEntries
	if q.batchSize > 0 {
		size = q.batchSize
	}
	n := min(len(q.pending), size)
	batch := q.pending[:n]
	q.pending = q.pending[n:]
	return batch, nil
}

func (q *memoryQueue) Delete(_ context.Context, msgs []queue.Message) ([]queue.EntryError, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range msgs {
		q.deleted = append(q.deleted, m.ID)
	}
	return nil, nil
}

func (q *memoryQueue) ChangeVisibilityBatch(_ context.Context, changes []queue.VisibilityChange) ([]queue.EntryError, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.delayed == nil {
		q.delayed = map[string]time.Duration{}
	}
	for _, c := range changes {
		q.delayed[c.Message.ID] = c.Timeout
	}
	return nil, nil
}

type countingFlusher struct{ flushes int }

func (f *countingFlusher) Flush() error {
	f.flushes++
	return nil
}

func newTestHandler(engine *scriptedEngine, q *memoryQueue) (handler, *countingFlusher) {
	metrics := &countingFlusher{}
	return handler{engine: engine, queue: q, metrics: metrics, log: slog.New(slog.DiscardHandler)}, metrics
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

func TestHandleSQSNamesRetriedMessages(t *testing.T) {
	payload := readFixture(t, "sqs-batch.json")
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	retryID := ev.Records[1].MessageId
	deadID := ev.Records[2].MessageId
	engine := &scriptedEngine{outcomes: map[string]delivery.Outcome{
		retryID: {Kind: delivery.Retry, Visibility: 90 * time.Second},
		deadID:  {Kind: delivery.DeadLettered, Reason: delivery.ReasonRejected},
	}}
	q := &memoryQueue{}
	h, metrics := newTestHandler(engine, q)

	out, err := h.Handle(context.Background(), payload)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	resp, ok := out.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("response: got %T, want events.SQSEventResponse", out)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: retryID}}
	if !reflect.DeepEqual(resp.BatchItemFailures, want) {
		t.Errorf("batch item failures: got %+v, want %+v", resp.BatchItemFailures, want)
	}
	if q.delayed[retryID] != 90*time.Second || len(q.delayed) != 1 {
		t.Errorf("visibility changes: got %v, want only %s for 90s", q.delayed, retryID)
	}
	if len(q.deleted) != 0 {
		t.Errorf("deleted: got %v, want none (Lambda deletes the successes)", q.deleted)
	}
	if metrics.flushes != 1 {
		t.Errorf("metrics flushes: got %d, want 1", metrics.flushes)
	}
}

func TestHandleSQSReadsRecordAttributes(t *testing.T) {
	payload := readFixture(t, "sqs-batch.json")
	engine := &scriptedEngine{}
	h, _ := newTestHandler(engine, &memoryQueue{})

	if _, err := h.Handle(context.Background(), payload); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if len(engine.calls) != 1 || len(engine.calls[0]) != 3 {
		t.Fatalf("Deliver calls: got %v, want one call with 3 messages", len(engine.calls))
	}
	m := engine.calls[0][0]
	if m.ReceiveCount != 1 {
		t.Errorf("receive count: got %d, want 1", m.ReceiveCount)
	}
	if m.StringAttribute("event_type") != "APP" {
		t.Errorf("event_type: got %q, want APP", m.StringAttribute("event_type"))
	}
	if m.SentAt.UnixMilli() != 1796396400300 {
		t.Errorf("sent at: got %d, want 1796396400300", m.SentAt.UnixMilli())
	}
	if m.ReceiptHandle != "AQEB-local-receipt-handle-1" {
		t.Errorf("receipt handle: got %q", m.ReceiptHandle)
	}
}

func TestHandleSQSNeverNamesEmptyID(t *testing.T) {
	payload := []byte(`{"Records":[{"messageId":"","body":"{}"},{"messageId":"m-2","body":"{}"}]}`)
	engine := &scriptedEngine{outcomes: map[string]delivery.Outcome{
		"":    {Kind: delivery.Retry, Visibility: time.Minute},
		"m-2": {Kind: delivery.Retry, Visibility: time.Minute},
	}}
	h, _ := newTestHandler(engine, &memoryQueue{})

	out, err := h.Handle(context.Background(), payload)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	resp := out.(events.SQSEventResponse)
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" {
			t.Errorf("batch item failures contain an empty identifier: %+v", resp.BatchItemFailures)
		}
	}
	if len(resp.BatchItemFailures) != 1 {
		t.Errorf("batch item failures: got %d, want 1", len(resp.BatchItemFailures))
	}
}

func TestHandleScheduleDrainsQueue(t *testing.T) {
	q := &memoryQueue{}
	for i := range 45 {
		q.pending = append(q.pending, queue.Message{ID: fmt.Sprintf("m-%02d", i)})
	}
	engine := &scriptedEngine{outcomes: map[string]delivery.Outcome{
		"m-07": {Kind: delivery.Retry, Visibility: time.Minute},
		"m-33": {Kind: delivery.DeadLettered, Reason: delivery.ReasonExpired},
	}}
	h, _ := newTestHandler(engine, q)

	out, err := h.Handle(context.Background(), readFixture(t, "schedule.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	got, ok := out.(DrainResult)
	if !ok {
		t.Fatalf("response: got %T, want DrainResult", out)
	}
	want := DrainResult{Received: 45, Settled: 43, Retried: 1, DeadLettered: 1}
	if got != want {
		t.Errorf("result: got %+v, want %+v", got, want)
	}
	if len(q.deleted) != 44 {
		t.Errorf("deleted: got %d, want 44", len(q.deleted))
	}
	if q.delayed["m-07"] != time.Minute {
		t.Errorf("visibility of m-07: got %v, want 1m", q.delayed["m-07"])
	}
	delivered := 0
	for _, call := range engine.calls {
		delivered += len(call)
	}
	if delivered != 45 {
		t.Errorf("messages delivered over %d rounds: got %d, want 45", len(engine.calls), delivered)
	}
	if engine.begun != 1 {
		t.Errorf("Begin calls: got %d, want 1", engine.begun)
	}
	if engine.ended != 1 {
		t.Errorf("invocations ended: got %d, want 1", engine.ended)
	}
}

// A receive can return less than a full batch while messages remain, so the
// drain goes on until a receive that waits finds nothing.
func TestHandleScheduleDrainsShortBatches(t *testing.T) {
	q := &memoryQueue{batchSize: 3}
	for i := range 45 {
		q.pending = append(q.pending, queue.Message{ID: fmt.Sprintf("m-%02d", i)})
	}
	engine := &scriptedEngine{}
	h, _ := newTestHandler(engine, q)

	out, err := h.Handle(context.Background(), readFixture(t, "schedule.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if got := out.(DrainResult); got.Received != 45 {
		t.Errorf("received: got %d, want 45", got.Received)
	}
	if len(q.pending) != 0 {
		t.Errorf("pending: got %d, want 0", len(q.pending))
	}
	if len(q.deleted) != 45 {
		t.Errorf("deleted: got %d, want 45", len(q.deleted))
	}
	last := q.waits[len(q.waits)-1]
	if last != receiveWait {
		t.Errorf("wait of the last receive: got %v, want %v", last, receiveWait)
	}
}

func TestHandleScheduleStopsNearDeadline(t *testing.T) {
	q := &memoryQueue{pending: []queue.Message{{ID: "m-1"}}}
	engine := &scriptedEngine{}
	h, _ := newTestHandler(engine, q)
	ctx, cancel := context.WithTimeout(context.Background(), drainMargin/2)
	defer cancel()

	out, err := h.Handle(ctx, readFixture(t, "schedule.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if got := out.(DrainResult); got.Received != 0 {
		t.Errorf("received: got %d, want 0", got.Received)
	}
	if len(q.pending) != 1 {
		t.Errorf("pending: got %d, want 1 left on the queue", len(q.pending))
	}
}

func TestHandleRejectsUnknownPayload(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{name: "empty object", payload: `{}`},
		{name: "not JSON", payload: `Records`},
		{name: "API Gateway request", payload: `{"version":"2.0","rawPath":"/v1/events"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(&scriptedEngine{}, &memoryQueue{})
			if _, err := h.Handle(context.Background(), []byte(tt.payload)); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		value any
	}{
		{name: "SQS batch", file: "sqs-batch.json", value: &events.SQSEvent{}},
		{name: "schedule", file: "schedule.json", value: &events.EventBridgeEvent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readFixture(t, tt.file)
			if err := json.Unmarshal(data, tt.value); err != nil {
				t.Fatalf("decode: %v", err)
			}
			again, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			var want, got any
			_ = json.Unmarshal(data, &want)
			_ = json.Unmarshal(again, &got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("re-encoded fixture differs:\ngot  %s\nwant %s", again, data)
			}
		})
	}
}
