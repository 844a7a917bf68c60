package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/journeyrelay/relay/infra/awslocal"
)

func message(id string, bodyBytes int) Outgoing {
	return Outgoing{ID: id, Body: []byte(strings.Repeat("x", bodyBytes)), Attributes: map[string]string{AttrEventType: "APP"}}
}

func TestSplitByEntriesAndBytes(t *testing.T) {
	var msgs []Outgoing
	for i := 0; i < 23; i++ {
		msgs = append(msgs, message(fmt.Sprint(i), 100))
	}
	got := Split(msgs, 10, 1<<20)
	if len(got) != 3 || len(got[0]) != 10 || len(got[2]) != 3 {
		t.Errorf("by entries: got batch sizes %d", batchSizes(got))
	}

	big := []Outgoing{message("a", 400<<10), message("b", 400<<10), message("c", 400<<10)}
	got = Split(big, 10, 1<<20)
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
		t.Errorf("by bytes: got batch sizes %d, want [2 1]", batchSizes(got))
	}
}

func batchSizes(batches [][]Outgoing) []int {
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, len(b))
	}
	return sizes
}

func TestSenderDeliversToQueue(t *testing.T) {
	emu, res := awslocal.StartT(t)
	client := sqs.NewFromConfig(emu.Config)
	sender := NewSender(client, res.QueueURL, 4)
	var msgs []Outgoing
	for i := 0; i < 25; i++ {
		m := message(fmt.Sprintf("m%d", i), 50)
		m.Body = []byte(fmt.Sprintf(`{"n":%d}`, i))
		msgs = append(msgs, m)
	}
	if failed := sender.Send(context.Background(), msgs); failed != nil {
		t.Fatalf("Send failed: %v", failed)
	}

	seen := map[string]bool{}
	for len(seen) < 25 {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(res.QueueURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			seen[aws.ToString(m.Body)] = true
			if got := aws.ToString(m.MessageAttributes[AttrEventType].StringValue); got != "APP" {
				t.Errorf("event_type attribute: got %q", got)
			}
		}
	}
	if len(seen) != 25 {
		t.Errorf("received %d distinct messages, want 25", len(seen))
	}
}

// flakySender fails the listed message entries on the first call that contains them.
type flakySender struct {
	mu        sync.Mutex
	failOnce  map[string]bool
	failAll   bool
	calls     int
	delivered []string
}

func (f *flakySender) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failAll {
		return nil, errors.New("connection reset")
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		if f.failOnce[body] {
			delete(f.failOnce, body)
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again")})
			continue
		}
		f.delivered = append(f.delivered, body)
	}
	return out, nil
}

func TestSenderRetriesFailedEntriesOnce(t *testing.T) {
	fake := &flakySender{failOnce: map[string]bool{"b": true}}
	msgs := []Outgoing{{ID: "1", Body: []byte("a")}, {ID: "2", Body: []byte("b")}, {ID: "3", Body: []byte("c")}}
	if failed := NewSender(fake, "q", 1).Send(context.Background(), msgs); failed != nil {
		t.Errorf("failed: %v, want none after the retry", failed)
	}
	if fake.calls != 2 {
		t.Errorf("calls: got %d, want 2", fake.calls)
	}
	if len(fake.delivered) != 3 {
		t.Errorf("delivered: got %v", fake.delivered)
	}
}

func TestSenderReportsMessagesStillFailing(t *testing.T) {
	fake := &flakySender{failAll: true}
	msgs := []Outgoing{{ID: "1", Body: []byte("a")}, {ID: "2", Body: []byte("b")}}
	failed := NewSender(fake, "q", 1).Send(context.Background(), msgs)
	if len(failed) != 2 || failed["1"] == nil || failed["2"] == nil {
		t.Errorf("failed: got %v, want both messages", failed)
	}
	if fake.calls != 2 {
		t.Errorf("calls: got %d, want 2 (one retry)", fake.calls)
	}
}
