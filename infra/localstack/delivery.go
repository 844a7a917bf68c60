package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/journeyrelay/relay/infra/genesyssim"
)

// ErrDeliveryInProgress is the error AwaitDelivery wraps when its context
// ends before delivery is complete.
var ErrDeliveryInProgress = errors.New("delivery still in progress")

// AwaitDelivery waits until the queue is empty and, with the simulator,
// every accepted event has arrived there, or until ctx ends. It then fills
// in the report's delivery figures. When ctx ends first, the report shows
// what was delivered so far, and the error wraps ErrDeliveryInProgress.
func (s *Stack) AwaitDelivery(ctx context.Context, report *Report) error {
	complete, err := s.awaitEmptyQueue(ctx, report)
	if err != nil {
		return err
	}
	report.InProgress = !complete

	// The wait may be over, so the dead-letter queue gets a context of its own.
	dlqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	deadLettered, err := s.queueDepth(dlqCtx, s.Resources.DeadLetterQueueURL)
	if err != nil {
		return err
	}
	report.DeadLettered = deadLettered

	if !complete {
		return fmt.Errorf("%w: %d accepted events not delivered yet", ErrDeliveryInProgress, len(report.Undelivered))
	}
	return nil
}

// awaitEmptyQueue polls the queue's depth and the simulator until both show
// delivery complete, and reports false when ctx ends first.
func (s *Stack) awaitEmptyQueue(ctx context.Context, report *Report) (bool, error) {
	for {
		pending, err := s.queueDepth(ctx, s.Resources.QueueURL)
		if err != nil && ctx.Err() != nil {
			// The wait ended during the call, which is not a failure of the queue.
			s.fillDelivery(report)
			return false, nil
		}
		if err != nil {
			return false, err
		}

		s.fillDelivery(report)
		if pending == 0 && len(report.Undelivered) == 0 {
			return true, nil
		}
		if ctx.Err() != nil {
			return false, nil
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

// queueDepth returns the number of messages in a queue, visible or in flight.
func (s *Stack) queueDepth(ctx context.Context, url string) (int, error) {
	out, err := sqs.NewFromConfig(s.Emulator.Config).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("read the depth of %s: %w", url, err)
	}
	depth := 0
	for _, value := range out.Attributes {
		n, _ := strconv.Atoi(value)
		depth += n
	}
	return depth, nil
}

// fillDelivery matches the accepted events with what the simulator
// received, by event name and createdDate.
func (s *Stack) fillDelivery(report *Report) {
	report.mu.Lock()
	defer report.mu.Unlock()
	if s.Simulator == nil {
		report.Delivered = -1
		return
	}

	received := map[string][]time.Time{}
	for _, event := range s.Simulator.Events() {
		key := receivedKey(event)
		received[key] = append(received[key], event.ReceivedAt)
	}

	var lags []time.Duration
	report.Delivered, report.Undelivered = 0, nil
	for _, event := range report.accepted {
		key := event.name + " at " + event.timestamp
		times := received[key]
		if len(times) == 0 {
			report.Undelivered = append(report.Undelivered, key)
			continue
		}
		report.Delivered++
		lags = append(lags, times[0].Sub(event.sentAt))
		received[key] = times[1:]
	}
	sort.Strings(report.Undelivered)

	// The simulator counts a body it accepted twice. An event sent twice with
	// different bodies shows up as a second arrival under the same key.
	extra := 0
	for _, event := range report.accepted {
		extra += len(received[event.name+" at "+event.timestamp])
		delete(received, event.name+" at "+event.timestamp)
	}
	report.DeliveredTwice = max(int(s.Simulator.Stats().Duplicates), extra)
	report.LagP50, report.LagP99 = percentile(lags, 50), percentile(lags, 99)
}

// receivedKey returns "name at createdDate" of an event the simulator
// received: eventName and createdDate of an app or web event, or the
// eventName attribute and dateCreated of an external event.
func receivedKey(event genesyssim.ReceivedEvent) string {
	var body struct {
		EventName   string `json:"eventName"`
		CreatedDate string `json:"createdDate"`
		DateCreated string `json:"dateCreated"`
		Attributes  struct {
			EventName struct {
				Value string `json:"value"`
			} `json:"eventName"`
		} `json:"attributes"`
	}
	_ = json.Unmarshal(event.Body, &body)
	if event.Endpoint == genesyssim.EndpointExternalEvents {
		return body.Attributes.EventName.Value + " at " + body.DateCreated
	}
	return body.EventName + " at " + body.CreatedDate
}

func percentile(values []time.Duration, p int) time.Duration {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)*p/100]
}

// Verify returns an error unless every distinct accepted event was delivered
// exactly once and nothing reached the dead-letter queue. Without the
// simulator it checks only the dead-letter queue.
func (report *Report) Verify() error {
	var errs []error
	if n := len(report.Undelivered); n > 0 {
		errs = append(errs, fmt.Errorf("%d accepted events were not delivered: %s", n, strings.Join(report.Undelivered, "; ")))
	}
	if report.DeliveredTwice > 0 {
		errs = append(errs, fmt.Errorf("%d events were delivered more than once", report.DeliveredTwice))
	}
	if report.DeadLettered > 0 {
		errs = append(errs, fmt.Errorf("%d messages are in the dead-letter queue", report.DeadLettered))
	}
	return errors.Join(errs...)
}

// Print writes the report as a short summary.
func (report *Report) Print(w io.Writer) {
	var reasons []string
	for _, code := range slices.Sorted(maps.Keys(report.Rejected)) {
		reasons = append(reasons, fmt.Sprintf("%s %d", code, report.Rejected[code]))
	}
	rejected := 0
	for _, n := range report.Rejected {
		rejected += n
	}

	fmt.Fprintf(w, "sent                  %d events in %d requests\n", report.Sent, report.Requests)
	fmt.Fprintf(w, "accepted              %d (%d distinct)\n", report.Accepted, report.DistinctAccepted())
	fmt.Fprintf(w, "rejected              %d (%s)\n", rejected, strings.Join(reasons, ", "))
	fmt.Fprintf(w, "retryable             %d\n", report.Retryable)
	inProgress := ""
	if report.InProgress {
		inProgress = " so far; delivery is still in progress"
	}
	if report.Delivered >= 0 {
		fmt.Fprintf(w, "delivered             %d, %d of them more than once%s\n",
			report.Delivered, report.DeliveredTwice, inProgress)
	} else {
		fmt.Fprintf(w, "delivered             unknown (real Genesys Cloud)%s\n", inProgress)
	}
	fmt.Fprintf(w, "duplicates suppressed %d\n", report.DuplicatesSuppressed)
	fmt.Fprintf(w, "skew-corrected        %d\n", report.SkewCorrected)
	fmt.Fprintf(w, "dead-lettered         %d\n", report.DeadLettered)
	fmt.Fprintf(w, "delivery lag          p50 %v, p99 %v\n", report.LagP50.Round(time.Millisecond), report.LagP99.Round(time.Millisecond))
}
