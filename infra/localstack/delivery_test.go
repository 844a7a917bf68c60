package localstack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/journeyrelay/relay/infra/awslocal"
)

func TestReportVerify(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
		want   string
	}{
		{"all delivered once", &Report{Delivered: 3}, ""},
		{"undelivered event", &Report{Undelivered: []string{"app_opened at 2026-12-04T15:00:00.000Z"}}, "1 accepted events were not delivered"},
		{"delivered twice", &Report{DeliveredTwice: 2}, "2 events were delivered more than once"},
		{"dead-lettered", &Report{DeadLettered: 1}, "1 messages are in the dead-letter queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.report.Verify()
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var values []time.Duration
	for i := 100; i >= 1; i-- {
		values = append(values, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    int
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(values, tt.p); got != tt.want {
			t.Errorf("p%d: got %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of no values: got %v, want 0", got)
	}
}

func TestReportRecordCountsResponses(t *testing.T) {
	report := &Report{Rejected: map[string]int{}, accepted: map[string]acceptedEvent{}}
	names := []string{"a", "b", "c"}
	resp := ingestResponse{
		Accepted: []acceptedItem{{Index: 0, IdempotencyKey: "k0", Timestamp: "t0", OriginalTimestamp: "t0-skewed"}},
		Rejected: []violation{{Index: 1, Code: "too_old"}, {Index: 1, Code: "missing_field"}, {Index: 2, Code: "too_old"}},
	}

	report.record(names, resp, time.Now())
	report.record(names, resp, time.Now())
	report.record([]string{"d"}, ingestResponse{Code: "unauthorized"}, time.Now())

	checks := []struct {
		name      string
		got, want int
	}{
		{"requests", report.Requests, 3},
		{"sent", report.Sent, 7},
		{"accepted", report.Accepted, 2},
		{"distinct accepted", report.DistinctAccepted(), 1},
		{"duplicates suppressed", report.DuplicatesSuppressed, 1},
		{"skew-corrected", report.SkewCorrected, 2},
		{"rejected too_old", report.Rejected["too_old"], 4},
		{"rejected missing_field", report.Rejected["missing_field"], 0},
		{"rejected unauthorized", report.Rejected["unauthorized"], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}

// A wait that ends while messages are still queued is not a failure of the
// queue: AwaitDelivery returns ErrDeliveryInProgress with the figures so far.
func TestAwaitDeliveryEndsInProgress(t *testing.T) {
	emu, resources := awslocal.StartT(t)
	stack := &Stack{Emulator: emu, Resources: resources}
	_, err := sqs.NewFromConfig(emu.Config).SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(resources.QueueURL), MessageBody: aws.String(`{"event_name":"app_opened"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	report := &Report{}

	err = stack.AwaitDelivery(ctx, report)

	if !errors.Is(err, ErrDeliveryInProgress) {
		t.Errorf("error: got %v, want ErrDeliveryInProgress", err)
	}
	if !report.InProgress {
		t.Error("InProgress: got false, want true")
	}
	if report.Delivered != -1 {
		t.Errorf("Delivered: got %d, want -1 without the simulator", report.Delivered)
	}
	var summary strings.Builder
	report.Print(&summary)
	if !strings.Contains(summary.String(), "delivery is still in progress") {
		t.Errorf("summary: got %q, want it to say that delivery is still in progress", summary.String())
	}
}

func TestAwaitDeliveryEmptyQueue(t *testing.T) {
	emu, resources := awslocal.StartT(t)
	stack := &Stack{Emulator: emu, Resources: resources}
	report := &Report{}

	if err := stack.AwaitDelivery(context.Background(), report); err != nil {
		t.Errorf("error: got %v, want nil", err)
	}
	if report.InProgress {
		t.Error("InProgress: got true, want false")
	}
}
