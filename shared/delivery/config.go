package delivery

import (
	"context"
	"log/slog"
	"time"
)

// Defaults that New applies to zero fields of Config.
const (
	DefaultEventsPerSecond      = 100
	DefaultRequestsPerMinute    = 300
	DefaultInstances            = 3
	DefaultConcurrency          = 16
	DefaultExternalBatchSize    = 50
	DefaultMaxEventAge          = time.Hour
	DefaultMaxRetryAfter        = 15 * time.Minute
	DefaultWaitMargin           = 5 * time.Second
	DefaultMaxAttempts          = 5
	DefaultRetryBase            = 30 * time.Second
	DefaultRetryMax             = 15 * time.Minute
	DefaultAttemptBase          = 200 * time.Millisecond
	DefaultAttemptMax           = 5 * time.Second
	DefaultClaimTTL             = 5 * time.Minute
	DefaultShareRefresh         = 2 * time.Second
	minHeldVisibility           = time.Second
	maxDetailExcerpt            = 300
	bookkeepingTimeout          = 3 * time.Second
	defaultDeadLetterRetryDelay = 10 * time.Second
)

// Config sets up an Engine. Zero fields take the defaults above.
type Config struct {
	// EventsPerSecond is the budget of APP and WEB events across all flush
	// instances (GENESYS_EVENTS_PER_SECOND). Each delivering invocation takes
	// an equal share, see Deps.Leases.
	EventsPerSecond float64

	// RequestsPerMinute is the budget of external-events requests per access
	// token across all instances (GENESYS_REQUESTS_PER_MINUTE).
	RequestsPerMinute float64

	// Instances is how many flush instances can run at once
	// (FLUSH_MAX_INSTANCES). A share is never below budget / Instances.
	Instances int

	// ShareRefresh is how often a delivering invocation counts the live
	// rate-share leases again.
	ShareRefresh time.Duration

	// Concurrency caps the APP and WEB requests in flight in one instance.
	Concurrency int

	// ExternalBatchSize caps the entities of one external-events request.
	// NOTE: Genesys publishes no maximum; 50 stays below the simulator's 100.
	ExternalBatchSize int

	// ExternalEnabled is false when no external-events configuration is set:
	// CUSTOM events are then dead-lettered as misconfigured.
	ExternalEnabled bool

	// MaxEventAge is the oldest timestamp Genesys accepts, one hour.
	MaxEventAge time.Duration

	// MaxRetryAfter caps the Retry-After delay the engine honours.
	MaxRetryAfter time.Duration

	// WaitMargin is how long before the invocation's deadline an in-process
	// wait must end. A longer wait returns the message to the queue instead.
	WaitMargin time.Duration

	// MaxAttempts caps the requests for one event in one invocation.
	MaxAttempts int

	// RetryBase and RetryMax bound the visibility delay of a message returned
	// to the queue without a Retry-After. The delay is RetryBase doubled for
	// each earlier receive, capped at RetryMax.
	RetryBase, RetryMax time.Duration

	// AttemptBase and AttemptMax bound the in-process backoff between attempts.
	AttemptBase, AttemptMax time.Duration

	// ClaimTTL is how long a claim lasts when the context has no deadline.
	ClaimTTL time.Duration

	// Now is the clock, time.Now when nil.
	Now func() time.Time

	// Sleep waits for d or until ctx ends. A real timer when nil.
	Sleep func(ctx context.Context, d time.Duration) error

	// Logger receives one line per decision other than a plain delivery.
	Logger *slog.Logger

	// Metrics receives the counters, which are discarded when it is nil.
	Metrics Metrics
}

func (c Config) withDefaults() Config {
	setDefault(&c.EventsPerSecond, DefaultEventsPerSecond)
	setDefault(&c.RequestsPerMinute, DefaultRequestsPerMinute)
	setDefault(&c.Instances, DefaultInstances)
	setDefault(&c.Concurrency, DefaultConcurrency)
	setDefault(&c.ExternalBatchSize, DefaultExternalBatchSize)
	setDefault(&c.MaxEventAge, DefaultMaxEventAge)
	setDefault(&c.MaxRetryAfter, DefaultMaxRetryAfter)
	setDefault(&c.WaitMargin, DefaultWaitMargin)
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	setDefault(&c.RetryBase, DefaultRetryBase)
	setDefault(&c.RetryMax, DefaultRetryMax)
	setDefault(&c.AttemptBase, DefaultAttemptBase)
	setDefault(&c.AttemptMax, DefaultAttemptMax)
	setDefault(&c.ClaimTTL, DefaultClaimTTL)
	setDefault(&c.ShareRefresh, DefaultShareRefresh)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = discardMetrics{}
	}
	return c
}

func setDefault[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
