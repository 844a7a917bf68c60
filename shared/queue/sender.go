package queue

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"
)

// MaxBatchBytes is the SQS limit on the total size of one SendMessageBatch
// call: every entry's body and attributes.
const MaxBatchBytes = 1 << 20

// Message attribute names.
const (
	AttrEventType      = "event_type"
	AttrIdempotencyKey = "idempotency_key"
	AttrReceivedAt     = "received_at"
)

// Outgoing is one message to send.
type Outgoing struct {
	ID         string            // unique within one Send call; reported back on failure
	Body       []byte            // JSON
	Attributes map[string]string // String message attributes
}

// Size returns the bytes SQS counts against its size limits: the body plus
// each attribute's name, data type and value.
func (m Outgoing) Size() int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// BatchSender is the SQS call Sender makes.
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ BatchSender = (*sqs.Client)(nil)

// Sender sends messages to one queue in as few SendMessageBatch calls as the
// limits allow.
type Sender struct {
	client   BatchSender
	queueURL string
	parallel int
}

// NewSender returns a Sender for queueURL that runs up to parallel batch calls at once.
func NewSender(client BatchSender, queueURL string, parallel int) *Sender {
	if parallel < 1 {
		parallel = 1
	}
	return &Sender{client: client, queueURL: queueURL, parallel: parallel}
}

// Send enqueues msgs and returns the error of each message that was not
// enqueued, by ID. Entries that fail are sent once more before they are
// reported. A nil map means every message was enqueued.
func (s *Sender) Send(ctx context.Context, msgs []Outgoing) map[string]error {
	failed := s.sendAll(ctx, msgs)
	if len(failed) == 0 {
		return nil
	}
	var retry []Outgoing
	for _, m := range msgs {
		if _, ok := failed[m.ID]; ok {
			retry = append(retry, m)
		}
	}
	return s.sendAll(ctx, retry)
}

func (s *Sender) sendAll(ctx context.Context, msgs []Outgoing) map[string]error {
	batches := Split(msgs, MaxBatchEntries, MaxBatchBytes)
	results := make([]map[string]error, len(batches))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for i, batch := range batches {
		g.Go(func() error {
			results[i] = s.sendBatch(gctx, batch)
			return nil
		})
	}
	_ = g.Wait() // sendBatch reports errors per message, never through the group
	var failed map[string]error
	for _, r := range results {
		for id, err := range r {
			if failed == nil {
				failed = map[string]error{}
			}
			failed[id] = err
		}
	}
	return failed
}

func (s *Sender) sendBatch(ctx context.Context, batch []Outgoing) map[string]error {
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			MessageBody:       aws.String(string(m.Body)),
			MessageAttributes: stringAttributes(m.Attributes),
		}
	}
	out, err := s.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.queueURL), Entries: entries})
	if err != nil {
		failed := make(map[string]error, len(batch))
		for _, m := range batch {
			failed[m.ID] = fmt.Errorf("send message batch: %w", err)
		}
		return failed
	}
	var failed map[string]error
	for _, f := range out.Failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(batch) {
			continue
		}
		if failed == nil {
			failed = map[string]error{}
		}
		failed[batch[i].ID] = fmt.Errorf("send message: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return failed
}

func stringAttributes(attrs map[string]string) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		out[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return out
}

// Split groups msgs in order into batches of at most maxEntries messages and
// maxBytes total size. A message larger than maxBytes gets a batch of its own,
// for SQS to reject.
func Split(msgs []Outgoing, maxEntries, maxBytes int) [][]Outgoing {
	var batches [][]Outgoing
	var current []Outgoing
	size := 0
	for _, m := range msgs {
		n := m.Size()
		if len(current) > 0 && (len(current) == maxEntries || size+n > maxBytes) {
			batches = append(batches, current)
			current, size = nil, 0
		}
		current = append(current, m)
		size += n
	}
	if len(current) > 0 {
		batches = append(batches, current)
	}
	return batches
}
