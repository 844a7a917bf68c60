package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/journeyrelay/relay/shared/appkeys"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/skew"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// Route is the one path the API serves.
const Route = "/v1/events"

// Request is an HTTP request as API Gateway delivers it.
type Request struct {
	Method     string
	Path       string
	Headers    map[string]string // names in lower case
	Body       string
	IsBase64   bool
	ReceivedAt time.Time
}

// Response is the HTTP response to return.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Authenticator checks an app key and returns its id.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (string, error)
}

// Enqueuer sends messages and returns the ones that failed, by ID.
type Enqueuer interface {
	Send(ctx context.Context, msgs []queue.Outgoing) map[string]error
}

// FlagRecorder records a session whose clock was corrected.
type FlagRecorder interface {
	Record(ctx context.Context, f skew.Flag) error
}

var (
	_ Authenticator = (*appkeys.Authenticator)(nil)
	_ Enqueuer      = (*queue.Sender)(nil)
	_ FlagRecorder  = (*skew.Store)(nil)
)

// Config holds the service's limits.
type Config struct {
	MaxBodyBytes    int // body as received, after base64 decoding
	MaxDecodedBytes int // body after gzip decompression
	MaxMessageBytes int // the queue's MaximumMessageSize
	Rules           journey.Options
}

// Service handles POST /v1/events.
type Service struct {
	cfg     Config
	auth    Authenticator
	queue   Enqueuer
	flags   FlagRecorder
	metrics *telemetry.Recorder
	log     *slog.Logger
}

// NewService returns a Service. metrics and log must not be nil.
func NewService(cfg Config, auth Authenticator, q Enqueuer, flags FlagRecorder, metrics *telemetry.Recorder, log *slog.Logger) *Service {
	return &Service{cfg: cfg, auth: auth, queue: q, flags: flags, metrics: metrics, log: log}
}

// Handle serves one request. It never returns a 5xx for anything the client
// sent: 503 means the relay could not read its keys or enqueue any event, and
// the client should retry.
func (s *Service) Handle(ctx context.Context, req Request) Response {
	s.metrics.Add("requests", 1)
	if req.Path != Route {
		return errorResponse(404, "not_found", "no such route; POST events to "+Route)
	}
	if req.Method != "POST" {
		resp := errorResponse(405, "method_not_allowed", "use POST to send events")
		resp.Headers["Allow"] = "POST"
		return resp
	}

	keyID, err := s.auth.Authenticate(ctx, req.Headers["x-api-key"])
	switch {
	case errors.Is(err, appkeys.ErrUnknownKey):
		s.metrics.Add("unauthorized", 1)
		return errorResponse(401, "unauthorized", "send a valid app key in the X-Api-Key header")
	case err != nil:
		s.log.ErrorContext(ctx, "cannot read app keys", "error", err)
		s.metrics.Add("auth_unavailable", 1)
		return retryLater("the relay cannot check app keys right now; retry shortly")
	}

	body, err := s.decode(req)
	if err != nil {
		var te *transportError
		errors.As(err, &te)
		s.metrics.Add("transport_errors", 1)
		s.log.InfoContext(ctx, "request rejected", "key_id", keyID, "status", te.status, "code", te.code)
		if te.status == 400 {
			return batchResponse(400, batchResult{requestError: &journey.Violation{Index: -1, Code: te.code, Message: te.message}}, req.ReceivedAt)
		}
		return errorResponse(te.status, te.code, te.message)
	}

	result := s.process(ctx, body, req)
	s.record(ctx, keyID, result)
	return batchResponse(result.status(), result, req.ReceivedAt)
}

func (s *Service) decode(req Request) ([]byte, error) {
	if err := checkContentType(req.Headers["content-type"]); err != nil {
		return nil, err
	}
	return decodeBody(req.Body, req.IsBase64, req.Headers["content-encoding"], s.cfg.MaxBodyBytes, s.cfg.MaxDecodedBytes)
}

// batchResult is the outcome of one request: each event accepted, rejected or left to retry.
type batchResult struct {
	accepted     []acceptedEvent
	rejected     []journey.Violation
	retryable    []journey.Violation
	requestError *journey.Violation
	offset       time.Duration
	flags        int
}

type acceptedEvent struct {
	Index             int    `json:"index"`
	IdempotencyKey    string `json:"idempotency_key"`
	Timestamp         string `json:"timestamp"`
	OriginalTimestamp string `json:"original_timestamp,omitempty"`
}

