package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// result returns the Result of a request for one event, or for a whole
// external-events request that got no 2xx response.
func (x exchange) result(op string) Result {
	if x.status == 0 {
		return x.transportFailure(op)
	}
	if x.status >= 200 && x.status < 300 {
		return Result{Outcome: Delivered, Status: x.status}
	}

	code, detail := describe(x.status, x.contentType, x.body)
	r := Result{
		Outcome: classify(x.status),
		Status:  x.status,
		Code:    code,
		Detail:  detail,
		// A gateway that timed out may have passed the request on already.
		Uncertain: x.status == http.StatusGatewayTimeout,
		Err:       fmt.Errorf("%s: %s", op, detail),
	}
	r.RetryAfter, r.HasRetryAfter = x.retryAfter()
	return r
}

// transportFailure returns the Result of a request that got no response.
func (x exchange) transportFailure(op string) Result {
	reason := x.err.Error()
	if errors.Is(x.err, context.DeadlineExceeded) {
		reason = "timed out"
	}
	detail := "no response: " + reason
	if x.wroteAll {
		detail += " (request sent in full)"
	}
	return Result{
		Outcome:   Retry,
		Uncertain: x.wroteAll,
		Detail:    truncate(oneLine(detail), maxDetailBytes),
		Err:       fmt.Errorf("%s: %w", op, x.err),
	}
}

// retryAfter reads the Retry-After header. An HTTP-date is measured from the
// response's Date header, so that clock skew between Genesys and this host
// does not change the delay, and from the time of receipt when there is none.
func (x exchange) retryAfter() (time.Duration, bool) {
	value := x.header.Get("Retry-After")
	if value == "" {
		return 0, false
	}
	now := x.receivedAt
	if date, err := http.ParseTime(x.header.Get("Date")); err == nil {
		now = date
	}
	return ParseRetryAfter(value, now)
}
