package journey

import "encoding/json"

// The wire types mirror the API's JSON. A missing string field and an empty
// one are treated alike. Pointers mark the objects an event may inherit from
// the batch context, and json.RawMessage keeps fields whose JSON type is
// checked by hand.

type inputContext struct {
	App              *inputApp     `json:"app"`
	Device           *inputDevice  `json:"device"`
	CustomerCookieID string        `json:"customer_cookie_id"`
	SDK              *inputSDK     `json:"sdk"`
	Network          *inputNetwork `json:"network"`
}

type inputEvent struct {
	EventType        string           `json:"event_type"`
	EventName        string           `json:"event_name"`
	Timestamp        json.RawMessage  `json:"timestamp"`
	UserID           string           `json:"user_id"`
	SessionID        string           `json:"session_id"`
	IdempotencyKey   string           `json:"idempotency_key"`
	ScreenName       string           `json:"screen_name"`
	Page             *inputPage       `json:"page"`
	CustomerCookieID string           `json:"customer_cookie_id"`
	App              *inputApp        `json:"app"`
	Device           *inputDevice     `json:"device"`
	SDK              *inputSDK        `json:"sdk"`
	Network          *inputNetwork    `json:"network"`
	ReferrerURL      string           `json:"referrer_url"`
	SearchQuery      string           `json:"search_query"`
	UserAgent        string           `json:"user_agent"`
	Properties       map[string]Value `json:"properties"`
}

// inputBody is a whole request body decoded in one pass: a batch envelope
// when Events is set, otherwise one bare event in the embedded fields.
type inputBody struct {
	SentAt  json.RawMessage `json:"sent_at"`
	Context *inputContext   `json:"context"`
	Events  []inputEvent    `json:"events"`
	inputEvent
}

type inputPage struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

type inputApp struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Version     string `json:"version"`
	BuildNumber string `json:"build_number"`
}

type inputDevice struct {
	Category      string   `json:"category"`
	Type          string   `json:"type"`
	OSFamily      string   `json:"os_family"`
	OSVersion     string   `json:"os_version"`
	IsMobile      *bool    `json:"is_mobile"`
	ScreenHeight  *int     `json:"screen_height"`
	ScreenWidth   *int     `json:"screen_width"`
	ScreenDensity *float64 `json:"screen_density"`
	Fingerprint   string   `json:"fingerprint"`
	Manufacturer  string   `json:"manufacturer"`
}

type inputSDK struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type inputNetwork struct {
	Carrier          string `json:"carrier"`
	BluetoothEnabled *bool  `json:"bluetooth_enabled"`
	CellularEnabled  *bool  `json:"cellular_enabled"`
	WifiEnabled      *bool  `json:"wifi_enabled"`
}
