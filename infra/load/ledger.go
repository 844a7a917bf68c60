package load

import (
	"sync"
	"time"
)

// Ledger records every event the devices sent and ingest's responses.
// It is safe for concurrent use.
type Ledger struct {
	mu     sync.Mutex
	events map[string]*sentEvent // by load id

	Requests     int            // HTTP requests to the API, resends and retries included
	Statuses     map[int]int    // responses by HTTP status; 0 counts transport errors
	Resent       int            // events sent again in a whole-batch resend
	Rejected     map[string]int // events ingest rejected, by reason code
	RetryableEnd int            // events still retryable after the device's last attempt
}

type sentEvent struct {
	typ      string
	sentAt   time.Time
	accepted bool
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{events: map[string]*sentEvent{}, Statuses: map[int]int{}, Rejected: map[string]int{}}
}

// sent records that a batch left the device at sentAt.
func (l *Ledger) sent(batch Batch, sentAt time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range batch.Events {
		if _, ok := l.events[ev.LoadID]; !ok {
			l.events[ev.LoadID] = &sentEvent{typ: ev.Type, sentAt: sentAt}
		}
	}
}

// recordResponse records one response: the status and, by index in the batch,
// the accepted events and the rejection codes.
func (l *Ledger) recordResponse(batch Batch, status int, accepted []int, rejected map[int]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Requests++
	l.Statuses[status]++
	for _, i := range accepted {
		if i >= 0 && i < len(batch.Events) {
			l.events[batch.Events[i].LoadID].accepted = true
		}
	}
	for _, code := range rejected {
		l.Rejected[code]++
	}
}

// Sent returns the number of distinct events the devices sent.
func (l *Ledger) Sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// Accepted returns the load ids ingest accepted, with their send times.
func (l *Ledger) Accepted() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]time.Time{}
	for id, ev := range l.events {
		if ev.accepted {
			out[id] = ev.sentAt
		}
	}
	return out
}

// RejectedTotal returns the number of rejected events, all reasons together.
func (l *Ledger) RejectedTotal() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, count := range l.Rejected {
		n += count
	}
	return n
}
