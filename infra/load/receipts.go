package load

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ReceiptTracker follows SQS receipt handles through a CountingProxy: the
// receives that handed them out and the deletes and visibility changes that
// settled them. A receipt never settled is a message someone received and
// then neither deleted nor returned.
type ReceiptTracker struct {
	mu       sync.Mutex
	received map[string]receiveRecord // by receipt handle
	settled  map[string]bool
}

type receiveRecord struct {
	at        time.Time
	userAgent string
	batch     int // messages in the same response
	messageID string
}

func (t *ReceiptTracker) observe(call APICall, userAgent string, request, response []byte) {
	switch call.Operation {
	case "ReceiveMessage":
		var out struct {
			Messages []struct{ MessageId, ReceiptHandle string }
		}
		if json.Unmarshal(response, &out) != nil {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.received == nil {
			t.received, t.settled = map[string]receiveRecord{}, map[string]bool{}
		}
		for _, m := range out.Messages {
			t.received[m.ReceiptHandle] = receiveRecord{at: time.Now(), userAgent: userAgent,
				batch: len(out.Messages), messageID: m.MessageId}
		}
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch", "DeleteMessage", "ChangeMessageVisibility":
		var in struct {
			ReceiptHandle string
			Entries       []struct{ ReceiptHandle string }
		}
		if json.Unmarshal(request, &in) != nil {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.settled == nil {
			t.received, t.settled = map[string]receiveRecord{}, map[string]bool{}
		}
		t.settled[in.ReceiptHandle] = true
		for _, e := range in.Entries {
			t.settled[e.ReceiptHandle] = true
		}
	}
}

// Unsettled describes the receives whose messages were never settled.
func (t *ReceiptTracker) Unsettled() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for handle, r := range t.received {
		if !t.settled[handle] {
			out = append(out, fmt.Sprintf("%s message %s, received in a batch of %d by %q",
				r.at.UTC().Format("15:04:05.000"), r.messageID, r.batch, r.userAgent))
		}
	}
	slices.Sort(out)
	return out
}
