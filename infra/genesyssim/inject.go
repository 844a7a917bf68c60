package genesyssim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// faultPlan is the effect of the active faults on one request.
type faultPlan struct {
	outageMode string        // "", "503" or "reset"
	latency    time.Duration // delay before the request is handled
	status     int           // injected status, 0 when the request is handled normally
	retryAfter string        // Retry-After value of an injected 429
	retrySecs  int           // the same delay in seconds, for the rate-limit headers
	slowDelay  time.Duration // delay before the response is written
	partial    *PartialFailure
	bodyFormat string
}

// planFaults decides what the active faults do to a request to endpoint. Expired faults
// are removed. The random source is drawn only for faults that match, always in the same
// order. s.mu must be held.
func (s *Server) planFaults(endpoint string, now time.Time) faultPlan {
	f := &s.faults
	plan := faultPlan{bodyFormat: f.ErrorBody}

	if o := f.Outage; o != nil && !o.Until.IsZero() && !now.Before(o.Until) {
		f.Outage = nil
	}
	if o := f.Outage; o != nil && appliesTo(o.Endpoints, endpoint) {
		plan.outageMode = "503"
		if o.Mode == "reset" {
			plan.outageMode = "reset"
		}
		if plan.outageMode == "503" {
			plan.status = http.StatusServiceUnavailable
		}
		return plan
	}

	if l := f.Latency; l != nil && appliesTo(l.Endpoints, endpoint) {
		plan.latency = s.drawLatency(l)
	}
	if s.planStorm(endpoint, now, &plan) {
		return plan
	}
	if s.planTokenFailure(endpoint, now, &plan) {
		return plan
	}
	if e := f.Errors; e != nil && appliesTo(e.Endpoints, endpoint) && s.chance(e.Probability) {
		plan.status = orDefault(e.Status, http.StatusInternalServerError)
		return plan
	}
	if sr := f.SlowResponse; sr != nil && appliesTo(sr.Endpoints, endpoint) &&
		s.chance(sr.Probability) {
		plan.slowDelay = time.Duration(sr.Delay)
	}
	if p := f.PartialFailure; p != nil && endpoint == EndpointExternalEvents {
		copied := *p
		plan.partial = &copied
	}
	return plan
}

func (s *Server) planStorm(endpoint string, now time.Time, plan *faultPlan) bool {
	storm := s.faults.RateLimitStorm
	if storm == nil {
		return false
	}
	if (!storm.Until.IsZero() && !now.Before(storm.Until)) || (storm.Count > 0 && storm.Remaining <= 0) {
		s.faults.RateLimitStorm = nil
		return false
	}
	if !appliesTo(storm.Endpoints, endpoint) {
		return false
	}

	if storm.Count > 0 {
		storm.Remaining--
	}
	plan.status = http.StatusTooManyRequests
	plan.retrySecs = orDefault(storm.RetryAfterSeconds, 1)
	plan.retryAfter = strconv.Itoa(plan.retrySecs)
	if storm.RetryAfterFormat == "http-date" {
		at := now.Add(time.Duration(plan.retrySecs) * time.Second)
		plan.retryAfter = at.UTC().Format(http.TimeFormat)
	}
	return true
}

func (s *Server) planTokenFailure(endpoint string, now time.Time, plan *faultPlan) bool {
	tf := s.faults.TokenFailure
	if tf == nil || endpoint != EndpointToken {
		return false
	}
	if tf.Count > 0 && tf.Remaining <= 0 {
		s.faults.TokenFailure = nil
		return false
	}
	if !s.chance(tf.Probability) {
		return false
	}

	if tf.Count > 0 {
		tf.Remaining--
	}
	plan.status = orDefault(tf.Status, http.StatusServiceUnavailable)
	if plan.status == http.StatusTooManyRequests {
		plan.retrySecs = orDefault(tf.RetryAfterSeconds, 1)
		plan.retryAfter = strconv.Itoa(plan.retrySecs)
	}
	return true
}

