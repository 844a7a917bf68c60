package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/journeyrelay/relay/infra/awslocal"
)

type consumerFixture struct {
	sqs      *sqs.Client
	consumer *Consumer
	queueURL string
	dlqURL   string
}

func startConsumer(t *testing.T) consumerFixture {
	t.Helper()
	emu, res := awslocal.StartT(t)
	client := sqs.NewFromConfig(emu.Config)
	return consumerFixture{
		sqs:      client,
		consumer: NewConsumer(client, res.QueueURL, res.DeadLetterQueueURL),
		queueURL: res.QueueURL,
		dlqURL:   res.DeadLetterQueueURL,
	}
}

func (f consumerFixture) send(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		_, err := f.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl:    aws.String(f.queueURL),
			MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i)),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"event_type":      {DataType: aws.String("String"), StringValue: aws.String("APP")},
				"idempotency_key": {DataType: aws.String("String"), StringValue: aws.String(fmt.Sprintf("key-%d", i))},
			},
		})
		if err != nil {
			t.Fatalf("send message %d: %v", i, err)
		}
	}
}

func (f consumerFixture) receiveAll(t *testing.T, c *Consumer) []Message {
	t.Helper()
	var all []Message
	for {
		msgs, err := c.Receive(context.Background(), time.Second)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 0 {
			return all
		}
		all = append(all, msgs...)
	}
}

func TestConsumerReceiveReadsAttributes(t *testing.T) {
	f := startConsumer(t)
	before := time.Now().Add(-time.Second)
	f.send(t, 1)

	msgs, err := f.consumer.Receive(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.ID == "" || m.ReceiptHandle == "" {
		t.Errorf("got id %q and receipt handle %q, want both set", m.ID, m.ReceiptHandle)
	}
	if m.Body != `{"n":0}` {
		t.Errorf("body: got %q, want {\"n\":0}", m.Body)
	}
	if m.ReceiveCount != 1 {
		t.Errorf("receive count: got %d, want 1", m.ReceiveCount)
	}
	if m.SentAt.Before(before) {
		t.Errorf("sent at: got %v, want after %v", m.SentAt, before)
	}
	if got := m.StringAttribute("idempotency_key"); got != "key-0" {
		t.Errorf("idempotency_key: got %q, want key-0", got)
	}
	if got := m.Attributes["event_type"].DataType; got != "String" {
		t.Errorf("event_type data type: got %q, want String", got)
	}
}

func TestConsumerDeleteSplitsBatches(t *testing.T) {
	f := startConsumer(t)
	f.send(t, 13)
	msgs := f.receiveAll(t, f.consumer)
	if len(msgs) != 13 {
		t.Fatalf("got %d messages, want 13", len(msgs))
	}
	stale := msgs[0]
	stale.ReceiptHandle = "not-a-receipt-handle"
	msgs = append(msgs, stale)

	failed, err := f.consumer.Delete(context.Background(), msgs)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if len(failed) != 1 || failed[0].MessageID != stale.ID {
		t.Fatalf("failed entries: got %+v, want only message %s", failed, stale.ID)
	}
	if failed[0].Code == "" {
		t.Errorf("failed entry has no code: %+v", failed[0])
	}
	if err := f.consumer.ChangeVisibility(context.Background(), msgs[1], 0); err == nil {
		t.Errorf("ChangeVisibility of a deleted message: got nil error, want one")
	}
}

func TestConsumerChangeVisibilityBatch(t *testing.T) {
	f := startConsumer(t)
	f.send(t, 3)
	msgs := f.receiveAll(t, f.consumer)
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3", len(msgs))
	}
	bad := msgs[2]
	bad.ReceiptHandle = "not-a-receipt-handle"
	changes := []VisibilityChange{
		{Message: msgs[0], Timeout: 0},
		{Message: msgs[1], Timeout: time.Hour},
		{Message: bad, Timeout: 0},
	}

	failed, err := f.consumer.ChangeVisibilityBatch(context.Background(), changes)
	if err != nil {
		t.Fatalf("ChangeVisibilityBatch: %v", err)
	}
	if len(failed) != 1 || failed[0].MessageID != bad.ID {
		t.Fatalf("failed entries: got %+v, want only message %s", failed, bad.ID)
	}
	again := f.receiveAll(t, f.consumer)
	if len(again) != 1 || again[0].ID != msgs[0].ID {
		t.Fatalf("visible again: got %d messages, want only %s", len(again), msgs[0].ID)
	}
	if again[0].ReceiveCount != 2 {
		t.Errorf("receive count: got %d, want 2", again[0].ReceiveCount)
	}
}

func TestConsumerChangeVisibilityMakesVisible(t *testing.T) {
	f := startConsumer(t)
	f.send(t, 1)
	msgs := f.receiveAll(t, f.consumer)

	if err := f.consumer.ChangeVisibility(context.Background(), msgs[0], 0); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	again := f.receiveAll(t, f.consumer)
	if len(again) != 1 || again[0].ID != msgs[0].ID {
		t.Fatalf("got %d messages, want %s again", len(again), msgs[0].ID)
	}
}

func TestConsumerDeadLetterKeepsAttributes(t *testing.T) {
	f := startConsumer(t)
	f.send(t, 1)
	msgs := f.receiveAll(t, f.consumer)
	detail := "status 400: " + strings.Repeat("x", 2000)

	if err := f.consumer.DeadLetter(context.Background(), msgs[0], "rejected", detail); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	dlq := NewConsumer(f.sqs, f.dlqURL, "")
	got := f.receiveAll(t, dlq)
	if len(got) != 1 {
		t.Fatalf("dead-letter queue: got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.Body != msgs[0].Body {
		t.Errorf("body: got %q, want %q", m.Body, msgs[0].Body)
	}
	if r := m.StringAttribute("dead_letter_reason"); r != "rejected" {
		t.Errorf("dead_letter_reason: got %q, want rejected", r)
	}
	if d := m.StringAttribute("dead_letter_detail"); len(d) != maxDetailBytes || !strings.HasPrefix(d, "status 400") {
		t.Errorf("dead_letter_detail: got %d bytes starting %.20q, want %d bytes", len(d), d, maxDetailBytes)
	}
	if k := m.StringAttribute("idempotency_key"); k != "key-0" {
		t.Errorf("idempotency_key: got %q, want key-0", k)
	}
}

func TestCleanDetail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "status 400: bad field", want: "status 400: bad field"},
		{name: "control characters", in: "a\x00b\x1bc", want: "a?b?c"},
		{name: "trimmed", in: "  html body \n", want: "html body"},
		{name: "cut on rune boundary", in: strings.Repeat("é", 600), want: strings.Repeat("é", 512)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanDetail(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVisibilitySeconds(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int32
	}{
		{name: "zero", in: 0, want: 0},
		{name: "negative", in: -time.Second, want: 0},
		{name: "rounded", in: 1500 * time.Millisecond, want: 2},
		{name: "capped at twelve hours", in: 13 * time.Hour, want: 43200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := visibilitySeconds(tt.in); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
