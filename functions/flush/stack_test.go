package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/telemetry"
)

const (
	testDeployment = "dep-1"
	testCookie     = "0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11"
)

// stack is the flush function's real surroundings: kumo for SQS and DynamoDB
// and the Genesys simulator, all on 127.0.0.1.
type stack struct {
	emu      *awslocal.Emulator
	res      awslocal.Resources
	sqs      *sqs.Client
	db       *dynamodb.Client
	consumer *queue.Consumer
	sim      *genesyssim.Server
	simURL   string
	metrics  *telemetry.Recorder
}

func startStack(tb testing.TB, simCfg genesyssim.Config) *stack {
	tb.Helper()
	emu, res := awslocal.StartT(tb)
	if simCfg.Deployments == nil {
		simCfg.Deployments = []string{testDeployment}
	}
	sim, url := genesyssim.Start(tb, simCfg)
	client := sqs.NewFromConfig(emu.Config)
	return &stack{
		emu:      emu,
		res:      res,
		sqs:      client,
		db:       dynamodb.NewFromConfig(emu.Config),
		consumer: queue.NewConsumer(client, res.QueueURL, res.DeadLetterQueueURL),
		sim:      sim,
		simURL:   url,
		metrics:  telemetry.NewRecorder(io.Discard, "flush"),
	}
}

// handler returns the flush handler wired as main wires it, with cfg and brk
// in place of the production settings.
func (s *stack) handler(cfg delivery.Config, brk breaker.Config) handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Metrics, cfg.Logger = s.metrics, log
	brk.OnStateChange = countTransitions(s.metrics)
	engine := delivery.New(delivery.Deps{
		Sender:      genesys.NewClient(genesys.Config{APIBaseURL: s.simURL, DeploymentID: testDeployment}),
		Claims:      idempotency.NewStore(s.db, s.res.Table, idempotency.Options{}),
		Breaker:     breaker.New(s.db, s.res.Table, brk),
		DeadLetters: s.consumer,
	}, cfg)
	return handler{engine: engine, queue: s.consumer, metrics: s.metrics, log: log}
}

// enqueue sends each event to the queue as ingest does.
func (s *stack) enqueue(tb testing.TB, events ...journey.Event) {
	tb.Helper()
	for start := 0; start < len(events); start += queue.MaxBatchEntries {
		var entries []types.SendMessageBatchRequestEntry
		for i, e := range events[start:min(start+queue.MaxBatchEntries, len(events))] {
			body, err := json.Marshal(e)
			if err != nil {
				tb.Fatalf("encode event: %v", err)
			}
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id:          aws.String(strconv.Itoa(i)),
				MessageBody: aws.String(string(body)),
				MessageAttributes: map[string]types.MessageAttributeValue{
					"event_type":      stringValue(e.Type),
					"idempotency_key": stringValue(e.IdempotencyKey),
					"received_at":     stringValue(e.ReceivedAt),
				},
			})
		}
		out, err := s.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(s.res.QueueURL),
			Entries:  entries,
		})
		if err != nil || len(out.Failed) > 0 {
			tb.Fatalf("enqueue events: %v, failed entries %+v", err, out)
		}
	}
}

func stringValue(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// queueDepth returns the messages visible or in flight on url.
func (s *stack) queueDepth(tb testing.TB, url string) int {
	tb.Helper()
	out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		tb.Fatalf("read queue depth: %v", err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, _ := strconv.Atoi(v)
		total += n
	}
	return total
}

// drainUntilEmpty runs scheduled invocations, each with timeout, until the
// queue holds no message, the way the schedule would over several minutes.
func (s *stack) drainUntilEmpty(tb testing.TB, h handler, timeout, limit time.Duration) {
	tb.Helper()
	payload := []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	stop := time.Now().Add(limit)
	for s.queueDepth(tb, s.res.QueueURL) > 0 {
		if time.Now().After(stop) {
			tb.Fatalf("queue still holds %d messages after %v", s.queueDepth(tb, s.res.QueueURL), limit)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_, err := h.Handle(ctx, payload)
		cancel()
		if err != nil {
			tb.Fatalf("drain: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deadLetters receives every message on the dead-letter queue.
func (s *stack) deadLetters(tb testing.TB) []queue.Message {
	tb.Helper()
	dlq := queue.NewConsumer(s.sqs, s.res.DeadLetterQueueURL, "")
	var all []queue.Message
	for {
		msgs, err := dlq.Receive(context.Background(), time.Second)
		if err != nil {
			tb.Fatalf("receive dead letters: %v", err)
		}
		if len(msgs) == 0 {
			return all
		}
		all = append(all, msgs...)
	}
}

// appEvent returns a valid APP event named for n, created age ago.
func appEvent(n int, age time.Duration) journey.Event {
	now := time.Now().UTC()
	return journey.Event{
		Type:             journey.TypeApp,
		Name:             fmt.Sprintf("event_%04d", n),
		Timestamp:        now.Add(-age).Format(journey.TimeLayout),
		ReceivedAt:       now.Add(-age).Format(journey.TimeLayout),
		UserID:           "user-1",
		SessionID:        "session-1",
		IdempotencyKey:   fmt.Sprintf("key-%04d", n),
		CustomerCookieID: testCookie,
		ScreenName:       "Home",
		App:              &journey.App{Name: "Shop", Namespace: "com.example.shop", Version: "5.2.0", BuildNumber: "5200"},
		Device:           &journey.Device{Category: "mobile", Type: "iPhone", OSFamily: "iOS", OSVersion: "18.1"},
	}
}

func appEvents(n int) []journey.Event {
	out := make([]journey.Event, n)
	for i := range out {
		out[i] = appEvent(i, 30*time.Second)
	}
	return out
}

// acceptedByName counts the simulator's acceptances per event name.
func (s *stack) acceptedByName() map[string]int {
	out := map[string]int{}
	for _, e := range s.sim.Events() {
		out[e.EventName]++
	}
	return out
}
