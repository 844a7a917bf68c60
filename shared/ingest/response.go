package ingest

import (
	"encoding/json"
	"time"

	"github.com/journeyrelay/relay/shared/journey"
)

// status maps a batch's outcome to its HTTP status: 202 when anything was
// accepted, 503 when nothing was but some events can be sent again, 400 when
// nothing in the request was valid.
func (r batchResult) status() int {
	switch {
	case r.requestError != nil:
		return 400
	case len(r.accepted) > 0:
		return 202
	case len(r.retryable) > 0:
		return 503
	}
	return 400
}

type batchBody struct {
	Accepted      []acceptedEvent     `json:"accepted"`
	Rejected      []journey.Violation `json:"rejected"`
	Retryable     []journey.Violation `json:"retryable"`
	ServerTime    string              `json:"server_time"`
	ClockOffsetMS int64               `json:"clock_offset_ms"`
}

func batchResponse(status int, r batchResult, now time.Time) Response {
	body := batchBody{
		Accepted:      r.accepted,
		Rejected:      r.rejected,
		Retryable:     r.retryable,
		ServerTime:    journey.FormatTime(now),
		ClockOffsetMS: r.offset.Milliseconds(),
	}
	if r.requestError != nil {
		body.Rejected = append([]journey.Violation{*r.requestError}, body.Rejected...)
	}
	if body.Accepted == nil {
		body.Accepted = []acceptedEvent{}
	}
	if body.Rejected == nil {
		body.Rejected = []journey.Violation{}
	}
	if body.Retryable == nil {
		body.Retryable = []journey.Violation{}
	}
	resp := jsonResponse(status, body)
	if status == 503 {
		resp.Headers["Retry-After"] = "1"
	}
	return resp
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorResponse(status int, code, message string) Response {
	return jsonResponse(status, errorBody{Code: code, Message: message})
}

func retryLater(message string) Response {
	resp := errorResponse(503, "unavailable", message)
	resp.Headers["Retry-After"] = "1"
	return resp
}

func jsonResponse(status int, v any) Response {
	body, _ := json.Marshal(v) // the bodies are plain structs of strings and numbers
	return Response{
		Status:  status,
		Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:    body,
	}
}
