package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Limits SQS places on the calls the consumer makes.
const (
	MaxBatchEntries   = 10             // entries in one receive, delete or visibility batch
	MaxVisibility     = 12 * time.Hour // maximum visibility timeout SQS accepts
	maxMessageAttrs   = 10             // message attributes on one message
	maxDetailBytes    = 1024           // dead_letter_detail is cut to this length
	receiveWaitSecond = 1              // short long-poll, so an empty queue ends a drain fast
	deadLetterReason  = "dead_letter_reason"
	deadLetterDetail  = "dead_letter_detail"
)

// ConsumerAPI is the part of the SQS client the consumer calls.
type ConsumerAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ ConsumerAPI = (*sqs.Client)(nil)

// Attribute is one SQS message attribute. DataType is "String", "Number" or
// "Binary", optionally with a custom suffix such as "String.id".
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is one received SQS message.
type Message struct {
	ID            string
	Body          string
	ReceiptHandle string
	ReceiveCount  int       // ApproximateReceiveCount, 1 on the first receive
	SentAt        time.Time // SentTimestamp; zero when SQS did not return it
	Attributes    map[string]Attribute
}

// StringAttribute returns the value of the String or Number attribute name, or "".
func (m Message) StringAttribute(name string) string {
	return m.Attributes[name].StringValue
}

// VisibilityChange is a request to make Message visible again after Timeout.
type VisibilityChange struct {
	Message Message
	Timeout time.Duration
}

// EntryError is the failure of one entry of a batch call, keyed by message id.
type EntryError struct {
	MessageID   string
	Code        string
	Message     string
	SenderFault bool
}

func (e EntryError) Error() string {
	return fmt.Sprintf("message %s: %s: %s", e.MessageID, e.Code, e.Message)
}

// Consumer receives, deletes, delays and dead-letters messages of one queue.
type Consumer struct {
	api             ConsumerAPI
	queueURL        string
	deadLetterQueue string
}

// NewConsumer returns a Consumer of queueURL that sends rejected messages to deadLetterQueueURL.
func NewConsumer(api ConsumerAPI, queueURL, deadLetterQueueURL string) *Consumer {
	return &Consumer{api: api, queueURL: queueURL, deadLetterQueue: deadLetterQueueURL}
}

// Receive returns up to MaxBatchEntries messages with their receive count, sent time and
// every message attribute. When the queue is empty, it waits up to wait (whole
// seconds, at most 20) for a message to arrive. A zero wait returns at once.
func (c *Consumer) Receive(ctx context.Context, wait time.Duration) ([]Message, error) {
	out, err := c.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(c.queueURL),
		MaxNumberOfMessages:   MaxBatchEntries,
		WaitTimeSeconds:       int32(min(max(wait, 0), 20*time.Second) / time.Second),
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("receive messages: %w", err)
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msgs = append(msgs, fromSQS(m))
	}
	return msgs, nil
}

func fromSQS(m types.Message) Message {
	msg := Message{
		ID:            aws.ToString(m.MessageId),
		Body:          aws.ToString(m.Body),
		ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Attributes:    make(map[string]Attribute, len(m.MessageAttributes)),
	}
	msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		msg.SentAt = time.UnixMilli(ms).UTC()
	}
	for name, v := range m.MessageAttributes {
		msg.Attributes[name] = Attribute{
			DataType:    aws.ToString(v.DataType),
			StringValue: aws.ToString(v.StringValue),
			BinaryValue: v.BinaryValue,
		}
	}
	return msg
}

// Delete deletes msgs in batches of MaxBatchEntries and returns the entries SQS
// rejected. It returns an error only when a whole call failed, and lists the
// messages of that call as entry errors too, so the caller can treat every message alike.
func (c *Consumer) Delete(ctx context.Context, msgs []Message) ([]EntryError, error) {
	var failed []EntryError
	var errs []error
	for chunk := range chunks(msgs) {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, m := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{
				Id:            aws.String(strconv.Itoa(i)),
				ReceiptHandle: aws.String(m.ReceiptHandle),
			}
		}
		out, err := c.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(c.queueURL),
			Entries:  entries,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete messages: %w", err))
			failed = append(failed, failAll(chunk, err)...)
			continue
		}
		failed = append(failed, entryErrors(chunk, out.Failed)...)
	}
	return failed, errors.Join(errs...)
}

