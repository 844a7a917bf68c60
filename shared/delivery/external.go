package delivery

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

// sendBatches sends CUSTOM events as external events, at most
// Config.ExternalBatchSize per request, one request at a time.
func (r *run) sendBatches(ctx context.Context, items []*item) {
	for len(items) > 0 {
		n := min(len(items), r.cfg.ExternalBatchSize)
		r.sendBatch(ctx, items[:n])
		items = items[n:]
	}
}

// sendBatch sends one batch until every event in it is settled, dead-lettered
// or returned to the queue. Only the entities Genesys lists as retryable are
// sent again. A 401 gets one token refresh and an immediate resend.
func (r *run) sendBatch(ctx context.Context, pending []*item) {
	token, err := r.deps.Tokens.Token(ctx)
	if err != nil {
		r.tokenFailed(ctx, pending, err)
		return
	}
	refreshed := false
	for attempt := 1; len(pending) > 0; {
		pending = r.dropExpired(ctx, pending)
		if len(pending) == 0 {
			return
		}
		if err := r.awaitTurn(ctx, r.external); err != nil {
			r.cfg.Logger.InfoContext(ctx, "no send slot before the deadline, messages returned to the queue",
				"messages", len(pending), "error", err)
			r.giveBackAll(ctx, pending)
			return
		}
		release, err := r.deps.Breaker.Acquire(ctx)
		if err != nil {
			r.breakerRefused(ctx, pending, err)
			return
		}

		results := r.deps.Sender.SendExternal(ctx, token, events(pending))
		if len(results) != len(pending) {
			results = uniform(len(pending), genesys.Result{Outcome: genesys.Retry,
				Err: fmt.Errorf("send external events: got %d results for %d events", len(results), len(pending))})
		}
		release(batchHealthy(results))

		if unauthorized(results) && !refreshed {
			refreshed = true
			if token, err = r.deps.Tokens.Refresh(ctx, token); err != nil {
				r.tokenFailed(ctx, pending, err)
				return
			}
			continue
		}

		pending, err = r.classifyBatch(ctx, pending, results, attempt)
		if err != nil {
			return
		}
		attempt++
	}
}

// classifyBatch applies classify to each entity and waits before the next
// attempt for those retried in-process, returning them.
func (r *run) classifyBatch(ctx context.Context, items []*item, results []genesys.Result, attempt int) ([]*item, error) {
	var again []*item
	var wait time.Duration
	for i, it := range items {
		if w, retry := r.classify(ctx, it, results[i], r.external, attempt); retry {
			again = append(again, it)
			wait = max(wait, w)
		}
	}
	if len(again) == 0 {
		return nil, nil
	}
	if err := r.cfg.Sleep(ctx, wait); err != nil {
		for _, it := range again {
			r.giveBack(ctx, it, wait)
		}
		return nil, err
	}
	return again, nil
}

func (r *run) dropExpired(ctx context.Context, items []*item) []*item {
	kept := items[:0:0]
	for _, it := range items {
		if !r.expired(ctx, it) {
			kept = append(kept, it)
		}
	}
	return kept
}

func (r *run) tokenFailed(ctx context.Context, items []*item, err error) {
	r.cfg.Logger.ErrorContext(ctx, "access token unavailable, messages returned to the queue",
		"messages", len(items), "error", err)
	r.giveBackAll(ctx, items)
}

func (r *run) giveBackAll(ctx context.Context, items []*item) {
	for _, it := range items {
		r.giveBack(ctx, it, jitter(r.messageBackoff(it)))
	}
}

func events(items []*item) []journey.Event {
	out := make([]journey.Event, len(items))
	for i, it := range items {
		out[i] = it.event
	}
	return out
}

func uniform(n int, res genesys.Result) []genesys.Result {
	out := make([]genesys.Result, n)
	for i := range out {
		out[i] = res
	}
	return out
}

func unauthorized(results []genesys.Result) bool {
	for _, res := range results {
		if res.Outcome == genesys.Unauthorized || res.Status == http.StatusUnauthorized {
			return true
		}
	}
	return false
}

// batchHealthy counts a batch as a success for the breaker unless every
// entity failed in a way that counts against Genesys.
func batchHealthy(results []genesys.Result) bool {
	for _, res := range results {
		if genesysHealthy(res) {
			return true
		}
	}
	return len(results) == 0
}
