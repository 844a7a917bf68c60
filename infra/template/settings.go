package template

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// FlushSettings are the template's settings for flush and its queue, which
// the local stack copies so that it polls and redrives the way AWS does.
type FlushSettings struct {
	Timeout           time.Duration // flush's function timeout
	BatchSize         int           // SQS event source BatchSize
	BatchingWindow    time.Duration // SQS event source MaximumBatchingWindowInSeconds
	MaxConcurrency    int           // SQS event source ScalingConfig.MaximumConcurrency
	VisibilityTimeout time.Duration // the queue's VisibilityTimeout
	MaxReceiveCount   int           // the queue's RedrivePolicy.maxReceiveCount
	MaxMessageBytes   int           // the queue's MaximumMessageSize
	Schedule          time.Duration // period of the drain schedule's rate expression
}

// FlushSettings reads flush's SQS event source, its queue and its schedule.
func (t *Template) FlushSettings() (FlushSettings, error) {
	fn, err := t.GetServerlessFunctionWithName("FlushFunction")
	if err != nil {
		return FlushSettings{}, fmt.Errorf("flush settings: %w", err)
	}
	settings := FlushSettings{Timeout: seconds(float64(valueOr(fn.Timeout, defaultFunctionTimeout)))}

	var source *sqsEventSource
	for _, s := range t.sqsEventSources() {
		if s.function == "FlushFunction" {
			source = &s
		}
	}
	if source == nil {
		return settings, fmt.Errorf("flush settings: FlushFunction has no SQS event source")
	}
	batchSize, _ := source.raw["BatchSize"].(float64)
	window, _ := source.raw["MaximumBatchingWindowInSeconds"].(float64)
	concurrency, _ := lookup(source.raw, "ScalingConfig", "MaximumConcurrency").(float64)
	settings.BatchSize, settings.BatchingWindow, settings.MaxConcurrency = int(batchSize), seconds(window), int(concurrency)

	queue, err := t.GetSQSQueueWithName(source.queue)
	if err != nil {
		return settings, fmt.Errorf("flush settings: %w", err)
	}
	receives, _ := lookup(queue.RedrivePolicy, "maxReceiveCount").(float64)
	settings.VisibilityTimeout = seconds(float64(valueOr(queue.VisibilityTimeout, defaultVisibilityTimeout)))
	settings.MaxReceiveCount = int(receives)
	settings.MaxMessageBytes = valueOr(queue.MaximumMessageSize, defaultMaxMessageBytes)

	for _, event := range fn.Events {
		if event.Type == "Schedule" && event.Properties.ScheduleEvent != nil {
			if settings.Schedule, err = parseRate(event.Properties.ScheduleEvent.Schedule); err != nil {
				return settings, fmt.Errorf("flush settings: %w", err)
			}
		}
	}
	return settings, nil
}

var rateExpression = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// parseRate converts an EventBridge rate expression such as "rate(5 minutes)" to its period.
func parseRate(expression string) (time.Duration, error) {
	match := rateExpression.FindStringSubmatch(expression)
	if match == nil {
		return 0, fmt.Errorf("schedule %q is not a rate expression such as \"rate(1 minute)\"", expression)
	}
	n, _ := strconv.Atoi(match[1])
	unit := map[string]time.Duration{
		"minute": time.Minute, "minutes": time.Minute,
		"hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour,
	}[match[2]]
	return time.Duration(n) * unit, nil
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}
