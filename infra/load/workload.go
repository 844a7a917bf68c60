package load

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// LoadIDProperty is the event property that names each generated event. It
// reaches Genesys as a custom attribute, which is how a delivered event is
// matched with the one a device sent.
const LoadIDProperty = "load_id"

// Device is one simulated app install. It is not safe for concurrent use.
type Device struct {
	Number    int
	CookieID  string
	UserID    string
	SessionID string

	// CustomShare is the share of events sent as CUSTOM (external events)
	// rather than APP events.
	CustomShare float64

	seq int
	rng *rand.Rand
}

// NewDevice returns device number n of a run; the same n and seed give the
// same identifiers.
func NewDevice(n int, seed uint64) *Device {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	var id uuid.UUID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return &Device{
		Number:    n,
		CookieID:  id.String(),
		UserID:    fmt.Sprintf("load-user-%d", n),
		SessionID: fmt.Sprintf("load-session-%d-%d", n, seed),
		rng:       rng,
	}
}

// Event is one generated event as the load tool tracks it.
type Event struct {
	LoadID string
	Type   string // APP or CUSTOM
	Body   appEvent
}

// Batch is one request body of a device and the events in it.
type Batch struct {
	Device *Device
	Events []Event
	Body   []byte
}

type batchEnvelope struct {
	SentAt  string       `json:"sent_at"`
	Context batchContext `json:"context"`
	Events  []appEvent   `json:"events"`
}

type batchContext struct {
	App              appInfo    `json:"app"`
	Device           deviceInfo `json:"device"`
	CustomerCookieID string     `json:"customer_cookie_id"`
	SDK              sdkInfo    `json:"sdk"`
}

type appInfo struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Version     string `json:"version"`
	BuildNumber string `json:"build_number"`
}

type deviceInfo struct {
	Category  string `json:"category"`
	Type      string `json:"type"`
	OSFamily  string `json:"os_family"`
	OSVersion string `json:"os_version"`
	IsMobile  bool   `json:"is_mobile"`
}

type sdkInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type appEvent struct {
	EventType  string         `json:"event_type"`
	EventName  string         `json:"event_name"`
	Timestamp  string         `json:"timestamp"`
	UserID     string         `json:"user_id"`
	SessionID  string         `json:"session_id"`
	ScreenName string         `json:"screen_name,omitempty"`
	Properties map[string]any `json:"properties"`
}

var (
	loadApp    = appInfo{Name: "Load", Namespace: "com.example.load", Version: "1.0.0", BuildNumber: "100"}
	loadDevice = deviceInfo{Category: "mobile", Type: "Pixel 9", OSFamily: "Android", OSVersion: "15", IsMobile: true}
	loadSDK    = sdkInfo{Name: "journey-relay-load", Version: "1.0.0"}
	screens    = []string{"Home", "Search", "Product", "Cart", "Checkout"}
)

// NextBatch returns the device's next request body of n events, stamped with
// now on the device's clock. Each event gets a load id unique in the run.
func (d *Device) NextBatch(n int, now time.Time) Batch {
	batch := Batch{Device: d}
	for i := range n {
		d.seq++
		at := now.Add(time.Duration(i-n) * time.Millisecond)
		ev := appEvent{
			EventType:  "APP",
			EventName:  "screen_viewed",
			Timestamp:  at.UTC().Format("2006-01-02T15:04:05.000Z"),
			UserID:     d.UserID,
			SessionID:  d.SessionID,
			ScreenName: screens[d.rng.IntN(len(screens))],
			Properties: map[string]any{
				LoadIDProperty: fmt.Sprintf("d%d-%d", d.Number, d.seq),
				"seq":          d.seq,
				"first_visit":  d.seq == 1,
			},
		}
		if d.CustomShare > 0 && d.rng.Float64() < d.CustomShare {
			ev.EventType, ev.EventName, ev.ScreenName = "CUSTOM", "order_placed", ""
		}
		batch.Events = append(batch.Events, Event{
			LoadID: ev.Properties[LoadIDProperty].(string),
			Type:   ev.EventType,
			Body:   ev,
		})
	}

	envelope := batchEnvelope{
		SentAt: now.UTC().Format("2006-01-02T15:04:05.000Z"),
		Context: batchContext{
			App: loadApp, Device: loadDevice, CustomerCookieID: d.CookieID, SDK: loadSDK,
		},
	}
	for _, ev := range batch.Events {
		envelope.Events = append(envelope.Events, ev.Body)
	}
	batch.Body, _ = json.Marshal(envelope) // plain structs, strings and numbers always encode
	return batch
}
