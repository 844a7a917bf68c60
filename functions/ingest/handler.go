package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/journeyrelay/relay/shared/ingest"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// handler translates API Gateway HTTP API (payload format 2.0) events to the
// ingest service and back.
type handler struct {
	service *ingest.Service
	metrics *telemetry.Recorder
}

func (h handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	defer h.metrics.Flush()
	resp := h.service.Handle(ctx, toRequest(ev, time.Now()))
	return events.APIGatewayV2HTTPResponse{
		StatusCode: resp.Status,
		Headers:    resp.Headers,
		Body:       string(resp.Body),
	}, nil
}

// toRequest uses API Gateway's receive time when it is present: it is closer
// to when the device sent the request than the function's start.
func toRequest(ev events.APIGatewayV2HTTPRequest, now time.Time) ingest.Request {
	headers := make(map[string]string, len(ev.Headers))
	for k, v := range ev.Headers {
		headers[strings.ToLower(k)] = v
	}
	path := ev.RequestContext.HTTP.Path
	if path == "" {
		path = ev.RawPath
	}
	received := now
	if ev.RequestContext.TimeEpoch > 0 {
		received = time.UnixMilli(ev.RequestContext.TimeEpoch)
	}
	return ingest.Request{
		Method:     ev.RequestContext.HTTP.Method,
		Path:       path,
		Headers:    headers,
		Body:       ev.Body,
		IsBase64:   ev.IsBase64Encoded,
		ReceivedAt: received,
	}
}

// misconfigured returns 503 to every request while the function's
// environment is invalid; the start-up log names the variables to fix.
type misconfigured struct {
	metrics *telemetry.Recorder
}

func (m misconfigured) Handle(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	m.metrics.Add("misconfigured", 1)
	defer m.metrics.Flush()
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 503,
		Headers:    map[string]string{"Content-Type": "application/json", "Retry-After": "30"},
		Body:       `{"code":"unavailable","message":"the relay is not configured; retry later"}`,
	}, nil
}