// chance reports whether an event of probability p happens; 0 counts as 1. s.mu must be held.
func (s *Server) chance(p float64) bool {
	if p == 0 || p >= 1 {
		return true
	}
	return s.rng.Float64() < p
}

// drawLatency returns one delay from l's distribution. s.mu must be held.
func (s *Server) drawLatency(l *Latency) time.Duration {
	switch l.Distribution {
	case "uniform":
		spread := int64(l.Max - l.Min)
		return time.Duration(int64(l.Min) + s.rng.Int64N(spread+1))
	case "exponential":
		d := time.Duration(s.rng.ExpFloat64() * float64(l.Mean))
		if l.Max > 0 && d > time.Duration(l.Max) {
			d = time.Duration(l.Max)
		}
		return d
	default:
		return time.Duration(l.Delay)
	}
}

// injectedError builds the response for an injected status in the chosen body format.
func (s *Server) injectedError(c *call, plan faultPlan) *response {
	status := plan.status
	var resp *response
	switch plan.bodyFormat {
	case "text":
		resp = textResponse(status, "text/plain; charset=utf-8",
			fmt.Sprintf("%d %s\n", status, http.StatusText(status)))
	case "html":
		title := fmt.Sprintf("%d %s", status, http.StatusText(status))
		resp = textResponse(status, "text/html; charset=utf-8",
			"<html><head><title>"+title+"</title></head><body><h1>"+title+"</h1></body></html>\n")
	default:
		resp = s.injectedJSON(c, status, plan.retrySecs)
	}

	allowed, window := s.limitFor(c.endpoint)
	state := rateState{allowed: allowed, reset: window}
	if status == http.StatusTooManyRequests {
		resp.header.Set("Retry-After", plan.retryAfter)
		state = rateState{count: allowed + 1, allowed: allowed, reset: secondsDuration(plan.retrySecs)}
	}
	state.apply(resp.header)
	return resp
}

func (s *Server) injectedJSON(c *call, status, retrySecs int) *response {
	if c.endpoint == EndpointToken && status != http.StatusTooManyRequests {
		return oauthError(status, "server_error", "The login service is temporarily unavailable.")
	}
	switch status {
	case http.StatusTooManyRequests:
		return s.platformError(c, status, codeTooManyRequests,
			fmt.Sprintf(tooManyRequestsMessage, retrySecs))
	case http.StatusBadGateway:
		return s.platformError(c, status, "bad.gateway", "The gateway received an invalid response.")
	case http.StatusServiceUnavailable:
		return s.platformError(c, status, "service.unavailable",
			"The service is currently unavailable.")
	case http.StatusGatewayTimeout:
		return s.platformError(c, status, "gateway.timeout",
			"The gateway timed out waiting for the service.")
	default:
		return s.platformError(c, status, "internal.server.error",
			"The server encountered an unexpected error.")
	}
}

// limitFor returns the budget and window length that apply to endpoint, for the
// rate-limit headers of responses that no limit counted.
func (s *Server) limitFor(endpoint string) (int64, time.Duration) {
	switch endpoint {
	case EndpointToken:
		return allowedHeader(s.cfg.TokenEndpointRequestsPerMinute), time.Minute
	case EndpointExternalEvents:
		return allowedHeader(s.cfg.TokenRequestsPerMinute), time.Minute
	default:
		return bucketSize(s.cfg.DeploymentEventsPerSecond), time.Second
	}
}

func secondsDuration(n int) time.Duration {
	return time.Duration(n) * time.Second
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// allowedHeader converts a per-window limit to the inin-ratelimit-allowed value.
func allowedHeader(limit int) int64 {
	if limit <= 0 {
		return unlimitedAllowed
	}
	return int64(limit)
}

// bucketSize is the token-bucket capacity for a per-second rate: one second of budget,
// at least one request. Zero rate means unlimited.
func bucketSize(rate float64) int64 {
	if rate <= 0 {
		return unlimitedAllowed
	}
	return int64(math.Max(1, math.Ceil(rate)))
}
