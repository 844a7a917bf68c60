package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
)

// Kind is the action the trigger takes on a message once the engine is done with it.
type Kind int

const (
	// Settled means the event was delivered now or before: delete the message.
	Settled Kind = iota + 1

	// Retry means the message stays on the queue and becomes visible again
	// after Outcome.Visibility.
	Retry

	// DeadLettered means the engine copied the message to the dead-letter
	// queue with Outcome.Reason: delete the original.
	DeadLettered
)

func (k Kind) String() string {
	switch k {
	case Settled:
		return "settled"
	case Retry:
		return "retry"
	case DeadLettered:
		return "dead_lettered"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Reasons a message is dead-lettered, sent as its dead_letter_reason attribute.
const (
	ReasonMalformed     = "malformed"     // the body is not a journey event
	ReasonExpired       = "expired"       // older than Genesys accepts
	ReasonRejected      = "rejected"      // Genesys rejected the event for good
	ReasonMisconfigured = "misconfigured" // CUSTOM event with no external-events configuration
)

// Outcome is the engine's decision on one message.
type Outcome struct {
	MessageID  string
	Kind       Kind
	Visibility time.Duration // for Retry: how long the message stays hidden
	Reason     string        // for DeadLettered
	Detail     string        // for DeadLettered: status, code and an excerpt of the response
}

// Sender sends events to Genesys Cloud. *genesys.Client implements it.
type Sender interface {
	// Send posts one APP or WEB event.
	Send(ctx context.Context, event journey.Event) genesys.Result

	// SendExternal posts CUSTOM events in one request and returns one result
	// per event, in order.
	SendExternal(ctx context.Context, token string, events []journey.Event) []genesys.Result
}

// Claims is the idempotency store.
type Claims interface {
	Claim(ctx context.Context, key, owner string, until time.Time) (idempotency.Claim, error)
	MarkDelivered(ctx context.Context, key, owner string) error
	Release(ctx context.Context, key, owner string) error
}

// Breaker is the circuit breaker shared by every flush instance. Acquire
// returns a *breaker.OpenError while the breaker is open; otherwise the caller
// sends one request and reports whether Genesys was healthy through release.
type Breaker interface {
	Acquire(ctx context.Context) (release func(success bool), err error)
}

// Tokens provides the Genesys access token for external events.
type Tokens interface {
	Token(ctx context.Context) (string, error)

	// Refresh returns a token other than rejected, the token Genesys responded to with 401.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// Leases registers the flush instances that are delivering and counts them.
// *rateshare.Leases implements it.
type Leases interface {
	// Register writes the lease of instance id, live until until. Writing it
	// again replaces it.
	Register(ctx context.Context, id string, until time.Time) error

	// Release deletes the lease of instance id. Deleting a missing lease succeeds.
	Release(ctx context.Context, id string) error

	// Live returns the number of leases that are live now.
	Live(ctx context.Context) (int, error)
}

// DeadLetterer copies a message to the dead-letter queue with its reason.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, msg queue.Message, reason, detail string) error
}

// Metrics receives the engine's counters and samples. *telemetry.Recorder implements it.
type Metrics interface {
	Add(name string, n float64)
	Observe(name string, value float64, unit string)
}

// Metric names.
const (
	MetricDelivered          = "delivered"
	MetricDuplicatesSkipped  = "duplicates_skipped"
	MetricRetried            = "retried" // in-process resends plus messages returned to the queue
	MetricThrottled          = "throttled"
	MetricBreakerOpen        = "breaker_open"   // transitions to open this instance saw
	MetricBreakerClose       = "breaker_close"  // transitions to closed this instance saw
	MetricDeadLetteredPrefix = "dead_lettered_" // followed by the reason
	MetricPossibleDuplicates = "possible_duplicates"
	MetricMisconfigured      = "misconfigured"
	MetricDeliveryLag        = "delivery_lag"        // milliseconds from received_at to delivery
	MetricRateShareFallback  = "rate_share_fallback" // lease writes or counts that failed, so the safe share applied
)

type discardMetrics struct{}

func (discardMetrics) Add(string, float64)             {}
func (discardMetrics) Observe(string, float64, string) {}