func (s *Service) process(ctx context.Context, body []byte, req Request) batchResult {
	batch := journey.Parse(body, req.Headers["idempotency-key"], req.ReceivedAt, s.cfg.Rules)
	res := batchResult{rejected: batch.Rejected, requestError: batch.RequestError, offset: batch.ClockOffset}
	if batch.RequestError != nil {
		return res
	}

	msgs := make([]queue.Outgoing, 0, len(batch.Accepted))
	byID := make(map[string]journey.Accepted, len(batch.Accepted))
	for _, a := range batch.Accepted {
		msg := message(a)
		if msg.Size() > s.cfg.MaxMessageBytes {
			res.rejected = append(res.rejected, journey.Violation{Index: a.Index, Code: journey.CodeEventTooLarge,
				Message: "the event is " + strconv.Itoa(msg.Size()) + " bytes as a queue message; the maximum is " +
					strconv.Itoa(s.cfg.MaxMessageBytes) + ", so shorten its properties"})
			continue
		}
		msgs = append(msgs, msg)
		byID[msg.ID] = a
	}

	// Flags are written while the events are sent; most requests have none.
	var wg sync.WaitGroup
	if len(batch.Flags) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.flags = s.flagSessions(ctx, batch.Flags, req.ReceivedAt)
		}()
	}
	failed := s.queue.Send(ctx, msgs)
	wg.Wait()

	for _, m := range msgs {
		a := byID[m.ID]
		if err, ok := failed[m.ID]; ok {
			s.log.WarnContext(ctx, "event not enqueued", "index", a.Index, "idempotency_key", a.Event.IdempotencyKey, "error", err)
			res.retryable = append(res.retryable, journey.Violation{Index: a.Index, Code: journey.CodeEnqueueFailed,
				Message: "the relay could not queue this event; send it again with the same idempotency key"})
			continue
		}
		res.accepted = append(res.accepted, acceptedEvent{
			Index: a.Index, IdempotencyKey: a.Event.IdempotencyKey,
			Timestamp: a.Event.Timestamp, OriginalTimestamp: a.Event.OriginalTimestamp,
		})
	}
	return res
}

// message encodes an accepted event as its queue message.
func message(a journey.Accepted) queue.Outgoing {
	body := a.Event.AppendJSON(make([]byte, 0, 1024))
	return queue.Outgoing{
		ID:   strconv.Itoa(a.Index),
		Body: body,
		Attributes: map[string]string{
			queue.AttrEventType:      a.Event.Type,
			queue.AttrIdempotencyKey: a.Event.IdempotencyKey,
			queue.AttrReceivedAt:     a.Event.ReceivedAt,
		},
	}
}

// flagSessions writes one flag per skewed session. A failed write is logged
// and counted but never fails the request: the events themselves are fine.
func (s *Service) flagSessions(ctx context.Context, flags []journey.SkewFlag, seenAt time.Time) int {
	var wg sync.WaitGroup
	for _, f := range flags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.flags.Record(ctx, skew.Flag{SessionID: f.SessionID, Reason: f.Reason, Offset: f.Offset, SeenAt: seenAt})
			if err != nil {
				s.metrics.Add("skew_flag_failures", 1)
				s.log.WarnContext(ctx, "clock skew flag not written", "session_id", f.SessionID, "error", err)
			}
		}()
	}
	wg.Wait()
	return len(flags)
}

func (s *Service) record(ctx context.Context, keyID string, res batchResult) {
	s.metrics.Add("events_accepted", float64(len(res.accepted)))
	s.metrics.Add("events_rejected", float64(len(res.rejected)))
	s.metrics.Add("events_retryable", float64(len(res.retryable)))
	s.metrics.Add("skew_flagged_sessions", float64(res.flags))
	for _, v := range res.rejected {
		s.metrics.Add("rejected_"+v.Code, 1)
	}
	if res.requestError != nil {
		s.metrics.Add("rejected_"+res.requestError.Code, 1)
	}
	s.log.InfoContext(ctx, "events received", "key_id", keyID, "status", res.status(),
		"accepted", len(res.accepted), "rejected", len(res.rejected), "retryable", len(res.retryable),
		"clock_offset_ms", res.offset.Milliseconds(), "skewed_sessions", res.flags)
}
