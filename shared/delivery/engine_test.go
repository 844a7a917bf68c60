package delivery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
)

func TestDeliverDeadLettersBadMessages(t *testing.T) {
	tests := []struct {
		name       string
		message    func(h *harness) queue.Message
		external   bool
		wantReason string
	}{
		{
			name:       "body not JSON",
			message:    func(h *harness) queue.Message { return queue.Message{ID: "m-1", Body: "{"} },
			wantReason: ReasonMalformed,
		},
		{
			name: "missing idempotency key",
			message: func(h *harness) queue.Message {
				return h.message("", journey.TypeApp, time.Minute)
			},
			wantReason: ReasonMalformed,
		},
		{
			name: "unknown event type",
			message: func(h *harness) queue.Message {
				return h.message("k1", "EMAIL", time.Minute)
			},
			wantReason: ReasonMalformed,
		},
		{
			name: "older than an hour",
			message: func(h *harness) queue.Message {
				return h.message("k1", journey.TypeApp, time.Hour+time.Second)
			},
			wantReason: ReasonExpired,
		},
		{
			name: "custom without configuration",
			message: func(h *harness) queue.Message {
				return h.message("k1", journey.TypeCustom, time.Minute)
			},
			wantReason: ReasonMisconfigured,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			h.cfg.ExternalEnabled = tt.external
			h.cfg.Instances = 1

			out := h.deliver(t, tt.message(h))

			if out[0].Kind != DeadLettered {
				t.Fatalf("kind: got %v, want dead_lettered", out[0].Kind)
			}
			if out[0].Reason != tt.wantReason {
				t.Errorf("reason: got %q, want %q", out[0].Reason, tt.wantReason)
			}
			if len(h.dead.got) != 1 || h.dead.got[0].reason != tt.wantReason {
				t.Errorf("dead-letter queue: got %+v, want one %s", h.dead.got, tt.wantReason)
			}
			if h.sender.requests != 0 {
				t.Errorf("requests: got %d, want 0", h.sender.requests)
			}
			if got := h.metrics.Total(MetricDeadLetteredPrefix + tt.wantReason); got != 1 {
				t.Errorf("dead_lettered_%s: got %v, want 1", tt.wantReason, got)
			}
		})
	}
}

func TestDeliverSettlesDeliveredEvent(t *testing.T) {
	h := newHarness()
	msg := h.message("k1", journey.TypeApp, 2*time.Second)

	out := h.deliver(t, msg)

	if out[0].Kind != Settled || out[0].MessageID != msg.ID {
		t.Fatalf("got %+v, want settled %s", out[0], msg.ID)
	}
	if h.claims.delivered["k1"] != 1 {
		t.Errorf("marked delivered: got %d, want 1", h.claims.delivered["k1"])
	}
	if got := h.metrics.Total(MetricDelivered); got != 1 {
		t.Errorf("delivered: got %v, want 1", got)
	}
	if got := h.metrics.Total(MetricDeliveryLag + ".samples"); got != 1 {
		t.Errorf("delivery_lag samples: got %v, want 1", got)
	}
	if len(h.breaker.releases) != 1 || !h.breaker.releases[0] {
		t.Errorf("breaker releases: got %v, want [true]", h.breaker.releases)
	}
}

func TestDeliverSkipsDuplicate(t *testing.T) {
	h := newHarness()
	h.claims.set("k1", idempotency.Claim{State: idempotency.Delivered})

	out := h.deliver(t, h.message("k1", journey.TypeWeb, time.Minute))

	if out[0].Kind != Settled {
		t.Fatalf("kind: got %v, want settled", out[0].Kind)
	}
	if h.sender.requests != 0 {
		t.Errorf("requests: got %d, want 0", h.sender.requests)
	}
	if got := h.metrics.Total(MetricDuplicatesSkipped); got != 1 {
		t.Errorf("duplicates_skipped: got %v, want 1", got)
	}
}

func TestDeliverWaitsForOtherClaim(t *testing.T) {
	h := newHarness()
	h.claims.set("k1", idempotency.Claim{State: idempotency.HeldByOther, HeldUntil: h.now.Add(40 * time.Second)})

	out := h.deliver(t, h.message("k1", journey.TypeApp, time.Minute))

	if out[0].Kind != Retry {
		t.Fatalf("kind: got %v, want retry", out[0].Kind)
	}
	if v := out[0].Visibility; v < 40*time.Second || v > 48*time.Second {
		t.Errorf("visibility: got %v, want 40s to 48s", v)
	}
	if h.sender.requests != 0 {
		t.Errorf("requests: got %d, want 0", h.sender.requests)
	}
}

