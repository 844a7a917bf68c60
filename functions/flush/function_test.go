package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/lambdarun"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
)

const (
	testConfiguration = "cfg-1"
	testClientID      = "flush-client"
	testClientSecret  = "flush-client-secret"
)

// startFunctions runs the token and flush bootstraps under the runtime
// interface emulator. Flush reaches the token function through the Lambda
// Invoke API: the emulator serves the same path for a function named
// "function", so the Lambda endpoint of flush points at it.
func startFunctions(t *testing.T, s *stack) *lambdarun.Function {
	t.Helper()
	err := awslocal.PutSecret(context.Background(), s.emu.Config, s.res.GenesysSecret, map[string]string{
		"client_id": testClientID, "client_secret": testClientSecret, "login_base_url": s.simURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	tokenFn := lambdarun.StartT(t, "token",
		append(s.emu.EndpointEnv(), "GENESYS_SECRET_ID="+s.res.GenesysSecret)...)
	lambdaEndpoint := strings.TrimSuffix(tokenFn.URL, "/2015-03-31/functions/function/invocations")

	return lambdarun.StartT(t, "flush", append(s.emu.EndpointEnv(),
		"AWS_ENDPOINT_URL_LAMBDA="+lambdaEndpoint,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"QUEUE_URL="+s.res.QueueURL,
		"DEAD_LETTER_QUEUE_URL="+s.res.DeadLetterQueueURL,
		"TABLE_NAME="+s.res.Table,
		"TOKEN_FUNCTION_NAME=function",
		"GENESYS_API_BASE_URL="+s.simURL,
		"GENESYS_DEPLOYMENT_ID="+testDeployment,
		"GENESYS_EXTERNAL_CONFIGURATION_ID="+testConfiguration,
		"GENESYS_EXTERNAL_SOURCE_ID=relay-users",
	)...)
}

// fixtureEvent returns the fixture's body with its times moved to now, so
// that Genesys's one-hour rule accepts it.
func fixtureEvent(t *testing.T, body string) journey.Event {
	t.Helper()
	var e journey.Event
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode fixture body: %v", err)
	}
	now := time.Now().UTC()
	e.Timestamp = now.Add(-10 * time.Second).Format(journey.TimeLayout)
	e.ReceivedAt = now.Add(-5 * time.Second).Format(journey.TimeLayout)
	return e
}

func TestFlushBootstrapUnderEmulator(t *testing.T) {
	s := startStack(t, genesyssim.Config{
		Seed:                   1,
		ExternalConfigurations: []string{testConfiguration},
		Clients: []genesyssim.Client{{ID: testClientID, Secret: testClientSecret,
			Permissions: []string{genesyssim.PermissionExternalEventsAdd}}},
	})
	fn := startFunctions(t, s)

	t.Run("SQS batch", func(t *testing.T) {
		var ev events.SQSEvent
		if err := json.Unmarshal(readFixture(t, "sqs-batch.json"), &ev); err != nil {
			t.Fatalf("decode fixture: %v", err)
		}
		// The records get real receipt handles, as the event source would pass them.
		for _, rec := range ev.Records {
			s.enqueue(t, fixtureEvent(t, rec.Body))
		}
		received := s.receive(t, len(ev.Records))
		for i := range ev.Records {
			body, _ := json.Marshal(fixtureEvent(t, ev.Records[i].Body))
			ev.Records[i].Body = string(body)
			ev.Records[i].MessageId = received[i].ID
			ev.Records[i].ReceiptHandle = received[i].ReceiptHandle
		}
		payload, _ := json.Marshal(ev)

		out, err := fn.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("invoke: %v\n%s", err, fn.Logs())
		}

		var resp events.SQSEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("decode response %s: %v", out, err)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("batch item failures: got %+v, want none\n%s", resp.BatchItemFailures, fn.Logs())
		}
		// The event source mapping deletes the messages not named as failures.
		if failed, err := s.consumer.Delete(context.Background(), received); err != nil || len(failed) > 0 {
			t.Fatalf("delete: %v, failed entries %+v", err, failed)
		}
		if issued := s.sim.Stats().TokensIssued; issued != 1 {
			t.Errorf("tokens issued: got %d, want 1 (fetched by the token function)", issued)
		}
		byEndpoint := s.sim.Stats().EventsAcceptedByEndpoint
		for _, endpoint := range []string{genesyssim.EndpointAppEvents, genesyssim.EndpointWebEvents, genesyssim.EndpointExternalEvents} {
			if byEndpoint[endpoint] != 1 {
				t.Errorf("%s accepted: got %d, want 1", endpoint, byEndpoint[endpoint])
			}
		}
	})

	t.Run("schedule", func(t *testing.T) {
		before := s.sim.Stats().EventsAccepted
		fresh := appEvents(4)
		s.enqueue(t, fresh...)
		var first events.SQSEvent
		_ = json.Unmarshal(readFixture(t, "sqs-batch.json"), &first)
		s.enqueue(t, fixtureEvent(t, first.Records[0].Body)) // already delivered above

		out, err := fn.Invoke(context.Background(), readFixture(t, "schedule.json"))
		if err != nil {
			t.Fatalf("invoke: %v\n%s", err, fn.Logs())
		}

		var got DrainResult
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("decode response %s: %v", out, err)
		}
		want := DrainResult{Received: 5, Settled: 5}
		if got != want {
			t.Errorf("drain result: got %+v, want %+v\n%s", got, want, fn.Logs())
		}
		if accepted := s.sim.Stats().EventsAccepted - before; accepted != 4 {
			t.Errorf("events accepted: got %d, want 4", accepted)
		}
		if depth := s.queueDepth(t, s.res.QueueURL); depth != 0 {
			t.Errorf("queue depth: got %d, want 0", depth)
		}
		if !strings.Contains(fn.Logs(), `"_aws"`) {
			t.Errorf("logs hold no EMF metrics line")
		}
	})
}

// receive takes n messages off the queue.
func (s *stack) receive(t *testing.T, n int) []queue.Message {
	t.Helper()
	var msgs []queue.Message
	for len(msgs) < n {
		batch, err := s.consumer.Receive(context.Background(), time.Second)
		if err != nil || len(batch) == 0 {
			t.Fatalf("receive: got %d of %d messages, error %v", len(msgs), n, err)
		}
		msgs = append(msgs, batch...)
	}
	return msgs
}
