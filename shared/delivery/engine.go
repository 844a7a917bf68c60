package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/ratelimiter"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
)

// Deps are the parts the engine drives. Tokens may be nil when
// Config.ExternalEnabled is false.
type Deps struct {
	Sender      Sender
	Claims      Claims
	Breaker     Breaker
	Tokens      Tokens
	DeadLetters DeadLetterer

	// Leases sizes the rate shares to the delivering invocations. When it is
	// nil, each instance keeps the fixed share of budget / Config.Instances.
	Leases Leases
}

// Engine delivers queued journey events to Genesys. One Engine lives for the
// whole process, so its rate limiters span the invocations of one instance.
// It is safe for concurrent use.
type Engine struct {
	deps     Deps
	cfg      Config
	app      *lane // APP and WEB events: one request per event
	external *lane // CUSTOM events: one request per batch
	shares   *shares
}

// New returns an Engine. It panics when a required dependency is missing,
// because that is a wiring mistake in main.
func New(deps Deps, cfg Config) *Engine {
	cfg = cfg.withDefaults()
	if deps.Sender == nil || deps.Claims == nil || deps.Breaker == nil || deps.DeadLetters == nil {
		panic("delivery.New: Sender, Claims, Breaker and DeadLetters are required")
	}
	if cfg.ExternalEnabled && deps.Tokens == nil {
		panic("delivery.New: Tokens is required when ExternalEnabled is set")
	}
	e := &Engine{
		deps:     deps,
		cfg:      cfg,
		app:      newLane(time.Second, cfg.EventsPerSecond, cfg.Instances),
		external: newLane(time.Minute, cfg.RequestsPerMinute, cfg.Instances),
	}
	e.shares = newShares(deps.Leases, cfg, e.app, e.external)
	return e
}

// Begin starts one invocation and returns the function that ends it. The
// first Deliver after Begin writes the instance's rate-share lease until the
// invocation's deadline, and end deletes it, so Deliver calls between the
// two count once. Deliver calls Begin itself, so a caller needs it only for
// an invocation that calls Deliver several times, as the scheduled drain
// does. end may be called more than once. An Engine serves one invocation
// at a time, as a Lambda instance does: the lease and its refresh loop
// follow the first Begin's context.
func (e *Engine) Begin(ctx context.Context) (end func()) {
	e.shares.begin(ctx)
	var once sync.Once
	return func() {
		once.Do(func() { e.shares.end(ctx) })
	}
}

// Rates returns the instance's current share of each budget: APP and WEB
// events per second and external-events requests per minute.
func (e *Engine) Rates() (eventsPerSecond, requestsPerMinute float64) {
	return e.app.rate(), e.external.rate()
}

// lane is one rate budget: a smooth limiter at the instance's share of the
// budget plus a pause that every sender waits out after Genesys responded
// with 429 and a Retry-After.
type lane struct {
	unit   time.Duration // the period the budget is counted in
	budget float64       // permits per unit across all instances

	// limiter is replaced when the share changes, because a failsafe-go rate
	// limiter has a fixed rate.
	limiter atomic.Pointer[ratelimiter.RateLimiter[any]]

	mu          sync.Mutex
	divisor     int // the budget is divided by this number
	pausedUntil time.Time
}

func newLane(unit time.Duration, budget float64, divisor int) *lane {
	l := &lane{unit: unit, budget: budget}
	l.share(divisor)
	return l
}

// share sets the limiter to budget / divisor and reports whether the share
// changed. A sender already waiting on the old limiter keeps its permit time,
// and the new limiter grants its first permit at once. The two rates
// therefore overlap for up to one Config.Concurrency of permits per Deliver
// in progress, and the scheduled drain runs two.
func (l *lane) share(divisor int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if divisor == l.divisor {
		return false
	}
	interval := time.Duration(float64(l.unit) * float64(divisor) / l.budget)
	limiter := ratelimiter.NewSmoothWithMaxRate[any](max(interval, time.Microsecond))
	l.limiter.Store(&limiter)
	l.divisor = divisor
	return true
}

// rate returns the permits per unit of the current share.
func (l *lane) rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.budget / float64(l.divisor)
}

// acquire waits for a permit of the current limiter, for at most maxWait.
func (l *lane) acquire(ctx context.Context, maxWait time.Duration) error {
	return (*l.limiter.Load()).AcquirePermitWithMaxWait(ctx, maxWait)
}

func (l *lane) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}

func (l *lane) paused() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pausedUntil
}

// item is one message on its way through the engine.
type item struct {
	msg     queue.Message
	event   journey.Event
	created time.Time // the event's timestamp
	claimed bool
	outcome Outcome
}

func (it *item) done() bool {
	return it.outcome.Kind != 0
}

