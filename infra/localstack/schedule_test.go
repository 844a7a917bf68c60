package localstack

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestScheduleFireSendsScheduledEvent(t *testing.T) {
	fn := &fakeFunction{output: []byte(`{}`)}
	s := &Schedule{Function: fn, RuleARN: "arn:aws:events:us-east-1:123456789012:rule/drain", Region: "us-east-1"}
	now := time.Date(2026, 12, 4, 15, 0, 0, 500, time.UTC)

	if err := s.Fire(context.Background(), now); err != nil {
		t.Fatalf("Fire: %v", err)
	}

	calls := fn.calls()
	if len(calls) != 1 {
		t.Fatalf("invocations: got %d, want 1", len(calls))
	}
	var raw map[string]any
	if err := json.Unmarshal(calls[0], &raw); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ field, want string }{
		{"detail-type", "Scheduled Event"},
		{"source", "aws.events"},
		{"region", "us-east-1"},
		{"time", "2026-12-04T15:00:00Z"},
	}
	for _, c := range checks {
		if got, _ := raw[c.field].(string); got != c.want {
			t.Errorf("%s: got %q, want %q", c.field, got, c.want)
		}
	}
	var event events.EventBridgeEvent
	if err := json.Unmarshal(calls[0], &event); err != nil {
		t.Fatal(err)
	}
	if len(event.Resources) != 1 || event.Resources[0] != s.RuleARN {
		t.Errorf("resources: got %v, want [%s]", event.Resources, s.RuleARN)
	}
	if string(event.Detail) != "{}" {
		t.Errorf("detail: got %s, want {}", event.Detail)
	}
}

func TestScheduleFireReportsFunctionError(t *testing.T) {
	fn := &fakeFunction{err: &FunctionError{Type: "x", Message: "y"}}
	s := &Schedule{Function: fn}

	if err := s.Fire(context.Background(), time.Now()); err == nil {
		t.Error("Fire: got no error, want the function's error")
	}
}
