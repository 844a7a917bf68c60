package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/shared/appkeys"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/secrets"
	"github.com/journeyrelay/relay/shared/skew"
	"github.com/journeyrelay/relay/shared/telemetry"
)

const testKey = "test-app-key"

var now = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		MaxBodyBytes:    64 << 10,
		MaxDecodedBytes: 256 << 10,
		MaxMessageBytes: 1 << 20,
		Rules:           journey.Options{DeadBand: 30 * time.Second, MaxEventAge: 50 * time.Minute, MaxEvents: 100},
	}
}

// stack is a Service wired to kumo's SQS, DynamoDB and Secrets Manager.
type stack struct {
	service *Service
	metrics *telemetry.Recorder
	emu     *awslocal.Emulator
	res     awslocal.Resources
}

func newStack(t *testing.T) *stack {
	t.Helper()
	emu, res := awslocal.StartT(t)
	ctx := context.Background()
	err := awslocal.PutSecret(ctx, emu.Config, res.AppKeysSecret, map[string]any{
		"keys": []map[string]string{{"id": "test-app", "sha256": appkeys.Hash(testKey)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cache := secrets.NewCache(secretsmanager.NewFromConfig(emu.Config), res.AppKeysSecret, secrets.Options{})
	metrics := telemetry.NewRecorder(io.Discard, "ingest")
	svc := NewService(testConfig(), appkeys.NewAuthenticator(cache),
		queue.NewSender(sqs.NewFromConfig(emu.Config), res.QueueURL, 2),
		skew.NewStore(dynamodb.NewFromConfig(emu.Config), res.Table, time.Hour),
		metrics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &stack{service: svc, metrics: metrics, emu: emu, res: res}
}

func (s *stack) queued(t *testing.T) []string {
	t.Helper()
	var bodies []string
	client := sqs.NewFromConfig(s.emu.Config)
	for {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.res.QueueURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			for _, name := range []string{queue.AttrEventType, queue.AttrIdempotencyKey, queue.AttrReceivedAt} {
				if aws.ToString(m.MessageAttributes[name].StringValue) == "" {
					t.Errorf("message lacks attribute %s", name)
				}
			}
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
}

func post(body string, headers ...string) Request {
	h := map[string]string{"content-type": "application/json", "x-api-key": testKey}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return Request{Method: "POST", Path: Route, Headers: h, Body: body, ReceivedAt: now}
}

func appEvent(name string) map[string]any {
	return map[string]any{
		"event_type": "APP", "event_name": name, "timestamp": "2026-12-04T14:59:00Z",
		"user_id": "u-1", "session_id": "s-1", "screen_name": "Home",
		"app":    map[string]any{"name": "Shop", "namespace": "com.example.shop", "version": "5.2.0", "build_number": "5200"},
		"device": map[string]any{"category": "mobile", "type": "iPhone", "os_family": "iOS", "os_version": "18.1"},
	}
}

func batchJSON(t *testing.T, sentAt string, events ...map[string]any) string {
	t.Helper()
	env := map[string]any{"events": events}
	if sentAt != "" {
		env["sent_at"] = sentAt
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type decoded struct {
	Accepted []struct {
		Index             int    `json:"index"`
		IdempotencyKey    string `json:"idempotency_key"`
		Timestamp         string `json:"timestamp"`
		OriginalTimestamp string `json:"original_timestamp"`
	} `json:"accepted"`
	Rejected      []journey.Violation `json:"rejected"`
	Retryable     []journey.Violation `json:"retryable"`
	ServerTime    string              `json:"server_time"`
	ClockOffsetMS int64               `json:"clock_offset_ms"`
	Code          string              `json:"code"`
	Message       string              `json:"message"`
}

func decode(t *testing.T, resp Response) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(resp.Body, &d); err != nil {
		t.Fatalf("response body is not JSON: %v: %s", err, resp.Body)
	}
	return d
}

func TestHandleTransportErrors(t *testing.T) {
	s := newStack(t)
	valid := batchJSON(t, "", appEvent("a"))
	bomb := base64.StdEncoding.EncodeToString(gzipped(t, make([]byte, 4<<20)))
	whole := gzipped(t, []byte(valid))
	truncated := base64.StdEncoding.EncodeToString(whole[:len(whole)-6])

	tests := []struct {
		name   string
		req    Request
		status int
		code   string
	}{
		{"unknown route", func() Request { r := post(valid); r.Path = "/v1/event"; return r }(), 404, "not_found"},
		{"wrong method", func() Request { r := post(valid); r.Method = "GET"; return r }(), 405, "method_not_allowed"},
		{"missing key", post(valid, "x-api-key", ""), 401, "unauthorized"},
		{"unknown key", post(valid, "x-api-key", "guess"), 401, "unauthorized"},
		{"text body", post(valid, "content-type", "text/plain"), 415, "unsupported_media_type"},
		{"latin-1 charset", post(valid, "content-type", "application/json; charset=iso-8859-1"), 415, "unsupported_media_type"},
		{"brotli", post(valid, "content-encoding", "br"), 415, "unsupported_encoding"},
		{"invalid base64", func() Request { r := post("!!not base64!!"); r.IsBase64 = true; return r }(), 400, "invalid_base64"},
		{"gzip marker on plain body", post(valid, "content-encoding", "gzip"), 400, "invalid_gzip"},
		{"truncated gzip", func() Request { r := post(truncated, "content-encoding", "gzip"); r.IsBase64 = true; return r }(), 400, "invalid_gzip"},
		{"gzip bomb", func() Request { r := post(bomb, "content-encoding", "gzip"); r.IsBase64 = true; return r }(), 413, "payload_too_large"},
		{"body over cap", post(`{"events":[` + strings.Repeat(" ", 70<<10) + `]}`), 413, "payload_too_large"},
		{"invalid JSON", post(`{"events": [`), 400, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.service.Handle(context.Background(), tt.req)
			if resp.Status != tt.status {
				t.Errorf("status: got %d, want %d (%s)", resp.Status, tt.status, resp.Body)
			}
			d := decode(t, resp)
			code := d.Code
			if len(d.Rejected) > 0 {
				code = d.Rejected[0].Code
			}
			if code != tt.code {
				t.Errorf("code: got %q, want %q", code, tt.code)
			}
			checkAgainstOpenAPI(t, resp)
		})
	}
	if got := s.queued(t); len(got) != 0 {
		t.Errorf("queued %d messages for rejected requests", len(got))
	}
}

func TestHandleAcceptsBatchAndQueuesEachEvent(t *testing.T) {
	s := newStack(t)
	bad := appEvent("bad name")
	resp := s.service.Handle(context.Background(), post(batchJSON(t, "", appEvent("a"), bad, appEvent("c"))))
	if resp.Status != 202 {
		t.Fatalf("status: got %d, want 202: %s", resp.Status, resp.Body)
	}
	d := decode(t, resp)
	if len(d.Accepted) != 2 || d.Accepted[0].Index != 0 || d.Accepted[1].Index != 2 {
		t.Errorf("accepted: got %+v, want indexes 0 and 2", d.Accepted)
	}
	if len(d.Rejected) != 1 || d.Rejected[0].Index != 1 || d.Rejected[0].Code != journey.CodeInvalidEventName {
		t.Errorf("rejected: got %+v", d.Rejected)
	}
	if d.ServerTime != "2026-12-04T15:00:00.000Z" {
		t.Errorf("server_time: got %s", d.ServerTime)
	}
	checkAgainstOpenAPI(t, resp)

	bodies := s.queued(t)
	if len(bodies) != 2 {
		t.Fatalf("queued %d messages, want 2", len(bodies))
	}
	var ev journey.Event
	if err := json.Unmarshal([]byte(bodies[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Timestamp != "2026-12-04T14:59:00.000Z" || ev.CustomerCookieID == "" || ev.App == nil {
		t.Errorf("queued event: got %+v", ev)
	}
	if s.metrics.Total("events_accepted") != 2 || s.metrics.Total("rejected_invalid_event_name") != 1 {
		t.Errorf("metrics: accepted %v, rejected_invalid_event_name %v",
			s.metrics.Total("events_accepted"), s.metrics.Total("rejected_invalid_event_name"))
	}
}

func TestHandleAcceptsGzipBase64AndBareEvents(t *testing.T) {
	s := newStack(t)
	body := base64.StdEncoding.EncodeToString(gzipped(t, []byte(batchJSON(t, "", appEvent("a"), appEvent("b")))))
	req := post(body, "content-encoding", "gzip")
	req.IsBase64 = true
	if resp := s.service.Handle(context.Background(), req); resp.Status != 202 {
		t.Errorf("gzip batch: got %d: %s", resp.Status, resp.Body)
	}

	bare, _ := json.Marshal(appEvent("bare"))
	resp := s.service.Handle(context.Background(), post(string(bare), "idempotency-key", "k-123"))
	if resp.Status != 202 {
		t.Fatalf("bare event: got %d: %s", resp.Status, resp.Body)
	}
	if d := decode(t, resp); d.Accepted[0].IdempotencyKey != "k-123" {
		t.Errorf("bare event key: got %q, want the header's k-123", d.Accepted[0].IdempotencyKey)
	}
	if n := len(s.queued(t)); n != 3 {
		t.Errorf("queued %d messages, want 3", n)
	}
}

func TestHandleRejectsBatchWithNoValidEvent(t *testing.T) {
	s := newStack(t)
	resp := s.service.Handle(context.Background(), post(batchJSON(t, "", appEvent("no good"))))
	if resp.Status != 400 {
		t.Errorf("status: got %d, want 400", resp.Status)
	}
	checkAgainstOpenAPI(t, resp)
}

func TestHandleFlagsSkewedSession(t *testing.T) {
	s := newStack(t)
	ev := appEvent("a")
	ev["timestamp"] = "2026-12-04T15:04:00Z"
	resp := s.service.Handle(context.Background(), post(batchJSON(t, "2026-12-04T15:05:00Z", ev)))
	if resp.Status != 202 {
		t.Fatalf("status: got %d: %s", resp.Status, resp.Body)
	}
	d := decode(t, resp)
	if d.ClockOffsetMS != 300000 {
		t.Errorf("clock_offset_ms: got %d, want 300000", d.ClockOffsetMS)
	}
	if d.Accepted[0].Timestamp != "2026-12-04T14:59:00.000Z" || d.Accepted[0].OriginalTimestamp != "2026-12-04T15:04:00.000Z" {
		t.Errorf("accepted: got %+v", d.Accepted[0])
	}
	out, err := dynamodb.NewFromConfig(s.emu.Config).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.res.Table),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "skew#s-1"},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "skew"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatal("no skew flag item for session s-1")
	}
	if got := out.Item["offset_ms"].(*ddbtypes.AttributeValueMemberN).Value; got != "300000" {
		t.Errorf("offset_ms: got %s, want 300000", got)
	}
	checkAgainstOpenAPI(t, resp)
}

// Fakes for the failure paths kumo cannot produce.

type fakeQueue struct{ fail func(id string) bool }

func (f fakeQueue) Send(_ context.Context, msgs []queue.Outgoing) map[string]error {
	failed := map[string]error{}
	for _, m := range msgs {
		if f.fail(m.ID) {
			failed[m.ID] = errors.New("ServiceUnavailable")
		}
	}
	return failed
}

type fakeFlags struct{ err error }

func (f fakeFlags) Record(context.Context, skew.Flag) error { return f.err }

type fakeAuth struct{ err error }

func (f fakeAuth) Authenticate(context.Context, string) (string, error) { return "test-app", f.err }

func fakeService(auth Authenticator, q Enqueuer, flags FlagRecorder) (*Service, *telemetry.Recorder) {
	metrics := telemetry.NewRecorder(io.Discard, "ingest")
	return NewService(testConfig(), auth, q, flags, metrics, slog.New(slog.NewTextHandler(io.Discard, nil))), metrics
}

func TestHandleReportsEnqueueFailures(t *testing.T) {
	t.Run("all failed", func(t *testing.T) {
		svc, _ := fakeService(fakeAuth{}, fakeQueue{fail: func(string) bool { return true }}, fakeFlags{})
		resp := svc.Handle(context.Background(), post(batchJSON(t, "", appEvent("a"), appEvent("b"))))
		if resp.Status != 503 || resp.Headers["Retry-After"] == "" {
			t.Errorf("status: got %d with Retry-After %q, want 503 with Retry-After", resp.Status, resp.Headers["Retry-After"])
		}
		if d := decode(t, resp); len(d.Retryable) != 2 || d.Retryable[0].Code != journey.CodeEnqueueFailed {
			t.Errorf("retryable: got %+v", d.Retryable)
		}
		checkAgainstOpenAPI(t, resp)
	})
	t.Run("one failed", func(t *testing.T) {
		svc, _ := fakeService(fakeAuth{}, fakeQueue{fail: func(id string) bool { return id == "1" }}, fakeFlags{})
		resp := svc.Handle(context.Background(), post(batchJSON(t, "", appEvent("a"), appEvent("b"))))
		d := decode(t, resp)
		if resp.Status != 202 || len(d.Accepted) != 1 || len(d.Retryable) != 1 || d.Retryable[0].Index != 1 {
			t.Errorf("got %d %+v, want 202 with event 1 retryable", resp.Status, d)
		}
	})
}

func TestHandleSurvivesFlagWriteFailure(t *testing.T) {
	svc, metrics := fakeService(fakeAuth{}, fakeQueue{fail: func(string) bool { return false }}, fakeFlags{err: errors.New("throttled")})
	ev := appEvent("a")
	ev["timestamp"] = "2026-12-04T15:09:00Z"
	resp := svc.Handle(context.Background(), post(batchJSON(t, "", ev)))
	if resp.Status != 202 {
		t.Errorf("status: got %d, want 202", resp.Status)
	}
	if metrics.Total("skew_flag_failures") != 1 {
		t.Errorf("skew_flag_failures: got %v, want 1", metrics.Total("skew_flag_failures"))
	}
}

func TestHandleKeysUnavailable(t *testing.T) {
	svc, _ := fakeService(fakeAuth{err: errors.New("secrets manager down")}, fakeQueue{}, fakeFlags{})
	resp := svc.Handle(context.Background(), post(batchJSON(t, "", appEvent("a"))))
	if resp.Status != 503 {
		t.Errorf("status: got %d, want 503", resp.Status)
	}
	if strings.Contains(string(resp.Body), "secrets manager down") {
		t.Errorf("internal error text reached the client: %s", resp.Body)
	}
	checkAgainstOpenAPI(t, resp)
}

func TestHandleRejectsEventTooLargeForQueue(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 2048
	metrics := telemetry.NewRecorder(io.Discard, "ingest")
	svc := NewService(cfg, fakeAuth{}, fakeQueue{fail: func(string) bool { return false }}, fakeFlags{}, metrics,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	big := appEvent("big")
	big["properties"] = map[string]any{"note": strings.Repeat("x", 3000)}
	resp := svc.Handle(context.Background(), post(batchJSON(t, "", appEvent("small"), big)))
	d := decode(t, resp)
	if resp.Status != 202 || len(d.Rejected) != 1 || d.Rejected[0].Code != journey.CodeEventTooLarge || d.Rejected[0].Index != 1 {
		t.Errorf("got %d %+v, want event 1 rejected as too large", resp.Status, d.Rejected)
	}
}
