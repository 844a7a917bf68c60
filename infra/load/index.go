package load

import (
	"encoding/json"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
)

// receipt is one acceptance of an event by a simulator.
type receipt struct {
	at       time.Time
	slow     bool // accepted while the SlowResponse fault held the response back
	endpoint string
}

// deliveryIndex maps load ids to the simulator's acceptances of them. It
// reads each event body once, however often it is updated.
type deliveryIndex struct {
	lastSeq  int64
	receipts map[string][]receipt
	all      []receipt // every acceptance, in order, with or without a load id
}

func newDeliveryIndex() *deliveryIndex {
	return &deliveryIndex{receipts: map[string][]receipt{}}
}

// update adds the events not seen before.
func (x *deliveryIndex) update(events []genesyssim.ReceivedEvent) {
	for _, ev := range events {
		if ev.Seq <= x.lastSeq {
			continue
		}
		x.lastSeq = ev.Seq
		rc := receipt{at: ev.ReceivedAt, slow: ev.Slow, endpoint: ev.Endpoint}
		x.all = append(x.all, rc)
		if id := loadID(ev.Body); id != "" {
			x.receipts[id] = append(x.receipts[id], rc)
		}
	}
}

// loadID returns the load_id attribute of an app, web or external event body.
func loadID(body json.RawMessage) string {
	var decoded struct {
		Attributes map[string]struct {
			Value string `json:"value"`
		} `json:"attributes"`
	}
	if json.Unmarshal(body, &decoded) != nil {
		return ""
	}
	return decoded.Attributes[LoadIDProperty].Value
}

// distinct returns the number of load ids received at least once.
func (x *deliveryIndex) distinct() int {
	return len(x.receipts)
}

// distinctOf returns how many of ids were received at least once.
func (x *deliveryIndex) distinctOf(ids map[string]time.Time) int {
	n := 0
	for id := range ids {
		if len(x.receipts[id]) > 0 {
			n++
		}
	}
	return n
}
