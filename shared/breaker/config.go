package breaker

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Defaults that New applies to zero fields of Config.
const (
	DefaultFailureThreshold = 5
	DefaultOpenDelay        = 30 * time.Second
	DefaultMaxOpenDelay     = 5 * time.Minute
	DefaultProbeTimeout     = 15 * time.Second
	DefaultSyncInterval     = time.Second
)

// Config sets up a Breaker. Zero fields take the defaults above.
type Config struct {
	// FailureThreshold is the number of failures in a row, counted in one
	// instance, that opens the breaker. A success resets the count.
	FailureThreshold uint

	// OpenDelay is how long the breaker stays open the first time it opens.
	OpenDelay time.Duration

	// MaxOpenDelay caps the open delay, which doubles after each failed probe.
	MaxOpenDelay time.Duration

	// ProbeTimeout is how long one instance may hold the half-open probe
	// before another instance may take it over. Keep it above the request
	// timeout of the call being protected.
	ProbeTimeout time.Duration

	// SyncInterval is the minimum time between two reads of the shared item.
	SyncInterval time.Duration

	// Owner identifies this instance in the shared item, a random UUID when empty.
	Owner string

	// Now is the clock, time.Now when nil.
	Now func() time.Time

	// Logger receives state changes and DynamoDB errors. Nothing is logged when nil.
	Logger *slog.Logger

	// OnStateChange is called after each change of this instance's view of
	// the state, whether this instance or another one caused it. It may be called
	// from several goroutines at once.
	OnStateChange func(from, to State)
}

func (c Config) withDefaults() Config {
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.OpenDelay <= 0 {
		c.OpenDelay = DefaultOpenDelay
	}
	if c.MaxOpenDelay <= 0 {
		c.MaxOpenDelay = DefaultMaxOpenDelay
	}
	c.MaxOpenDelay = max(c.MaxOpenDelay, c.OpenDelay)
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.Owner == "" {
		c.Owner = uuid.NewString()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// openDelay returns the delay of the breaker's opened-th opening in a row:
// OpenDelay doubled for each earlier one, capped at MaxOpenDelay.
func (c Config) openDelay(opened int) time.Duration {
	delay := c.OpenDelay
	for i := 1; i < opened && delay < c.MaxOpenDelay; i++ {
		delay *= 2
	}
	return min(delay, c.MaxOpenDelay)
}

// State is the state of the breaker, as stored in the shared item.
type State int

// The breaker's states.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

func parseState(s string) State {
	switch s {
	case "open":
		return Open
	case "half_open":
		return HalfOpen
	}
	return Closed
}

// OpenError is the error Acquire returns while no request may be sent.
type OpenError struct {
	// Until is the earliest time a request may be allowed again: the end of
	// the open delay, or the time the current probe expires.
	Until time.Time
}

func (e *OpenError) Error() string {
	return "circuit breaker open until " + e.Until.UTC().Format(time.RFC3339Nano)
}
