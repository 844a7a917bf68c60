package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Phase is a stretch of a run with a constant total send rate.
type Phase struct {
	Name            string
	Duration        time.Duration
	EventsPerSecond float64
}

// Driver sends the devices' batches to the relay's HTTP API.
type Driver struct {
	APIURL    string
	AppKey    string
	Devices   []*Device
	BatchSize int

	// ResendShare is the share of batches sent again whole, as a client does
	// when its request times out after the relay received it.
	ResendShare float64

	// Naive, when set, receives every batch too, so that the plain client
	// sends the same events.
	Naive *Naive

	Client *http.Client
	Ledger *Ledger
	Seed   uint64

	// MaxInFlight caps the requests in flight at once; default 64.
	MaxInFlight int
}

// maxAttempts is how often a device sends a batch that ingest could not
// enqueue (503, 429, transport errors or retryable events).
const maxAttempts = 4

// Run sends batches at each phase's rate in turn, round robin over the
// devices, and returns once every request has got its response. phaseStart,
// when not nil, is called as each phase begins.
func (d *Driver) Run(ctx context.Context, phases []Phase, phaseStart func(Phase)) error {
	rng := rand.New(rand.NewPCG(d.Seed, 7))
	limit := d.MaxInFlight
	if limit <= 0 {
		limit = 64
	}
	inFlight := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()

	next := 0
	for _, phase := range phases {
		if phaseStart != nil {
			phaseStart(phase)
		}
		if phase.EventsPerSecond <= 0 {
			if !sleepCtx(ctx, phase.Duration) {
				return ctx.Err()
			}
			continue
		}
		interval := time.Duration(float64(d.BatchSize) / phase.EventsPerSecond * float64(time.Second))
		start := time.Now()
		for k := 0; ; k++ {
			at := start.Add(time.Duration(k) * interval)
			if at.Sub(start) >= phase.Duration {
				break
			}
			if !sleepCtx(ctx, time.Until(at)) {
				return ctx.Err()
			}
			device := d.Devices[next%len(d.Devices)]
			next++
			batch := device.NextBatch(d.BatchSize, time.Now())
			resend := rng.Float64() < d.ResendShare
			if d.Naive != nil {
				d.Naive.Enqueue(batch, resend)
			}
			inFlight <- struct{}{}
			wg.Go(func() {
				defer func() { <-inFlight }()
				d.send(ctx, batch, resend)
			})
		}
	}
	return nil
}

// send posts a batch, and again when the client simulates a timeout or
// ingest could not enqueue some of it.
func (d *Driver) send(ctx context.Context, batch Batch, resend bool) {
	d.Ledger.sent(batch, time.Now())
	if resend {
		// The first response is discarded, as if the client had timed out.
		_, _ = d.post(ctx, batch)
		d.Ledger.mu.Lock()
		d.Ledger.Resent += len(batch.Events)
		d.Ledger.mu.Unlock()
	}
	for attempt := range maxAttempts {
		retry, err := d.post(ctx, batch)
		if err == nil && !retry {
			return
		}
		if attempt == maxAttempts-1 || !sleepCtx(ctx, time.Duration(500<<attempt)*time.Millisecond) {
			d.Ledger.mu.Lock()
			d.Ledger.RetryableEnd += len(batch.Events)
			d.Ledger.mu.Unlock()
			return
		}
	}
}

// ingestAnswer is the part of ingest's response the driver reads.
type ingestAnswer struct {
	Accepted []struct {
		Index int `json:"index"`
	} `json:"accepted"`
	Rejected []struct {
		Index int    `json:"index"`
		Code  string `json:"code"`
	} `json:"rejected"`
	Retryable []struct {
		Index int `json:"index"`
	} `json:"retryable"`
}

// post sends the batch once and records the response. It returns whether the
// batch should be sent again because part of it was not enqueued.
func (d *Driver) post(ctx context.Context, batch Batch) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.APIURL+"/v1/events", bytes.NewReader(batch.Body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", d.AppKey)
	resp, err := d.client().Do(req)
	if err != nil {
		d.Ledger.recordResponse(batch, 0, nil, nil)
		return true, fmt.Errorf("post batch: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		d.Ledger.recordResponse(batch, 0, nil, nil)
		return true, fmt.Errorf("post batch: read response: %w", err)
	}

	var answer ingestAnswer
	_ = json.Unmarshal(body, &answer) // a body that is not ingest's JSON accepts nothing
	var accepted []int
	for _, a := range answer.Accepted {
		accepted = append(accepted, a.Index)
	}
	rejected := map[int]string{}
	for _, r := range answer.Rejected {
		if _, seen := rejected[r.Index]; !seen {
			rejected[r.Index] = r.Code
		}
	}
	d.Ledger.recordResponse(batch, resp.StatusCode, accepted, rejected)
	retry := resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests ||
		len(answer.Retryable) > 0
	return retry, nil
}

func (d *Driver) client() *http.Client {
	if d.Client == nil {
		return http.DefaultClient
	}
	return d.Client
}

// sleepCtx waits for d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
