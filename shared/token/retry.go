package token

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
)

// RetryOptions bounds the retries of one token fetch. Zero fields take the
// defaults listed on each field.
type RetryOptions struct {
	// MaxAttempts is the max number of token requests in one fetch. Default 4.
	MaxAttempts int

	// MaxWait is the max total time spent waiting between attempts. A 429
	// whose Retry-After would exceed what is left of MaxWait, or of the
	// context's deadline, ends the fetch at once. Default 10s.
	MaxWait time.Duration

	// BaseDelay is the first backoff delay after a failure without
	// Retry-After. Each later delay doubles, up to MaxDelay. Defaults 200ms and 2s.
	BaseDelay time.Duration
	MaxDelay  time.Duration

	// Jitter is the max random time added to each delay. After a Retry-After
	// the jitter is only ever added, so no retry comes before the time the
	// server named. Default 250ms.
	Jitter time.Duration
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Second
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 200 * time.Millisecond
	}
	if o.MaxDelay < o.BaseDelay {
		o.MaxDelay = max(2*time.Second, o.BaseDelay)
	}
	if o.Jitter <= 0 {
		o.Jitter = 250 * time.Millisecond
	}
	return o
}

// errRetryAfterTooLong ends a fetch whose Retry-After exceeds the wait left.
var errRetryAfterTooLong = errors.New("Retry-After exceeds the time left to wait")

// requestWithRetry requests a token, retrying temporary failures with
// exponential backoff and honouring Retry-After.
func (i *Issuer) requestWithRetry(ctx context.Context, creds Credentials) (Token, error) {
	var waited time.Duration // total of the delays scheduled so far in this fetch
	policy := retrypolicy.NewBuilder[Token]().
		HandleIf(func(_ Token, err error) bool { return isTemporary(err) }).
		AbortIf(func(_ Token, err error) bool {
			return err != nil && retryAfter(err) > timeLeft(ctx, i.retry.MaxWait-waited)
		}).
		WithMaxAttempts(i.retry.MaxAttempts).
		WithBackoff(i.retry.BaseDelay, i.retry.MaxDelay).
		WithJitter(i.retry.Jitter).
		WithDelayFunc(func(exec failsafe.ExecutionAttempt[Token]) time.Duration {
			if d := retryAfter(exec.LastError()); d > 0 {
				// The policy adds or subtracts up to Jitter, so this delay never falls below d.
				return d + i.retry.Jitter
			}
			return -1 // use the backoff
		}).
		OnRetryScheduled(func(e failsafe.ExecutionScheduledEvent[Token]) {
			waited += e.Delay
			i.logger.WarnContext(ctx, "token request failed; retrying",
				"error", e.LastError(), "attempt", e.Attempts(), "delay", e.Delay)
		}).
		ReturnLastFailure().
		Build()

	tok, err := failsafe.With(policy).WithContext(ctx).Get(func() (Token, error) {
		return requestToken(ctx, i.client, creds, i.now())
	})
	if d, left := retryAfter(err), timeLeft(ctx, i.retry.MaxWait-waited); d > 0 && d > left {
		return Token{}, fmt.Errorf("%w (Retry-After %s, %s left): %w", errRetryAfterTooLong, d, left.Round(time.Millisecond), err)
	}
	return tok, err
}

// timeLeft returns how long a retry may still wait: the wait budget, or less
// when the context's deadline comes first.
func timeLeft(ctx context.Context, budget time.Duration) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return min(budget, time.Until(deadline))
	}
	return budget
}

// isTemporary reports whether a request error may pass on a later attempt:
// a temporary status from the endpoint, or a transport failure such as a
// refused or reset connection or a timeout.
func isTemporary(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var endpointErr *EndpointError
	if errors.As(err, &endpointErr) {
		return endpointErr.Temporary()
	}
	var transportErr *url.Error
	return errors.As(err, &transportErr)
}

func retryAfter(err error) time.Duration {
	var endpointErr *EndpointError
	if errors.As(err, &endpointErr) {
		return endpointErr.RetryAfter
	}
	return 0
}
