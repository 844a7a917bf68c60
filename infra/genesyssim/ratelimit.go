package genesyssim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// unlimitedAllowed is the inin-ratelimit-allowed value sent when no limit is configured.
const unlimitedAllowed = math.MaxInt32

// rateState is the content of the inin-ratelimit-* headers.
type rateState struct {
	count   int64         // requests counted in the current window, this one included
	allowed int64         // budget of the window
	reset   time.Duration // time until the window or bucket is fresh again
}

func (r rateState) apply(h http.Header) {
	h.Set("inin-ratelimit-count", strconv.FormatInt(r.count, 10))
	h.Set("inin-ratelimit-allowed", strconv.FormatInt(r.allowed, 10))
	h.Set("inin-ratelimit-reset", strconv.Itoa(ceilSeconds(r.reset)))
}

// fixedWindow counts requests in consecutive windows; a window opens at the first request
// after the previous one ended.
type fixedWindow struct {
	start time.Time
	count int64
}

// hit counts one request at now and returns the count and the time left in the window.
func (w *fixedWindow) hit(now time.Time, size time.Duration) (int64, time.Duration) {
	if w.start.IsZero() || now.Sub(w.start) >= size || now.Before(w.start) {
		w.start, w.count = now, 0
	}
	w.count++
	return w.count, w.start.Add(size).Sub(now)
}

// tokenBucket refills at rate per second up to size; each request takes one token.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take tries to take a token at now. It returns whether it succeeded and the tokens in use
// afterwards. The third value is how long until a token is free after a failure, or until
// the bucket is full again after a success.
func (b *tokenBucket) take(now time.Time, rate, size float64) (bool, int64, time.Duration) {
	if b.last.IsZero() {
		b.tokens, b.last = size, now
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(size, b.tokens+elapsed*rate)
		b.last = now
	}

	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	used := int64(math.Ceil(size - b.tokens))
	if !ok {
		return false, used, seconds((1 - b.tokens) / rate)
	}
	return true, used, seconds((size - b.tokens) / rate)
}

// deploymentLimit is the rate state of one deployment: the bucket that enforces
// DeploymentEventsPerSecond, and a one-second window that only feeds the headers when
// the budget is unlimited.
type deploymentLimit struct {
	bucket tokenBucket
	window fixedWindow
}

// limitDeployment counts an app or web event request against the deployment's budget.
// It returns the header state and, when the budget is spent, the Retry-After delay.
func (s *Server) limitDeployment(deploymentID string) (rateState, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.cfg.Now()
	limit := s.buckets[deploymentID]
	if limit == nil {
		limit = &deploymentLimit{}
		s.buckets[deploymentID] = limit
	}

	rate := s.cfg.DeploymentEventsPerSecond
	if rate <= 0 {
		count, reset := limit.window.hit(now, time.Second)
		return rateState{count: count, allowed: unlimitedAllowed, reset: reset}, 0
	}

	size := bucketSize(rate)
	ok, used, wait := limit.bucket.take(now, rate, float64(size))
	state := rateState{count: used, allowed: size, reset: wait}
	if !ok {
		state.count = size + 1
		return state, wait
	}
	return state, 0
}

// limitTokenEndpoint counts a request to /oauth/token against the endpoint's own budget.
func (s *Server) limitTokenEndpoint() (rateState, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()

	count, reset := s.tokenWindow.hit(s.cfg.Now(), time.Minute)
	return windowState(count, s.cfg.TokenEndpointRequestsPerMinute, reset)
}

// windowState returns the header state of a fixed window and, when count is over limit,
// the Retry-After delay. A limit of zero or less means unlimited.
func windowState(count int64, limit int, reset time.Duration) (rateState, time.Duration) {
	state := rateState{count: count, allowed: allowedHeader(limit), reset: reset}
	if limit > 0 && count > int64(limit) {
		return state, reset
	}
	return state, 0
}

// tooManyRequests builds a platform 429 whose Retry-After is retryAfter rounded up to seconds.
func (s *Server) tooManyRequests(c *call, state rateState, retryAfter time.Duration) *response {
	secs := max(1, ceilSeconds(retryAfter))
	resp := s.platformError(c, http.StatusTooManyRequests, codeTooManyRequests,
		fmt.Sprintf(tooManyRequestsMessage, secs))
	resp.header.Set("Retry-After", strconv.Itoa(secs))
	state.apply(resp.header)
	return resp
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}
