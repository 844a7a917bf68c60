package genesyssim

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Faults is the set of injected failures. A nil field means that fault is off. Every fault
// with an Endpoints list applies only to those endpoints ("token", "appevents",
// "webevents", "externalevents"); an empty list means all four. A Probability of 0 means
// every matching request, so the field can be left out.
type Faults struct {
	Outage         *Outage         `json:"outage,omitempty"`
	Errors         *ErrorFault     `json:"errors,omitempty"`
	Latency        *Latency        `json:"latency,omitempty"`
	SlowResponse   *SlowResponse   `json:"slowResponse,omitempty"`
	RateLimitStorm *RateLimitStorm `json:"rateLimitStorm,omitempty"`
	TokenFailure   *TokenFailure   `json:"tokenFailure,omitempty"`
	PartialFailure *PartialFailure `json:"partialFailure,omitempty"`

	// ErrorBody is the body format of injected error responses: "json" (default, the
	// Genesys error shape), "text" or "html", as a proxy or load balancer would send.
	ErrorBody string `json:"errorBody,omitempty"`
}

// Outage makes matching requests fail outright for a while.
type Outage struct {
	For       Duration `json:"for,omitempty"`  // zero means until the faults are cleared
	Mode      string   `json:"mode,omitempty"` // "503" (default) or "reset" (connection reset)
	Endpoints []string `json:"endpoints,omitempty"`

	// Until is the end of the outage, set by the server when the fault is applied.
	Until time.Time `json:"until,omitzero"`
}

// ErrorFault returns a server error on a random share of matching requests.
type ErrorFault struct {
	Status      int      `json:"status,omitempty"` // 500 (default), 502, 503 or 504
	Probability float64  `json:"probability,omitempty"`
	Endpoints   []string `json:"endpoints,omitempty"`
}

// Latency delays matching requests before they are handled.
type Latency struct {
	// Distribution is "fixed" (default, uses Delay), "uniform" (between Min and Max) or
	// "exponential" (with Mean, capped at Max when Max is set).
	Distribution string   `json:"distribution,omitempty"`
	Delay        Duration `json:"delay,omitempty"`
	Min          Duration `json:"min,omitempty"`
	Max          Duration `json:"max,omitempty"`
	Mean         Duration `json:"mean,omitempty"`
	Endpoints    []string `json:"endpoints,omitempty"`
}

// SlowResponse handles matching requests in full, so their events count as accepted, and
// then holds the response back for Delay. A client whose timeout is shorter than Delay
// never receives the response. Stats counts those requests and whether their events came again.
type SlowResponse struct {
	Delay       Duration `json:"delay"`
	Probability float64  `json:"probability,omitempty"`
	Endpoints   []string `json:"endpoints,omitempty"`
}

// RateLimitStorm returns 429 to matching requests until it ends, either after For or
// after Count responses, whichever comes first. With neither set it lasts until cleared.
type RateLimitStorm struct {
	For               Duration `json:"for,omitempty"`
	Count             int      `json:"count,omitempty"`
	RetryAfterSeconds int      `json:"retryAfterSeconds,omitempty"` // default 1
	RetryAfterFormat  string   `json:"retryAfterFormat,omitempty"`  // "seconds" (default) or "http-date"
	Endpoints         []string `json:"endpoints,omitempty"`

	// Until and Remaining are set by the server and show how much of the storm is left.
	Until     time.Time `json:"until,omitzero"`
	Remaining int       `json:"remaining,omitempty"`
}

// TokenFailure makes POST /oauth/token fail with Status on a share of requests.
type TokenFailure struct {
	Status            int     `json:"status,omitempty"` // 503 (default), 500, 502, 504 or 429
	Probability       float64 `json:"probability,omitempty"`
	Count             int     `json:"count,omitempty"`             // zero means no limit
	RetryAfterSeconds int     `json:"retryAfterSeconds,omitempty"` // for 429, default 1

	// Remaining is set by the server when Count is set.
	Remaining int `json:"remaining,omitempty"`
}

// PartialFailure lists a random share of external-event entities as unprocessed, with
// isRetryable true, while the rest of the batch is accepted.
type PartialFailure struct {
	Status      int     `json:"status,omitempty"` // 429 (default), 500 or 503
	Probability float64 `json:"probability,omitempty"`
}

var (
	errorFaultStatuses   = []int{500, 502, 503, 504}
	tokenFailureStatuses = []int{429, 500, 502, 503, 504}
	partialStatuses      = []int{429, 500, 503}
)

