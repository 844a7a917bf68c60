package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueClient is the part of the SQS API the poller calls.
type QueueClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ QueueClient = (*sqs.Client)(nil)

// Poller feeds a queue to a function the way a Lambda SQS event source
// mapping with ReportBatchItemFailures does. It receives up to BatchSize
// messages, waiting up to BatchingWindow to fill the batch and stopping
// early when the bodies reach 5 MB, and invokes the function with an
// events.SQSEvent, split over several invocations if one would pass Lambda's
// 6 MB payload limit. It then deletes the messages the
// response does not list in batchItemFailures. After a function error, or
// a response naming a message not in the batch, it deletes nothing. Messages
// left in the queue reappear when the queue's visibility timeout ends, and
// SQS moves them to the dead-letter queue after maxReceiveCount receives.
type Poller struct {
	Queue          QueueClient
	QueueURL       string
	QueueARN       string
	Region         string
	Function       Invoker
	BatchSize      int           // 1 to 10,000, received 10 at a time
	BatchingWindow time.Duration // MaximumBatchingWindowInSeconds
	Concurrency    int           // ScalingConfig.MaximumConcurrency; default 2
	Logger         *slog.Logger

	stats PollerStats
}

// PollerStats counts what a Poller did.
type PollerStats struct {
	Batches      atomic.Int64 // invocations
	Deleted      atomic.Int64 // messages deleted after success
	ItemFailures atomic.Int64 // messages the function reported as failed
	Errors       atomic.Int64 // invocations that failed as a whole
}

// Stats returns the poller's counters.
func (p *Poller) Stats() *PollerStats {
	return &p.stats
}

// Run polls with Concurrency workers until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	workers := max(p.Concurrency, 2)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
					p.logger().Error("poll failed", "queue", p.QueueURL, "error", err)
					sleep(ctx, time.Second)
				}
			}
		})
	}
	wg.Wait()
}

// Poll receives one batch, invokes the function with it and deletes the
// messages that succeeded. It returns the batch's size.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	messages, err := p.receive(ctx)
	if err != nil {
		if len(messages) == 0 {
			return 0, err
		}
		// Dropping the batch would hide the messages already received
		// until their visibility timeout ends, so the batch goes ahead.
		p.logger().Warn("receive failed; invoking with the messages received so far",
			"queue", p.QueueURL, "messages", len(messages), "error", err)
	}
	if len(messages) == 0 {
		return 0, nil
	}

	return len(messages), p.invoke(ctx, messages)
}

// maxPayloadBytes is Lambda's limit on a synchronous invocation's payload.
const maxPayloadBytes = 6 << 20

// invoke invokes the function with messages and deletes the ones that
// succeeded. A batch whose event would pass Lambda's payload limit is split
// in two, because Lambda does not send a payload over that limit.
func (p *Poller) invoke(ctx context.Context, messages []sqstypes.Message) error {
	payload, err := json.Marshal(p.event(messages))
	if err != nil {
		return fmt.Errorf("poll: encode the SQS event: %w", err)
	}
	if len(payload) > maxPayloadBytes && len(messages) > 1 {
		half := len(messages) / 2
		return errors.Join(p.invoke(ctx, messages[:half]), p.invoke(ctx, messages[half:]))
	}
	p.stats.Batches.Add(1)
	output, err := p.Function.Invoke(ctx, payload)
	if err != nil {
		p.stats.Errors.Add(1)
		return fmt.Errorf("poll: the batch stays in the queue: %w", err)
	}

	var resp events.SQSEventResponse
	if err := json.Unmarshal(output, &resp); err != nil {
		p.stats.Errors.Add(1)
		return fmt.Errorf("poll: the batch stays in the queue: invalid response %.200s: %w", output, err)
	}
	succeeded, err := succeededMessages(messages, resp)
	if err != nil {
		p.stats.Errors.Add(1)
		return fmt.Errorf("poll: the batch stays in the queue: %w", err)
	}
	p.stats.ItemFailures.Add(int64(len(messages) - len(succeeded)))
	return p.delete(ctx, succeeded)
}

// maxBatchBytes stops receiving once a batch's bodies reach 5 MB. A batch
// that still ends up over Lambda's payload limit is split by invoke.
const maxBatchBytes = 5 << 20

// receive collects up to BatchSize messages. The batching window starts with
// the first message, and a full receive is followed by another at once.
// After a short receive, it waits out the window and takes what has arrived,
// so a slow trickle costs two or three receives per batch.
func (p *Poller) receive(ctx context.Context) ([]sqstypes.Message, error) {
	size := min(max(p.BatchSize, 1), 10000)
	var (
		messages []sqstypes.Message
		deadline time.Time
		bytes    int
	)
	for wait := int32(1); len(messages) < size && bytes < maxBatchBytes; wait = 0 {
		want := min(size-len(messages), 10)
		out, err := p.Queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.QueueURL),
			MaxNumberOfMessages:         int32(want),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return messages, fmt.Errorf("receive from %s: %w", p.QueueURL, err)
		}
		messages = append(messages, out.Messages...)
		for _, m := range out.Messages {
			bytes += len(aws.ToString(m.Body))
		}

		if len(messages) == 0 {
			break
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(p.BatchingWindow)
		}
		if len(out.Messages) == want {
			continue
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			break
		}
		sleep(ctx, remaining)
	}
	return messages, nil
}

// event builds the event Lambda sends for a batch.
func (p *Poller) event(messages []sqstypes.Message) events.SQSEvent {
	var event events.SQSEvent
	for _, m := range messages {
		attributes := map[string]events.SQSMessageAttribute{}
		for name, value := range m.MessageAttributes {
			attributes[name] = events.SQSMessageAttribute{
				StringValue: value.StringValue,
				BinaryValue: value.BinaryValue,
				DataType:    aws.ToString(value.DataType),
			}
		}
		event.Records = append(event.Records, events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			MessageAttributes:      attributes,
			EventSourceARN:         p.QueueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.Region,
		})
	}
	return event
}

// succeededMessages returns the messages resp does not name as failed. Like
// Lambda, it fails the whole batch when resp names an id not in the batch.
func succeededMessages(messages []sqstypes.Message, resp events.SQSEventResponse) ([]sqstypes.Message, error) {
	failed := map[string]bool{}
	for _, failure := range resp.BatchItemFailures {
		failed[failure.ItemIdentifier] = true
	}
	var succeeded []sqstypes.Message
	for _, m := range messages {
		id := aws.ToString(m.MessageId)
		if failed[id] {
			delete(failed, id)
			continue
		}
		succeeded = append(succeeded, m)
	}
	for id := range failed {
		return nil, fmt.Errorf("batchItemFailures names message %q, which is not in the batch", id)
	}
	return succeeded, nil
}

// delete removes messages in batches of 10, the SQS limit.
func (p *Poller) delete(ctx context.Context, messages []sqstypes.Message) error {
	for start := 0; start < len(messages); start += 10 {
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range messages[start:min(start+10, len(messages))] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
				Id:            aws.String(strconv.Itoa(i)),
				ReceiptHandle: m.ReceiptHandle,
			})
		}
		out, err := p.Queue.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", p.QueueURL, err)
		}
		p.stats.Deleted.Add(int64(len(out.Successful)))
		for _, failure := range out.Failed {
			p.logger().Error("delete failed; the message will be received again", "queue", p.QueueURL,
				"code", aws.ToString(failure.Code), "message", aws.ToString(failure.Message))
		}
	}
	return nil
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