// ChangeVisibility makes msg visible again after timeout, capped at MaxVisibility.
func (c *Consumer) ChangeVisibility(ctx context.Context, msg Message, timeout time.Duration) error {
	_, err := c.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(c.queueURL),
		ReceiptHandle:     aws.String(msg.ReceiptHandle),
		VisibilityTimeout: visibilitySeconds(timeout),
	})
	if err != nil {
		return fmt.Errorf("change visibility of message %s: %w", msg.ID, err)
	}
	return nil
}

// ChangeVisibilityBatch applies changes in batches of MaxBatchEntries and reports
// failures the way Delete does.
func (c *Consumer) ChangeVisibilityBatch(ctx context.Context, changes []VisibilityChange) ([]EntryError, error) {
	var failed []EntryError
	var errs []error
	for chunk := range chunks(changes) {
		msgs := make([]Message, len(chunk))
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for i, ch := range chunk {
			msgs[i] = ch.Message
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id:                aws.String(strconv.Itoa(i)),
				ReceiptHandle:     aws.String(ch.Message.ReceiptHandle),
				VisibilityTimeout: visibilitySeconds(ch.Timeout),
			}
		}
		out, err := c.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(c.queueURL),
			Entries:  entries,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("change visibility of messages: %w", err))
			failed = append(failed, failAll(msgs, err)...)
			continue
		}
		failed = append(failed, entryErrors(msgs, out.Failed)...)
	}
	return failed, errors.Join(errs...)
}

// DeadLetter sends a copy of msg to the dead-letter queue with its original
// attributes plus dead_letter_reason and dead_letter_detail. The caller then
// settles the original. When the original carries more than the eight attributes
// that leave room for the two added ones, the extra ones (in name order) are dropped.
func (c *Consumer) DeadLetter(ctx context.Context, msg Message, reason, detail string) error {
	attrs := make(map[string]types.MessageAttributeValue, len(msg.Attributes)+2)
	for _, name := range slices.Sorted(maps.Keys(msg.Attributes)) {
		if name == deadLetterReason || name == deadLetterDetail || len(attrs) >= maxMessageAttrs-2 {
			continue
		}
		a := msg.Attributes[name]
		v := types.MessageAttributeValue{DataType: aws.String(a.DataType), BinaryValue: a.BinaryValue}
		if a.BinaryValue == nil {
			v.StringValue = aws.String(a.StringValue)
		}
		attrs[name] = v
	}
	attrs[deadLetterReason] = stringAttr(reason)
	if detail = cleanDetail(detail); detail != "" {
		attrs[deadLetterDetail] = stringAttr(detail)
	}
	_, err := c.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(c.deadLetterQueue),
		MessageBody:       aws.String(msg.Body),
		MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("send message %s to the dead-letter queue: %w", msg.ID, err)
	}
	return nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// cleanDetail keeps only characters SQS accepts (the XML 1.0 set) and cuts the
// text to maxDetailBytes on a rune boundary.
func cleanDetail(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !xmlChar(r) {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > maxDetailBytes {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func visibilitySeconds(d time.Duration) int32 {
	d = min(max(d, 0), MaxVisibility)
	return int32(d.Round(time.Second) / time.Second)
}

func entryErrors(chunk []Message, failed []types.BatchResultErrorEntry) []EntryError {
	out := make([]EntryError, 0, len(failed))
	for _, f := range failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(chunk) {
			continue
		}
		out = append(out, EntryError{
			MessageID:   chunk[i].ID,
			Code:        aws.ToString(f.Code),
			Message:     aws.ToString(f.Message),
			SenderFault: f.SenderFault,
		})
	}
	return out
}

func failAll(chunk []Message, err error) []EntryError {
	out := make([]EntryError, len(chunk))
	for i, m := range chunk {
		out[i] = EntryError{MessageID: m.ID, Code: "RequestFailed", Message: err.Error()}
	}
	return out
}

// chunks yields s in consecutive slices of at most MaxBatchEntries.
func chunks[T any](s []T) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			n := min(len(s), MaxBatchEntries)
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}
