package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// Schedule invokes a function with the event an EventBridge schedule rule
// sends ("Scheduled Event" from aws.events) once every Period.
//
// NOTE: EventBridge invokes asynchronously, so a run slower than Period
// overlaps the next one in AWS. Schedule waits for each run to end first.
type Schedule struct {
	Function Invoker
	Period   time.Duration
	RuleARN  string
	Region   string
	Logger   *slog.Logger
}

// Run invokes the function every Period until ctx ends.
func (s *Schedule) Run(ctx context.Context) {
	ticker := time.NewTicker(s.Period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			if err := s.Fire(ctx, now); err != nil && ctx.Err() == nil {
				s.logger().Error("scheduled invocation failed", "rule", s.RuleARN, "error", err)
			}
		}
	}
}

// Fire invokes the function once with the scheduled event for now.
func (s *Schedule) Fire(ctx context.Context, now time.Time) error {
	payload, err := json.Marshal(ScheduledEvent(s.RuleARN, s.Region, now))
	if err != nil {
		return fmt.Errorf("fire schedule: %w", err)
	}
	if _, err := s.Function.Invoke(ctx, payload); err != nil {
		return fmt.Errorf("fire schedule: %w", err)
	}
	return nil
}

// ScheduledEvent returns the event an EventBridge schedule rule sends at now.
func ScheduledEvent(ruleARN, region string, now time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  "123456789012",
		Time:       now.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{ruleARN},
		Detail:     json.RawMessage("{}"),
	}
}

func (s *Schedule) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
