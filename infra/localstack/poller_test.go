package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/journeyrelay/relay/infra/awslocal"
)

var namesInUse atomic.Int64

// uniqueNames returns the default resource names with a suffix unique in this
// test binary, because kumo keeps one store per process for all its servers.
func uniqueNames() awslocal.Names {
	suffix := fmt.Sprintf("-t%d", namesInUse.Add(1))
	names := awslocal.DefaultNames()
	names.Queue += suffix
	names.DeadLetterQueue += suffix
	names.Table += suffix
	names.AppKeysSecret += suffix
	names.GenesysSecret += suffix
	return names
}

type testQueue struct {
	client *sqs.Client
	res    awslocal.Resources
}

// startQueue runs kumo with the relay's queues, provisioned with names.
func startQueue(t *testing.T, names awslocal.Names) testQueue {
	t.Helper()
	ctx := context.Background()
	emu, err := awslocal.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	res, err := awslocal.Provision(ctx, emu.Config, names)
	if err != nil {
		t.Fatal(err)
	}
	return testQueue{client: sqs.NewFromConfig(emu.Config), res: res}
}

func (q testQueue) send(t *testing.T, url string, bodies ...string) {
	t.Helper()
	for _, body := range bodies {
		_, err := q.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl:    aws.String(url),
			MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"event_type": {DataType: aws.String("String"), StringValue: aws.String("APP")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// counts returns the visible and in-flight message counts of a queue.
func (q testQueue) counts(t *testing.T, url string) (visible, inFlight int) {
	t.Helper()
	out, err := q.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

func (q testQueue) poller(fn Invoker) *Poller {
	return &Poller{
		Queue: q.client, QueueURL: q.res.QueueURL, QueueARN: q.res.QueueARN, Region: awslocal.Region,
		Function: fn, BatchSize: 10,
	}
}

func TestPollerDeletesAllButFailedItems(t *testing.T) {
	q := startQueue(t, uniqueNames())
	q.send(t, q.res.QueueURL, "ok-1", "fail", "ok-2")
	logPath := filepath.Join(t.TempDir(), "bodies")
	p := q.poller(NewPool("echo", startEcho(t, "ECHO_LOG="+logPath)))

	n, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}

	if n != 3 {
		t.Errorf("batch size: got %d, want 3", n)
	}
	seen, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	bodies := strings.Fields(string(seen))
	slices.Sort(bodies)
	if want := []string{"fail", "ok-1", "ok-2"}; !slices.Equal(bodies, want) {
		t.Errorf("bodies the function saw: got %v, want %v", bodies, want)
	}
	if visible, inFlight := q.counts(t, q.res.QueueURL); visible != 0 || inFlight != 1 {
		t.Errorf("queue: got %d visible and %d in flight, want 0 and the 1 failed message", visible, inFlight)
	}
	if got := p.Stats().Deleted.Load(); got != 2 {
		t.Errorf("deleted: got %d, want 2", got)
	}
	if got := p.Stats().ItemFailures.Load(); got != 1 {
		t.Errorf("item failures: got %d, want 1", got)
	}
}

func TestPollerBuildsSQSEvent(t *testing.T) {
	q := startQueue(t, uniqueNames())
	q.send(t, q.res.QueueURL, `{"event_name":"screen_viewed"}`)
	fn := &fakeFunction{output: []byte(`{"batchItemFailures":[]}`)}

	if _, err := q.poller(fn).Poll(context.Background()); err != nil {
		t.Fatalf("Poll: %v", err)
	}

	calls := fn.calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	var event events.SQSEvent
	if err := json.Unmarshal(calls[0], &event); err != nil {
		t.Fatal(err)
	}
	if len(event.Records) != 1 {
		t.Fatalf("records: got %d, want 1", len(event.Records))
	}
	record := event.Records[0]
	checks := []struct{ name, got, want string }{
		{"body", record.Body, `{"event_name":"screen_viewed"}`},
		{"eventSource", record.EventSource, "aws:sqs"},
		{"eventSourceARN", record.EventSourceARN, q.res.QueueARN},
		{"awsRegion", record.AWSRegion, awslocal.Region},
		{"ApproximateReceiveCount", record.Attributes["ApproximateReceiveCount"], "1"},
		{"event_type attribute", aws.ToString(record.MessageAttributes["event_type"].StringValue), "APP"},
		{"event_type data type", record.MessageAttributes["event_type"].DataType, "String"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if record.MessageId == "" || record.ReceiptHandle == "" {
		t.Errorf("messageId %q and receiptHandle %q must both be set", record.MessageId, record.ReceiptHandle)
	}
}

func TestPollerKeepsBatchOnFailure(t *testing.T) {
	tests := []struct {
		name   string
		output string
		err    error
	}{
		{"function error", `{"errorType":"x","errorMessage":"y"}`, &FunctionError{Type: "x"}},
		{"unknown item identifier", `{"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]}`, nil},
		{"invalid response", `[1,2]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := startQueue(t, uniqueNames())
			q.send(t, q.res.QueueURL, "a", "b")
			p := q.poller(&fakeFunction{output: []byte(tt.output), err: tt.err})

			if _, err := p.Poll(context.Background()); err == nil {
				t.Error("Poll: got no error, want one")
			}
			if visible, inFlight := q.counts(t, q.res.QueueURL); visible != 0 || inFlight != 2 {
				t.Errorf("queue: got %d visible and %d in flight, want both messages in flight", visible, inFlight)
			}
			if got := p.Stats().Deleted.Load(); got != 0 {
				t.Errorf("deleted: got %d, want 0", got)
			}
		})
	}
}

func TestPollerEmptyQueue(t *testing.T) {
	q := startQueue(t, uniqueNames())
	fn := &fakeFunction{}

	n, err := q.poller(fn).Poll(context.Background())

	if err != nil || n != 0 {
		t.Errorf("Poll: got %d, %v, want 0 and no error", n, err)
	}
	if got := len(fn.calls()); got != 0 {
		t.Errorf("invocations: got %d, want 0", got)
	}
}

// SQS, not the poller, moves a message to the dead-letter queue once it has
// been received maxReceiveCount times; kumo implements that redrive.
func TestPollerFailedMessageReachesDeadLetterQueue(t *testing.T) {
	names := uniqueNames()
	names.MaxReceiveCount = 2
	names.VisibilityTimeout = time.Second
	q := startQueue(t, names)
	q.send(t, q.res.QueueURL, "fail")
	fn := &fakeFunction{respond: func(payload []byte) ([]byte, error) {
		var event events.SQSEvent
		_ = json.Unmarshal(payload, &event)
		return fmt.Appendf(nil, `{"batchItemFailures":[{"itemIdentifier":%q}]}`, event.Records[0].MessageId), nil
	}}
	p := q.poller(fn)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if visible, _ := q.counts(t, q.res.DeadLetterQueueURL); visible == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the message did not reach the dead-letter queue; the function saw it %d times", len(fn.calls()))
		}
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			t.Fatalf("Poll: %v", err)
		}
	}

	if got := len(fn.calls()); got != names.MaxReceiveCount {
		t.Errorf("invocations: got %d, want maxReceiveCount %d", got, names.MaxReceiveCount)
	}
	if visible, inFlight := q.counts(t, q.res.QueueURL); visible+inFlight != 0 {
		t.Errorf("source queue: got %d messages, want 0", visible+inFlight)
	}
}

func TestPollerFillsBatchesLargerThanOneReceive(t *testing.T) {
	q := startQueue(t, uniqueNames())
	bodies := make([]string, 25)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("m-%d", i)
	}
	q.send(t, q.res.QueueURL, bodies...)
	fn := &fakeFunction{output: []byte(`{"batchItemFailures":[]}`)}
	p := q.poller(fn)
	p.BatchSize = 100
	p.BatchingWindow = 2 * time.Second

	n, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}

	if n != 25 {
		t.Errorf("batch size: got %d, want all 25 messages in one batch", n)
	}
	var event events.SQSEvent
	if err := json.Unmarshal(fn.calls()[0], &event); err != nil {
		t.Fatal(err)
	}
	if len(event.Records) != 25 {
		t.Errorf("records in the event: got %d, want 25", len(event.Records))
	}
	if visible, inFlight := q.counts(t, q.res.QueueURL); visible != 0 || inFlight != 0 {
		t.Errorf("queue: got %d visible and %d in flight, want it empty", visible, inFlight)
	}
}

// tricklingQueue returns one message per receive, as a queue that is fed
// slowly does.
type tricklingQueue struct {
	receives int
}

func (q *tricklingQueue) ReceiveMessage(_ context.Context, _ *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	q.receives++
	id := fmt.Sprintf("m-%d", q.receives)
	return &sqs.ReceiveMessageOutput{Messages: []sqstypes.Message{{MessageId: aws.String(id), Body: aws.String(id)}}}, nil
}

func (q *tricklingQueue) DeleteMessageBatch(_ context.Context, _ *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func TestPollerWaitsOutWindowOnce(t *testing.T) {
	queue := &tricklingQueue{}
	p := &Poller{Queue: queue, QueueURL: "q", Function: &fakeFunction{}, BatchSize: 100, BatchingWindow: 200 * time.Millisecond}

	messages, err := p.receive(context.Background())
	if err != nil {
		t.Fatalf("receive: %v", err)
	}

	if queue.receives != 2 {
		t.Errorf("receives: got %d, want 2 (one before the window and one after it)", queue.receives)
	}
	if len(messages) != 2 {
		t.Errorf("messages: got %d, want 2", len(messages))
	}
}

// listQueue hands out its messages, up to MaxNumberOfMessages per receive.
type listQueue struct {
	messages []sqstypes.Message
	deleted  int
}

func (q *listQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	n := min(int(in.MaxNumberOfMessages), len(q.messages))
	out := q.messages[:n]
	q.messages = q.messages[n:]
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (q *listQueue) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	q.deleted += len(in.Entries)
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func TestPollerSplitsBatchOverPayloadLimit(t *testing.T) {
	body := strings.Repeat("x", 2<<20)
	queue := &listQueue{}
	for i := range 4 {
		id := fmt.Sprintf("m-%d", i)
		queue.messages = append(queue.messages, sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String(id), Body: aws.String(body)})
	}
	fn := &fakeFunction{output: []byte(`{"batchItemFailures":[]}`)}
	p := &Poller{Queue: queue, QueueURL: "q", Function: fn, BatchSize: 10, BatchingWindow: 10 * time.Millisecond}

	n, err := p.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}

	if n != 4 {
		t.Errorf("batch size: got %d, want 4", n)
	}
	calls := fn.calls()
	if len(calls) != 2 {
		t.Fatalf("invocations: got %d, want 2 halves of the 8 MB batch", len(calls))
	}
	for i, payload := range calls {
		if len(payload) > maxPayloadBytes {
			t.Errorf("invocation %d: payload of %d bytes, over the %d limit", i, len(payload), maxPayloadBytes)
		}
	}
	if queue.deleted != 4 {
		t.Errorf("deleted: got %d, want 4", queue.deleted)
	}
}
