package load

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name        string
		target      string
		contentType string
		body        string
		want        APICall
	}{
		{"dynamodb json", "DynamoDB_20120810.UpdateItem", "application/x-amz-json-1.0", "{}", APICall{"DynamoDB", "UpdateItem"}},
		{"sqs json", "AmazonSQS.SendMessageBatch", "application/x-amz-json-1.0", "{}", APICall{"SQS", "SendMessageBatch"}},
		{"secrets manager", "secretsmanager.GetSecretValue", "application/x-amz-json-1.1", "{}", APICall{"SecretsManager", "GetSecretValue"}},
		{"sqs query", "", "application/x-www-form-urlencoded; charset=utf-8", "Action=ReceiveMessage&Version=2012-11-05", APICall{"SQS", "ReceiveMessage"}},
		{"other json api", "Logs_20140328.PutLogEvents", "application/x-amz-json-1.1", "{}", APICall{"Logs_20140328", "PutLogEvents"}},
		{"unreadable", "", "text/plain", "hello", APICall{"unknown", "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.target, tt.contentType, []byte(tt.body)); got != tt.want {
				t.Errorf("classify: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCapacityUnits(t *testing.T) {
	tests := []struct {
		name              string
		operation, body   string
		wantWrite, wantRd float64
	}{
		{"small update", "UpdateItem", `{"TableName":"t"}`, 1, 0},
		{"put of 1.5 KB", "PutItem", `{"Item":"` + strings.Repeat("x", 1500) + `"}`, 2, 0},
		{"consistent get", "GetItem", `{"ConsistentRead":true}`, 0, 1},
		{"eventual get", "GetItem", `{}`, 0, 0.5},
		{"transaction of two", "TransactWriteItems", `{"TransactItems":[{},{}]}`, 4, 0},
		{"describe", "DescribeTable", `{}`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write, read := capacityUnits(tt.operation, []byte(tt.body))
			if write != tt.wantWrite {
				t.Errorf("write units: got %v, want %v", write, tt.wantWrite)
			}
			if read != tt.wantRd {
				t.Errorf("read units: got %v, want %v", read, tt.wantRd)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "3", 3 * time.Second},
		{"http date", "Fri, 04 Dec 2026 15:00:07 GMT", 7 * time.Second},
		{"date in the past", "Fri, 04 Dec 2026 14:59:00 GMT", 0},
		{"missing", "", time.Second},
		{"garbage", "soon", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q): got %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestInvocationLogReport(t *testing.T) {
	var log InvocationLog
	log.Count(true)
	lines := "START RequestId: a Version: $LATEST\nEND RequestId: a\n" +
		"REPORT RequestId: a\tInit Duration: 12.50 ms\tDuration: 29.99 ms\tBilled Duration: 30 ms\n" +
		"REPORT RequestId: b\tDuration: 0.98"
	_, _ = log.Write([]byte(lines))
	_, _ = log.Write([]byte(" ms\tBilled Duration: 1 ms\n"))

	stats := log.Stats()
	if stats.Invocations != 2 {
		t.Errorf("invocations: got %d, want 2", stats.Invocations)
	}
	if want := 30970 * time.Microsecond; stats.Duration != want {
		t.Errorf("duration: got %v, want %v", stats.Duration, want)
	}
	if len(stats.Inits) != 1 || stats.Inits[0] != 12500*time.Microsecond {
		t.Errorf("inits: got %v, want [12.5ms]", stats.Inits)
	}
	if want := int64(len(lines) + len(" ms\tBilled Duration: 1 ms\n")); stats.LogBytes != want {
		t.Errorf("log bytes: got %d, want %d", stats.LogBytes, want)
	}
}

func TestBacklogThroughput(t *testing.T) {
	start := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	samples := []sample{
		{at: at(0), visible: 500}, {at: at(1), visible: 400}, {at: at(2), visible: 300},
		{at: at(3), visible: 10}, {at: at(4), visible: 0},
	}
	var receipts []receipt
	for i := range 190 { // 95 per second in the first two seconds
		receipts = append(receipts, receipt{at: at(float64(i) / 95), endpoint: "appevents"})
	}
	receipts = append(receipts, receipt{at: at(0.5), endpoint: "externalevents"}, receipt{at: at(3.5), endpoint: "appevents"})

	seconds, rate := backlogThroughput(samples, receipts, 100)
	if seconds != 2 {
		t.Errorf("backlog seconds: got %v, want 2", seconds)
	}
	if rate != 95 {
		t.Errorf("throughput: got %v, want 95", rate)
	}
}

func TestCostPerMillion(t *testing.T) {
	calls := CallCounts{Calls: map[APICall]int64{{"SQS", "SendMessageBatch"}: 100, {"SQS", "ReceiveMessage"}: 100}, WriteUnits: 2000}
	functions := []FunctionUsage{{Name: "flush", MemoryMB: 512, InvocationStats: InvocationStats{Invocations: 100, Duration: 200 * time.Second}}}
	lines := Cost(ListPrices, 1000, calls, functions, 20)

	want := map[string]float64{
		"API Gateway HTTP API": 0.02, // 20,000 requests per million events at $1 per million
		"SQS":                  0.08,
		"DynamoDB writes":      1.25,
		"Lambda flush compute": 100 * 1000 * ListPrices.LambdaPerGBSecond, // 100 GB-s per 1,000 events
		"Lambda requests":      0.02,
	}
	for _, line := range lines {
		if w, ok := want[line.Item]; ok && !near(line.DollarsPerMillionEvents, w) {
			t.Errorf("%s: got $%v per million events, want $%v", line.Item, line.DollarsPerMillionEvents, w)
		}
	}
}

func near(a, b float64) bool {
	return a-b < 1e-9 && b-a < 1e-9
}

func TestNextBatchShape(t *testing.T) {
	device := NewDevice(3, 1)
	batch := device.NextBatch(50, time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
	var envelope struct {
		Events []struct {
			Timestamp  string         `json:"timestamp"`
			Properties map[string]any `json:"properties"`
		} `json:"events"`
	}
	if err := json.Unmarshal(batch.Body, &envelope); err != nil {
		t.Fatalf("decode batch: %v", err)
	}
	if len(envelope.Events) != 50 {
		t.Fatalf("events: got %d, want 50", len(envelope.Events))
	}
	seen := map[any]bool{}
	for i, ev := range envelope.Events {
		id := ev.Properties[LoadIDProperty]
		if id != batch.Events[i].LoadID {
			t.Errorf("event %d: load id %v, want %s", i, id, batch.Events[i].LoadID)
		}
		if seen[id] {
			t.Errorf("event %d: load id %v repeats", i, id)
		}
		seen[id] = true
	}
	if last := envelope.Events[49].Timestamp; last != "2026-12-04T14:59:59.999Z" {
		t.Errorf("last timestamp: got %s, want 2026-12-04T14:59:59.999Z", last)
	}
}

func TestNaiveHonoursRateLimit(t *testing.T) {
	sim := genesyssim.New(genesyssim.Config{Seed: 1, Deployments: []string{"d"}, DeploymentEventsPerSecond: 20})
	server := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); server.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	naive := &Naive{BaseURL: server.URL, DeploymentID: "d", Client: server.Client()}
	naive.Start(ctx)
	for n := range 5 {
		naive.Enqueue(NewDevice(n, 1).NextBatch(10, time.Now()), n == 0)
	}
	for ctx.Err() == nil && sim.Stats().EventsAccepted < 60 {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	naive.Wait()

	stats := sim.Stats()
	if stats.EventsAccepted != 60 {
		t.Errorf("accepted: got %d, want 60 (50 events plus one batch of 10 resent)", stats.EventsAccepted)
	}
	if stats.Duplicates != 10 {
		t.Errorf("duplicates: got %d, want 10", stats.Duplicates)
	}
	if got := naive.RateLimited.Load(); got == 0 || got != stats.RateLimited {
		t.Errorf("429s: client counted %d, simulator sent %d; want the same, above 0", got, stats.RateLimited)
	}
}

func TestReceiptTrackerUnsettled(t *testing.T) {
	var tracker ReceiptTracker
	receive := APICall{"SQS", "ReceiveMessage"}
	tracker.observe(receive, "poller", []byte(`{}`),
		[]byte(`{"Messages":[{"MessageId":"m1","ReceiptHandle":"r1"},{"MessageId":"m2","ReceiptHandle":"r2"}]}`))
	tracker.observe(receive, "drain", []byte(`{}`), []byte(`{"Messages":[{"MessageId":"m3","ReceiptHandle":"r3"}]}`))
	tracker.observe(APICall{"SQS", "DeleteMessageBatch"}, "poller", []byte(`{"Entries":[{"Id":"0","ReceiptHandle":"r1"}]}`), nil)
	tracker.observe(APICall{"SQS", "ChangeMessageVisibilityBatch"}, "drain", []byte(`{"Entries":[{"Id":"0","ReceiptHandle":"r3"}]}`), nil)

	unsettled := tracker.Unsettled()
	if len(unsettled) != 1 {
		t.Fatalf("unsettled: got %d receipts %v, want 1", len(unsettled), unsettled)
	}
	if !strings.Contains(unsettled[0], "message m2, received in a batch of 2 by \"poller\"") {
		t.Errorf("unsettled: got %q, want message m2 from the poller's batch of 2", unsettled[0])
	}
}