func TestDeliverRetriesWhenClaimFails(t *testing.T) {
	h := newHarness()
	h.claims.claimErr = errors.New("table unavailable")

	out := h.deliver(t, h.message("k1", journey.TypeApp, time.Minute))

	if out[0].Kind != Retry || out[0].Visibility != DefaultRetryBase {
		t.Errorf("got %+v, want retry after %v", out[0], DefaultRetryBase)
	}
	if h.sender.requests != 0 {
		t.Errorf("requests: got %d, want 0", h.sender.requests)
	}
}

func TestDeliverDeadLettersRejectedEvent(t *testing.T) {
	h := newHarness()
	h.sender.answer("bad", genesys.Result{Outcome: genesys.Permanent, Status: 400, Code: "bad.request",
		Detail: "status 400: code bad.request: eventName must match ^[A-Za-z0-9_]+$"})

	out := h.deliver(t,
		h.message("good", journey.TypeApp, time.Minute),
		h.message("bad", journey.TypeApp, time.Minute))

	if out[0].Kind != Settled {
		t.Errorf("good event: got %v, want settled", out[0].Kind)
	}
	if out[1].Kind != DeadLettered || out[1].Reason != ReasonRejected {
		t.Fatalf("bad event: got %+v, want dead-lettered as rejected", out[1])
	}
	wantDetail := "status 400: code bad.request: eventName must match ^[A-Za-z0-9_]+$"
	if out[1].Detail != wantDetail {
		t.Errorf("detail: got %q, want %q", out[1].Detail, wantDetail)
	}
	if h.claims.released["bad"] != 1 {
		t.Errorf("claim releases: got %d, want 1", h.claims.released["bad"])
	}
	if h.sender.sentCount("bad") != 1 {
		t.Errorf("requests for the bad event: got %d, want 1", h.sender.sentCount("bad"))
	}
}

func TestDeliverMisconfiguredReturnsMessage(t *testing.T) {
	h := newHarness()
	h.sender.answer("k1", genesys.Result{Outcome: genesys.Misconfigured, Status: 404, Code: "not.found"})
	msg := h.message("k1", journey.TypeApp, time.Minute)
	msg.ReceiveCount = 3

	out := h.deliver(t, msg)

	if out[0].Kind != Retry {
		t.Fatalf("kind: got %v, want retry", out[0].Kind)
	}
	if v := out[0].Visibility; v < 2*time.Minute || v > 2*time.Minute+24*time.Second {
		t.Errorf("visibility: got %v, want 2m plus jitter", v)
	}
	if got := h.metrics.Total(MetricMisconfigured); got != 1 {
		t.Errorf("misconfigured: got %v, want 1", got)
	}
	if len(h.breaker.releases) != 1 || h.breaker.releases[0] {
		t.Errorf("breaker releases: got %v, want [false]", h.breaker.releases)
	}
	if len(h.dead.got) != 0 {
		t.Errorf("dead letters: got %+v, want none", h.dead.got)
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name           string
		retryAfter     time.Duration
		wantKind       Kind
		wantRequests   int
		wantVisibility time.Duration
	}{
		{name: "fits in the invocation", retryAfter: 3 * time.Second, wantKind: Settled, wantRequests: 2},
		{name: "past the deadline", retryAfter: 2 * time.Minute, wantKind: Retry, wantRequests: 1,
			wantVisibility: 2 * time.Minute},
		{name: "capped", retryAfter: time.Hour, wantKind: Retry, wantRequests: 1,
			wantVisibility: DefaultMaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			h.sender.answer("k1", genesys.Result{Outcome: genesys.Retry, Status: 429,
				RetryAfter: tt.retryAfter, HasRetryAfter: true})

			out := h.deliver(t, h.message("k1", journey.TypeApp, time.Minute))

			if out[0].Kind != tt.wantKind {
				t.Fatalf("kind: got %v, want %v", out[0].Kind, tt.wantKind)
			}
			if got := h.sender.sentCount("k1"); got != tt.wantRequests {
				t.Errorf("requests: got %d, want %d", got, tt.wantRequests)
			}
			if got := h.metrics.Total(MetricThrottled); got != 1 {
				t.Errorf("throttled: got %v, want 1", got)
			}
			if tt.wantKind == Settled && (len(h.sleeps) == 0 || h.sleeps[0] != tt.retryAfter) {
				t.Errorf("sleeps: got %v, want first %v", h.sleeps, tt.retryAfter)
			}
			v := out[0].Visibility
			if tt.wantKind == Retry && (v < tt.wantVisibility || v > tt.wantVisibility*6/5+1) {
				t.Errorf("visibility: got %v, want %v plus jitter", v, tt.wantVisibility)
			}
			if tt.wantKind == Retry && h.claims.released["k1"] != 1 {
				t.Errorf("claim releases: got %d, want 1", h.claims.released["k1"])
			}
		})
	}
}

