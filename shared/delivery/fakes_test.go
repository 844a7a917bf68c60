package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// fakeSender returns for each event the next scripted result for its
// idempotency key, and with genesys.Delivered once the script is used up.
type fakeSender struct {
	mu       sync.Mutex
	script   map[string][]genesys.Result
	sent     map[string]int
	tokens   []string // token of each external request
	requests int
}

func newFakeSender() *fakeSender {
	return &fakeSender{script: map[string][]genesys.Result{}, sent: map[string]int{}}
}

func (s *fakeSender) answer(key string, results ...genesys.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[key] = append(s.script[key], results...)
}

func (s *fakeSender) next(key string) genesys.Result {
	s.sent[key]++
	if len(s.script[key]) == 0 {
		return genesys.Result{Outcome: genesys.Delivered, Status: 202}
	}
	res := s.script[key][0]
	s.script[key] = s.script[key][1:]
	return res
}

func (s *fakeSender) Send(_ context.Context, event journey.Event) genesys.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	return s.next(event.IdempotencyKey)
}

func (s *fakeSender) SendExternal(_ context.Context, token string, events []journey.Event) []genesys.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.tokens = append(s.tokens, token)
	out := make([]genesys.Result, len(events))
	for i, e := range events {
		out[i] = s.next(e.IdempotencyKey)
	}
	return out
}

func (s *fakeSender) sentCount(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[key]
}

// fakeClaims is an in-memory idempotency store.
type fakeClaims struct {
	mu        sync.Mutex
	state     map[string]idempotency.Claim
	released  map[string]int
	claimErr  error
	markErr   error
	delivered map[string]int
}

func newFakeClaims() *fakeClaims {
	return &fakeClaims{
		state:     map[string]idempotency.Claim{},
		released:  map[string]int{},
		delivered: map[string]int{},
	}
}

func (c *fakeClaims) Claim(_ context.Context, key, _ string, until time.Time) (idempotency.Claim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimErr != nil {
		return idempotency.Claim{}, c.claimErr
	}
	if existing, ok := c.state[key]; ok && existing.State != idempotency.Claimed {
		return existing, nil
	}
	c.state[key] = idempotency.Claim{State: idempotency.Claimed, HeldUntil: until}
	return c.state[key], nil
}

func (c *fakeClaims) MarkDelivered(_ context.Context, key, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.markErr != nil {
		return c.markErr
	}
	c.delivered[key]++
	c.state[key] = idempotency.Claim{State: idempotency.Delivered}
	return nil
}

func (c *fakeClaims) Release(_ context.Context, key, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released[key]++
	delete(c.state, key)
	return nil
}

func (c *fakeClaims) set(key string, claim idempotency.Claim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state[key] = claim
}

// fakeBreaker is open while openUntil is set and records each release.
type fakeBreaker struct {
	mu        sync.Mutex
	openUntil time.Time
	releases  []bool
}

func (b *fakeBreaker) Acquire(context.Context) (func(bool), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.openUntil.IsZero() {
		return nil, &breaker.OpenError{Until: b.openUntil}
	}
	return func(success bool) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.releases = append(b.releases, success)
	}, nil
}

type fakeTokens struct {
	mu        sync.Mutex
	current   string
	refreshed []string // the rejected tokens passed to Refresh
}

func (t *fakeTokens) Token(context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current, nil
}

func (t *fakeTokens) Refresh(_ context.Context, rejected string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refreshed = append(t.refreshed, rejected)
	t.current = fmt.Sprintf("token-%d", len(t.refreshed)+1)
	return t.current, nil
}

type deadLetter struct {
	id, reason, detail string
}

type fakeDeadLetters struct {
	mu   sync.Mutex
	got  []deadLetter
	fail bool
}

func (d *fakeDeadLetters) DeadLetter(_ context.Context, msg queue.Message, reason, detail string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("queue unavailable")
	}
	d.got = append(d.got, deadLetter{msg.ID, reason, detail})
	return nil
}

// harness wires an Engine to fakes with a fake clock. Its sleep returns at
// once, moves the clock on and records how long it was asked to wait.
type harness struct {
	sender   *fakeSender
	claims   *fakeClaims
	breaker  *fakeBreaker
	tokens   *fakeTokens
	dead     *fakeDeadLetters
	leases   Leases // nil keeps the fixed rate share
	metrics  *telemetry.Recorder
	now      time.Time
	mu       sync.Mutex
	sleeps   []time.Duration
	cfg      Config
	deadline time.Duration // from now; zero means no deadline
}

func newHarness() *harness {
	h := &harness{
		sender:   newFakeSender(),
		claims:   newFakeClaims(),
		breaker:  &fakeBreaker{},
		tokens:   &fakeTokens{current: "token-1"},
		dead:     &fakeDeadLetters{},
		metrics:  telemetry.NewRecorder(io.Discard, "flush"),
		now:      time.Now().UTC().Truncate(time.Millisecond),
		deadline: time.Minute,
	}
	h.cfg = Config{
		EventsPerSecond:   1e6,
		RequestsPerMinute: 1e6,
		Instances:         1,
		ExternalEnabled:   true,
		WaitMargin:        5 * time.Second,
	}
	return h
}

func (h *harness) engine() *Engine {
	cfg := h.cfg
	cfg.Now = func() time.Time {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.now
	}
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.sleeps = append(h.sleeps, d)
		h.now = h.now.Add(d)
		return ctx.Err()
	}
	cfg.Metrics = h.metrics
	return New(Deps{
		Sender:      h.sender,
		Claims:      h.claims,
		Breaker:     h.breaker,
		Tokens:      h.tokens,
		DeadLetters: h.dead,
		Leases:      h.leases,
	}, cfg)
}

func (h *harness) deliver(t *testing.T, msgs ...queue.Message) []Outcome {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), h.now.Add(h.deadline))
	defer cancel()
	if h.deadline == 0 {
		ctx = context.Background()
	}
	out := h.engine().Deliver(ctx, msgs)
	if len(out) != len(msgs) {
		t.Fatalf("got %d outcomes for %d messages", len(out), len(msgs))
	}
	return out
}

// message returns a queue message holding an event of eventType created age
// before the harness's clock.
func (h *harness) message(key, eventType string, age time.Duration) queue.Message {
	event := journey.Event{
		Type:           eventType,
		Name:           "screen_viewed",
		Timestamp:      h.now.Add(-age).Format(journey.TimeLayout),
		ReceivedAt:     h.now.Add(-age).Format(journey.TimeLayout),
		UserID:         "u-1",
		SessionID:      "s-1",
		IdempotencyKey: key,
	}
	body, _ := json.Marshal(event)
	return queue.Message{ID: "m-" + key, Body: string(body), ReceiveCount: 1}
}
