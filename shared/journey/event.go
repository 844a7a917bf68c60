package journey

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Event types.
const (
	TypeApp    = "APP"
	TypeWeb    = "WEB"
	TypeCustom = "CUSTOM"
)

// Skew reasons recorded on an event whose timestamp ingest changed.
const (
	SkewOffset = "offset" // corrected by the measured device clock offset
	SkewFuture = "future" // a future time replaced by the receive time
)

// TimeLayout is the UTC millisecond form Genesys accepts for createdDate.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Event is a validated, normalised journey event: the body of one queue message.
type Event struct {
	Type              string           `json:"event_type"`
	Name              string           `json:"event_name"`
	Timestamp         string           `json:"timestamp"`
	OriginalTimestamp string           `json:"original_timestamp,omitempty"`
	ReceivedAt        string           `json:"received_at"`
	UserID            string           `json:"user_id"`
	SessionID         string           `json:"session_id"`
	IdempotencyKey    string           `json:"idempotency_key"`
	CustomerCookieID  string           `json:"customer_cookie_id,omitempty"`
	ScreenName        string           `json:"screen_name,omitempty"`
	Page              *Page            `json:"page,omitempty"`
	App               *App             `json:"app,omitempty"`
	Device            *Device          `json:"device,omitempty"`
	SDK               *SDK             `json:"sdk,omitempty"`
	Network           *Network         `json:"network,omitempty"`
	ReferrerURL       string           `json:"referrer_url,omitempty"`
	SearchQuery       string           `json:"search_query,omitempty"`
	UserAgent         string           `json:"user_agent,omitempty"`
	Skew              string           `json:"skew,omitempty"`
	Properties        map[string]Value `json:"properties,omitempty"`
}

// Page is the web page of a WEB event.
type Page struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// App identifies the mobile app that sent an APP event.
type App struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Version     string `json:"version"`
	BuildNumber string `json:"build_number"`
}

// Device describes the device an event came from.
type Device struct {
	Category      string   `json:"category"`
	Type          string   `json:"type"`
	OSFamily      string   `json:"os_family"`
	OSVersion     string   `json:"os_version"`
	IsMobile      *bool    `json:"is_mobile,omitempty"`
	ScreenHeight  *int     `json:"screen_height,omitempty"`
	ScreenWidth   *int     `json:"screen_width,omitempty"`
	ScreenDensity *float64 `json:"screen_density,omitempty"`
	Fingerprint   string   `json:"fingerprint,omitempty"`
	Manufacturer  string   `json:"manufacturer,omitempty"`
}

// SDK names the client library that sent the event.
type SDK struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Network is the device's connectivity when the event happened.
type Network struct {
	Carrier          string `json:"carrier,omitempty"`
	BluetoothEnabled *bool  `json:"bluetooth_enabled,omitempty"`
	CellularEnabled  *bool  `json:"cellular_enabled,omitempty"`
	WifiEnabled      *bool  `json:"wifi_enabled,omitempty"`
}

// Kind is the JSON type of a property value.
type Kind uint8

// Property kinds.
const (
	String Kind = iota + 1
	Number
	Bool
)

// Value is one property value: a JSON string, number or boolean.
type Value struct {
	Kind Kind
	Text string // the string itself, the number's JSON literal, or "true"/"false"
}

// MarshalJSON writes the value as the JSON scalar it came from.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case String:
		return json.Marshal(v.Text)
	case Number, Bool:
		return []byte(v.Text), nil
	}
	return nil, fmt.Errorf("property value has no kind")
}

// UnmarshalJSON reads a JSON string, number or boolean.
func (v *Value) UnmarshalJSON(data []byte) error {
	kind, err := scalarKind(data)
	if err != nil {
		return err
	}
	v.Kind = kind
	if kind == String {
		if len(data) >= 2 && !hasEscapeOrControl(data[1:len(data)-1]) {
			v.Text = string(data[1 : len(data)-1]) // no escapes to undo; the caller checks UTF-8 validity
			return nil
		}
		return json.Unmarshal(data, &v.Text)
	}
	v.Text = string(data)
	return nil
}

// IsInteger reports whether a Number value has no fraction or exponent.
func (v Value) IsInteger() bool {
	if v.Kind != Number {
		return false
	}
	_, err := strconv.ParseInt(v.Text, 10, 64)
	return err == nil
}

func hasEscapeOrControl(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c == '"' || c < 0x20 {
			return true
		}
	}
	return false
}

// InRange reports whether a Number value fits what Genesys stores: an
// integer within int64, or any other number finite as a float64.
func (v Value) InRange() bool {
	if v.Kind != Number {
		return true
	}
	if !strings.ContainsAny(v.Text, ".eE") {
		_, err := strconv.ParseInt(v.Text, 10, 64)
		return err == nil
	}
	f, err := strconv.ParseFloat(v.Text, 64)
	return err == nil && !math.IsInf(f, 0)
}

var errNotScalar = errors.New("property value is not a string, number or boolean")

func scalarKind(data []byte) (Kind, error) {
	if len(data) == 0 {
		return 0, errNotScalar
	}
	switch c := data[0]; {
	case c == '"':
		return String, nil
	case c == 't' || c == 'f':
		return Bool, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return Number, nil
	}
	return 0, errNotScalar
}