// Validate reports every invalid field of f.
func (f Faults) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	checkEndpoints := func(fault string, endpoints []string) {
		for _, e := range endpoints {
			check(slices.Contains(allEndpoints, e),
				"%s.endpoints: unknown endpoint %q, want one of %v", fault, e, allEndpoints)
		}
	}
	checkProbability := func(fault string, p float64) {
		check(p >= 0 && p <= 1, "%s.probability: %v is outside [0, 1]", fault, p)
	}

	if o := f.Outage; o != nil {
		check(o.Mode == "" || o.Mode == "503" || o.Mode == "reset",
			"outage.mode: invalid value %q, want \"503\" or \"reset\"", o.Mode)
		check(o.For >= 0, "outage.for: must not be negative")
		checkEndpoints("outage", o.Endpoints)
	}
	if e := f.Errors; e != nil {
		check(e.Status == 0 || slices.Contains(errorFaultStatuses, e.Status),
			"errors.status: invalid value %d, want one of %v", e.Status, errorFaultStatuses)
		checkProbability("errors", e.Probability)
		checkEndpoints("errors", e.Endpoints)
	}
	if l := f.Latency; l != nil {
		errs = append(errs, l.validate()...)
		checkEndpoints("latency", l.Endpoints)
	}
	if s := f.SlowResponse; s != nil {
		check(s.Delay > 0, "slowResponse.delay: must be positive")
		checkProbability("slowResponse", s.Probability)
		checkEndpoints("slowResponse", s.Endpoints)
	}
	if s := f.RateLimitStorm; s != nil {
		check(s.For >= 0, "rateLimitStorm.for: must not be negative")
		check(s.Count >= 0, "rateLimitStorm.count: must not be negative")
		check(s.RetryAfterSeconds >= 0, "rateLimitStorm.retryAfterSeconds: must not be negative")
		check(s.RetryAfterFormat == "" || s.RetryAfterFormat == "seconds" ||
			s.RetryAfterFormat == "http-date",
			"rateLimitStorm.retryAfterFormat: invalid value %q, want \"seconds\" or \"http-date\"",
			s.RetryAfterFormat)
		checkEndpoints("rateLimitStorm", s.Endpoints)
	}
	if t := f.TokenFailure; t != nil {
		check(t.Status == 0 || slices.Contains(tokenFailureStatuses, t.Status),
			"tokenFailure.status: invalid value %d, want one of %v", t.Status, tokenFailureStatuses)
		checkProbability("tokenFailure", t.Probability)
		check(t.Count >= 0, "tokenFailure.count: must not be negative")
		check(t.RetryAfterSeconds >= 0, "tokenFailure.retryAfterSeconds: must not be negative")
	}
	if p := f.PartialFailure; p != nil {
		check(p.Status == 0 || slices.Contains(partialStatuses, p.Status),
			"partialFailure.status: invalid value %d, want one of %v", p.Status, partialStatuses)
		checkProbability("partialFailure", p.Probability)
	}
	check(f.ErrorBody == "" || f.ErrorBody == "json" || f.ErrorBody == "text" ||
		f.ErrorBody == "html",
		"errorBody: invalid value %q, want \"json\", \"text\" or \"html\"", f.ErrorBody)
	return errors.Join(errs...)
}

func (l *Latency) validate() []error {
	var errs []error
	switch l.Distribution {
	case "", "fixed":
		if l.Delay < 0 {
			errs = append(errs, errors.New("latency.delay: must not be negative"))
		}
	case "uniform":
		if l.Min < 0 || l.Max < l.Min {
			errs = append(errs, errors.New("latency: uniform needs 0 <= min <= max"))
		}
	case "exponential":
		if l.Mean <= 0 {
			errs = append(errs, errors.New("latency.mean: must be positive for exponential"))
		}
		if l.Max < 0 {
			errs = append(errs, errors.New("latency.max: must not be negative"))
		}
	default:
		errs = append(errs, fmt.Errorf(
			"latency.distribution: invalid value %q, want \"fixed\", \"uniform\" or \"exponential\"",
			l.Distribution))
	}
	return errs
}

// activate returns a deep copy of f with defaults filled in and the end times of
// time-limited faults computed from now.
func (f Faults) activate(now time.Time) Faults {
	out := Faults{ErrorBody: f.ErrorBody}
	if f.Outage != nil {
		o := *f.Outage
		o.Endpoints = slices.Clone(o.Endpoints)
		o.Until = time.Time{}
		if o.For > 0 {
			o.Until = now.Add(time.Duration(o.For))
		}
		out.Outage = &o
	}
	if f.Errors != nil {
		e := *f.Errors
		e.Endpoints = slices.Clone(e.Endpoints)
		out.Errors = &e
	}
	if f.Latency != nil {
		l := *f.Latency
		l.Endpoints = slices.Clone(l.Endpoints)
		out.Latency = &l
	}
	if f.SlowResponse != nil {
		s := *f.SlowResponse
		s.Endpoints = slices.Clone(s.Endpoints)
		out.SlowResponse = &s
	}
	if f.RateLimitStorm != nil {
		s := *f.RateLimitStorm
		s.Endpoints = slices.Clone(s.Endpoints)
		s.Until, s.Remaining = time.Time{}, s.Count
		if s.For > 0 {
			s.Until = now.Add(time.Duration(s.For))
		}
		out.RateLimitStorm = &s
	}
	if f.TokenFailure != nil {
		t := *f.TokenFailure
		t.Remaining = t.Count
		out.TokenFailure = &t
	}
	if f.PartialFailure != nil {
		p := *f.PartialFailure
		out.PartialFailure = &p
	}
	return out
}

// clone returns a copy of f that shares nothing with it.
func (f Faults) clone() Faults {
	out := f.activate(time.Time{})
	if f.Outage != nil {
		out.Outage.Until = f.Outage.Until
	}
	if f.RateLimitStorm != nil {
		out.RateLimitStorm.Until = f.RateLimitStorm.Until
		out.RateLimitStorm.Remaining = f.RateLimitStorm.Remaining
	}
	if f.TokenFailure != nil {
		out.TokenFailure.Remaining = f.TokenFailure.Remaining
	}
	return out
}

func appliesTo(endpoints []string, endpoint string) bool {
	return len(endpoints) == 0 || slices.Contains(endpoints, endpoint)
}