// run is one call of Deliver: its id and deadline.
type run struct {
	*Engine
	owner       string // prefix of the claim owner of each message, see ownerOf
	deadline    time.Time
	breakerSeen atomic.Bool // the open breaker was logged once in this run
}

// Deliver takes each message through decode, age check, claim, rate limit,
// circuit breaker and send, and returns one Outcome per message in order.
// Dead-lettered messages are already on the dead-letter queue when it returns.
func (e *Engine) Deliver(ctx context.Context, msgs []queue.Message) []Outcome {
	r := &run{Engine: e, owner: uuid.NewString(), deadline: e.deadline(ctx)}
	items := make([]*item, len(msgs))

	end := e.Begin(ctx)
	defer end()
	if len(msgs) > 0 {
		e.shares.join(ctx, r.deadline)
	}

	// Each APP or WEB event is sent as soon as its claim is taken, so that
	// claims overlap with the sends of other events.
	g := new(errgroup.Group)
	g.SetLimit(e.cfg.Concurrency)
	for i, m := range msgs {
		items[i] = &item{msg: m}
		g.Go(func() error {
			it := items[i]
			r.prepare(ctx, it)
			if !it.done() && it.event.Type != journey.TypeCustom {
				r.sendOne(ctx, it)
			}
			return nil
		})
	}
	_ = g.Wait()

	// CUSTOM events go out together, in batched external-events requests.
	var batched []*item
	for _, it := range items {
		if !it.done() {
			batched = append(batched, it)
		}
	}
	r.sendBatches(ctx, batched)

	out := make([]Outcome, len(items))
	for i, it := range items {
		out[i] = it.outcome
		out[i].MessageID = it.msg.ID
	}
	return out
}

// ownerOf returns the claim owner of one message in this run. Two messages of
// one batch may carry the same idempotency key (a batch the app sent twice),
// so the owner names the message and only one of them passes the claim. An
// SDK retry of the same claim still recognises its own write.
func (r *run) ownerOf(it *item) string {
	return r.owner + "/" + it.msg.ID
}

func (e *Engine) deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return e.cfg.Now().Add(e.cfg.ClaimTTL)
}

// remaining is the time left before the invocation's deadline less the wait margin.
func (r *run) remaining() time.Duration {
	return r.deadline.Sub(r.cfg.Now()) - r.cfg.WaitMargin
}

// prepare decodes the message, checks its age and claims its idempotency key.
// It leaves the item without an outcome only when the event is to be sent.
func (r *run) prepare(ctx context.Context, it *item) {
	event, created, err := decode(it.msg.Body)
	if err != nil {
		r.deadLetter(ctx, it, ReasonMalformed, err.Error())
		return
	}
	it.event, it.created = event, created

	if r.expired(ctx, it) {
		return
	}
	if event.Type == journey.TypeCustom && !r.cfg.ExternalEnabled {
		r.deadLetter(ctx, it, ReasonMisconfigured, "no external-events configuration is set for CUSTOM events")
		return
	}

	claim, err := r.deps.Claims.Claim(ctx, event.IdempotencyKey, r.ownerOf(it), r.deadline)
	if err != nil {
		r.cfg.Logger.ErrorContext(ctx, "claim failed, message returned to the queue",
			"message_id", it.msg.ID, "idempotency_key", event.IdempotencyKey, "error", err)
		r.giveBack(ctx, it, r.messageBackoff(it))
		return
	}
	r.applyClaim(ctx, it, claim)
}

func (r *run) applyClaim(ctx context.Context, it *item, claim idempotency.Claim) {
	switch claim.State {
	case idempotency.Claimed:
		it.claimed = true
	case idempotency.Delivered:
		r.cfg.Metrics.Add(MetricDuplicatesSkipped, 1)
		r.cfg.Logger.InfoContext(ctx, "event already delivered, message settled",
			"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey)
		it.outcome = Outcome{Kind: Settled}
	default:
		wait := max(claim.HeldUntil.Sub(r.cfg.Now()), minHeldVisibility)
		r.cfg.Logger.InfoContext(ctx, "event claimed by another flush, message returned to the queue",
			"message_id", it.msg.ID, "idempotency_key", it.event.IdempotencyKey,
			"held_until", claim.HeldUntil)
		r.retryLater(it, jitter(wait))
	}
}

// expired dead-letters the item when Genesys would reject it as too old and
// reports whether it did.
func (r *run) expired(ctx context.Context, it *item) bool {
	age := r.cfg.Now().Sub(it.created)
	if age <= r.cfg.MaxEventAge {
		return false
	}
	r.deadLetter(ctx, it, ReasonExpired,
		"timestamp "+it.event.Timestamp+" is older than "+r.cfg.MaxEventAge.String())
	return true
}

// errNoTime means a wait would end too close to the invocation's deadline.
var errNoTime = errors.New("not enough time left in the invocation")
