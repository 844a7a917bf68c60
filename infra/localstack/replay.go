package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Report counts the events a replay sent and what became of them.
type Report struct {
	Requests             int
	Sent                 int            // events sent, resends included
	Accepted             int            // events ingest accepted, resends included
	Rejected             map[string]int // events ingest rejected, by reason code
	Retryable            int            // events ingest could not enqueue
	DuplicatesSuppressed int            // accepted events whose idempotency key an earlier request already had
	SkewCorrected        int            // accepted events whose timestamp ingest corrected

	// Filled in by Stack.AwaitDelivery.
	Delivered      int           // distinct accepted events the simulator received; -1 without the simulator
	DeliveredTwice int           // events the simulator accepted more than once
	DeadLettered   int           // messages in the dead-letter queue
	Undelivered    []string      // accepted events the simulator never received, as "name at timestamp"
	InProgress     bool          // the wait ended before the queue was empty and every event delivered
	LagP50, LagP99 time.Duration // from sending the request to the simulator receiving the event

	mu       sync.Mutex
	accepted map[string]acceptedEvent // by idempotency key
}

type acceptedEvent struct {
	name      string
	timestamp string // as ingest normalised it, the createdDate Genesys receives
	sentAt    time.Time
}

// Replayer sends sample traffic to the HTTP API.
type Replayer struct {
	APIURL string // base URL, such as http://127.0.0.1:3000
	AppKey string
	Client *http.Client // default http.DefaultClient
}

// Replay sends every session, all sessions at once and each session's
// requests in order, with timestamps relative to now.
func (r *Replayer) Replay(ctx context.Context, sessions []Session, now time.Time) (*Report, error) {
	report := &Report{Rejected: map[string]int{}, accepted: map[string]acceptedEvent{}}
	errs := make(chan error, len(sessions))
	var wg sync.WaitGroup
	for _, session := range sessions {
		wg.Go(func() {
			if err := r.replaySession(ctx, session, now, report); err != nil {
				errs <- fmt.Errorf("replay %s: %w", session.Name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return report, <-errs
}

func (r *Replayer) replaySession(ctx context.Context, session Session, now time.Time, report *Report) error {
	offset, err := session.clockOffset()
	if err != nil {
		return err
	}
	for i, request := range session.Requests {
		plain, wire, err := request.render(now.Add(offset))
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		sends := 1
		if request.Resend {
			sends = 2
		}
		for range sends {
			if err := r.send(ctx, request, plain, wire, report); err != nil {
				return fmt.Errorf("request %d: %w", i, err)
			}
		}
	}
	return nil
}

// ingestResponse is the part of ingest's response the replay counts.
type ingestResponse struct {
	Accepted  []acceptedItem `json:"accepted"`
	Rejected  []violation    `json:"rejected"`
	Retryable []violation    `json:"retryable"`
	Code      string         `json:"code"` // set on a response to the request as a whole
}

type acceptedItem struct {
	Index             int    `json:"index"`
	IdempotencyKey    string `json:"idempotency_key"`
	Timestamp         string `json:"timestamp"`
	OriginalTimestamp string `json:"original_timestamp"`
}

type violation struct {
	Index int    `json:"index"`
	Code  string `json:"code"`
}

func (r *Replayer) send(ctx context.Context, request TrafficRequest, plain, wire []byte, report *Report) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.APIURL+"/v1/events", bytes.NewReader(wire))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "relay-local-replay")
	req.Header.Set("X-Api-Key", r.AppKey)
	if request.AppKey != "" {
		req.Header.Set("X-Api-Key", request.AppKey)
	}
	if request.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}

	sentAt := time.Now()
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	var decoded ingestResponse
	if err := json.Unmarshal(body, &decoded); err != nil {
		return fmt.Errorf("status %d with a body that is not ingest's JSON: %.200s", resp.StatusCode, body)
	}

	report.record(eventNames(plain), decoded, sentAt)
	return nil
}

// record counts one response.
func (report *Report) record(names []string, resp ingestResponse, sentAt time.Time) {
	report.mu.Lock()
	defer report.mu.Unlock()
	report.Requests++
	report.Sent += len(names)

	if len(resp.Accepted) == 0 && len(resp.Rejected) == 0 && len(resp.Retryable) == 0 {
		report.Rejected[resp.Code] += len(names)
		return
	}
	rejected := map[int]bool{}
	for _, v := range resp.Rejected {
		if v.Index < 0 {
			report.Rejected[v.Code] += len(names)
			return
		}
		if !rejected[v.Index] {
			rejected[v.Index] = true
			report.Rejected[v.Code]++
		}
	}
	report.Retryable += len(resp.Retryable)

	for _, a := range resp.Accepted {
		report.Accepted++
		if a.OriginalTimestamp != "" {
			report.SkewCorrected++
		}
		if _, seen := report.accepted[a.IdempotencyKey]; seen {
			report.DuplicatesSuppressed++
			continue
		}
		name := ""
		if a.Index >= 0 && a.Index < len(names) {
			name = names[a.Index]
		}
		report.accepted[a.IdempotencyKey] = acceptedEvent{name: name, timestamp: a.Timestamp, sentAt: sentAt}
	}
}

// DistinctAccepted returns the number of distinct events ingest accepted.
func (report *Report) DistinctAccepted() int {
	report.mu.Lock()
	defer report.mu.Unlock()
	return len(report.accepted)
}
