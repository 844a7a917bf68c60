package genesys

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outcome is the next step for an event after a send.
type Outcome int

const (
	// Delivered means Genesys accepted the event.
	Delivered Outcome = iota + 1

	// Retry means the send failed for a reason that may pass: 408, 429, 5xx,
	// a timeout or a connection error. Wait RetryAfter when HasRetryAfter.
	Retry

	// Permanent means Genesys rejected the event itself (400, 409, 422 and
	// other 4xx), or the event cannot be encoded. Sending it again cannot help.
	Permanent

	// Misconfigured means the relay's settings are wrong for every event:
	// 403, 404, a redirect, or a missing deployment or configuration id.
	Misconfigured

	// Unauthorized means Genesys rejected the access token (401). The caller
	// fetches a new token once and sends again.
	Unauthorized
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	case Misconfigured:
		return "misconfigured"
	case Unauthorized:
		return "unauthorized"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is the outcome of sending one event.
type Result struct {
	Outcome Outcome

	// Status is the HTTP status, or 0 when no response arrived. For an
	// external event that Genesys listed as unprocessed, it is that entity's statusCode.
	Status int

	// RetryAfter is the delay the Retry-After header requested, when HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool

	// Uncertain is set when Genesys may have received the event although no
	// response arrived: the request was written in full before a timeout or a
	// lost connection, or a gateway reported a 504 timeout. Sending it again
	// may then create a duplicate.
	Uncertain bool

	// Code is the Genesys error code from the response body, when present.
	Code string

	// Detail is a one-line reason for logs, at most 256 bytes of valid UTF-8:
	// the status, the code and an excerpt of the response body.
	Detail string

	// Err is the error behind every outcome other than Delivered.
	Err error
}

// classify returns the outcome of an HTTP status that is not 2xx.
func classify(status int) Outcome {
	switch {
	case status == http.StatusUnauthorized:
		return Unauthorized
	case status == http.StatusForbidden, status == http.StatusNotFound:
		return Misconfigured
	case status >= 300 && status < 400:
		return Misconfigured
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return Retry
	case status >= 500:
		return Retry
	}
	return Permanent
}

// ParseRetryAfter reads a Retry-After value as of now. It accepts
// delay-seconds and the three HTTP-date forms of RFC 9110 (IMF-fixdate, the
// obsolete RFC 850 form and asctime). A date in the past and a negative
// number of seconds give 0. A value in neither form gives ok false.
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, ok := parseSeconds(value); ok {
		return seconds, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// parseSeconds reads an optionally signed decimal integer of seconds. A
// value too large for a time.Duration gives the largest one.
func parseSeconds(value string) (time.Duration, bool) {
	digits := strings.TrimPrefix(value, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	if digits != value {
		return 0, true
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(math.MaxInt64/time.Second) {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(n) * time.Second, true
}