func TestDeliverBacksOffServerErrors(t *testing.T) {
	h := newHarness()
	h.cfg.MaxAttempts = 3
	for range 3 {
		h.sender.answer("k1", genesys.Result{Outcome: genesys.Retry, Status: 503})
	}
	msg := h.message("k1", journey.TypeApp, time.Minute)
	msg.ReceiveCount = 2

	out := h.deliver(t, msg)

	if out[0].Kind != Retry {
		t.Fatalf("kind: got %v, want retry", out[0].Kind)
	}
	if got := h.sender.sentCount("k1"); got != 3 {
		t.Errorf("requests: got %d, want 3", got)
	}
	if len(h.sleeps) != 2 || h.sleeps[1] < h.sleeps[0] {
		t.Errorf("sleeps: got %v, want two growing waits", h.sleeps)
	}
	if v := out[0].Visibility; v < time.Minute || v > 72*time.Second {
		t.Errorf("visibility: got %v, want 1m plus jitter", v)
	}
	if got := h.metrics.Total(MetricRetried); got != 3 {
		t.Errorf("retried: got %v, want 3", got)
	}
	for i, ok := range h.breaker.releases {
		if ok {
			t.Errorf("breaker release %d: got success, want failure", i)
		}
	}
}

func TestDeliverResendsUncertainEvent(t *testing.T) {
	h := newHarness()
	h.sender.answer("k1", genesys.Result{Outcome: genesys.Retry, Uncertain: true, Err: errors.New("timeout")})

	out := h.deliver(t, h.message("k1", journey.TypeApp, time.Minute))

	if out[0].Kind != Settled {
		t.Fatalf("kind: got %v, want settled", out[0].Kind)
	}
	if got := h.sender.sentCount("k1"); got != 2 {
		t.Errorf("requests: got %d, want 2", got)
	}
	if got := h.metrics.Total(MetricPossibleDuplicates); got != 1 {
		t.Errorf("possible_duplicates: got %v, want 1", got)
	}
}

func TestDeliverBreakerOpenSendsNothing(t *testing.T) {
	tests := []struct {
		name          string
		openFor       time.Duration
		receiveCount  int
		minVisibility time.Duration
	}{
		{name: "breaker reopens later", openFor: 4 * time.Minute, receiveCount: 1, minVisibility: 4 * time.Minute},
		{name: "backoff is longer", openFor: 10 * time.Second, receiveCount: 4, minVisibility: 4 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			h.breaker.openUntil = h.now.Add(tt.openFor)
			msg := h.message("k1", journey.TypeApp, time.Minute)
			msg.ReceiveCount = tt.receiveCount

			out := h.deliver(t, msg)

			if out[0].Kind != Retry {
				t.Fatalf("kind: got %v, want retry", out[0].Kind)
			}
			if v := out[0].Visibility; v < tt.minVisibility || v > tt.minVisibility*6/5+1 {
				t.Errorf("visibility: got %v, want %v plus jitter", v, tt.minVisibility)
			}
			if h.sender.requests != 0 {
				t.Errorf("requests: got %d, want 0", h.sender.requests)
			}
			if h.claims.released["k1"] != 1 {
				t.Errorf("claim releases: got %d, want 1", h.claims.released["k1"])
			}
		})
	}
}

func TestDeliverKeepsMessageWhenDeadLetterFails(t *testing.T) {
	h := newHarness()
	h.dead.fail = true

	out := h.deliver(t, queue.Message{ID: "m-1", Body: "not json"})

	if out[0].Kind != Retry {
		t.Errorf("kind: got %v, want retry", out[0].Kind)
	}
}

func TestDeliverSettlesWhenMarkFails(t *testing.T) {
	h := newHarness()
	h.claims.markErr = errors.New("table unavailable")

	out := h.deliver(t, h.message("k1", journey.TypeApp, time.Minute))

	if out[0].Kind != Settled {
		t.Errorf("kind: got %v, want settled", out[0].Kind)
	}
	if got := h.sender.sentCount("k1"); got != 1 {
		t.Errorf("requests: got %d, want 1", got)
	}
}

func TestDeliverExternalBatch(t *testing.T) {
	h := newHarness()
	h.cfg.ExternalBatchSize = 2
	h.sender.answer("c2", genesys.Result{Outcome: genesys.Retry, Status: 429, RetryAfter: time.Second, HasRetryAfter: true})
	h.sender.answer("c3", genesys.Result{Outcome: genesys.Permanent, Status: 400, Detail: "missing identifiers"})

	out := h.deliver(t,
		h.message("c1", journey.TypeCustom, time.Minute),
		h.message("c2", journey.TypeCustom, time.Minute),
		h.message("c3", journey.TypeCustom, time.Minute))

	want := []Kind{Settled, Settled, DeadLettered}
	for i, w := range want {
		if out[i].Kind != w {
			t.Errorf("event %d: got %v, want %v", i+1, out[i].Kind, w)
		}
	}
	if got := []int{h.sender.sentCount("c1"), h.sender.sentCount("c2"), h.sender.sentCount("c3")}; got[0] != 1 || got[1] != 2 || got[2] != 1 {
		t.Errorf("sends per event: got %v, want [1 2 1]", got)
	}
	if h.sender.requests != 3 {
		t.Errorf("requests: got %d, want 3 (two batches and one resend)", h.sender.requests)
	}
}

func TestDeliverExternalRefreshesRejectedToken(t *testing.T) {
	h := newHarness()
	h.sender.answer("c1", genesys.Result{Outcome: genesys.Unauthorized, Status: 401})

	out := h.deliver(t, h.message("c1", journey.TypeCustom, time.Minute))

	if out[0].Kind != Settled {
		t.Fatalf("kind: got %v, want settled", out[0].Kind)
	}
	if len(h.tokens.refreshed) != 1 || h.tokens.refreshed[0] != "token-1" {
		t.Errorf("refreshed: got %v, want [token-1]", h.tokens.refreshed)
	}
	if strings.Join(h.sender.tokens, ",") != "token-1,token-2" {
		t.Errorf("tokens sent: got %v, want [token-1 token-2]", h.sender.tokens)
	}
}

func TestDeliverExternalRefreshesOnlyOnce(t *testing.T) {
	h := newHarness()
	h.sender.answer("c1",
		genesys.Result{Outcome: genesys.Unauthorized, Status: 401},
		genesys.Result{Outcome: genesys.Unauthorized, Status: 401})

	out := h.deliver(t, h.message("c1", journey.TypeCustom, time.Minute))

	if out[0].Kind != Retry {
		t.Fatalf("kind: got %v, want retry", out[0].Kind)
	}
	if len(h.tokens.refreshed) != 1 {
		t.Errorf("refreshes: got %d, want 1", len(h.tokens.refreshed))
	}
	if got := h.metrics.Total(MetricMisconfigured); got != 1 {
		t.Errorf("misconfigured: got %v, want 1", got)
	}
}

func TestDoubled(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want time.Duration
	}{
		{name: "first receive", n: 1, want: 30 * time.Second},
		{name: "no receive count", n: 0, want: 30 * time.Second},
		{name: "fifth receive", n: 5, want: 8 * time.Minute},
		{name: "capped", n: 6, want: 15 * time.Minute},
		{name: "far past the cap", n: 1000, want: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := doubled(30*time.Second, 15*time.Minute, tt.n); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutageArithmetic(t *testing.T) {
	// The package documentation promises that an hour-long outage uses fewer
	// than the queue's 30 receives.
	var total time.Duration
	receives := 0
	for total < time.Hour {
		receives++
		total += doubled(DefaultRetryBase, DefaultRetryMax, receives)
	}
	if receives != 8 {
		t.Errorf("receives to cover an hour: got %d, want 8", receives)
	}
	if total != 3630*time.Second {
		t.Errorf("time covered: got %v, want 3630s", total)
	}
}

func TestRejectionDetail(t *testing.T) {
	tests := []struct {
		name string
		res  genesys.Result
		want string
	}{
		{name: "client detail", res: genesys.Result{Status: 400, Detail: "status 400: code bad.request: invalid eventName"},
			want: "status 400: code bad.request: invalid eventName"},
		{name: "status and code only", res: genesys.Result{Status: 422, Code: "invalid.value"},
			want: "status 422: code invalid.value"},
		{name: "encoding error", res: genesys.Result{Err: errors.New("missing screen_name")},
			want: "status 0: missing screen_name"},
		{name: "long detail cut", res: genesys.Result{Detail: strings.Repeat("x", 400)},
			want: strings.Repeat("x", maxDetailExcerpt) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rejectionDetail(tt.res); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
