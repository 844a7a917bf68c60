package genesys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/journeyrelay/relay/shared/journey"
)

// entityNamespace is the UUID namespace of external event ids. Changing it
// gives every event a new id, so an event sent before and after the change
// would no longer be recognised as the same one.
var entityNamespace = uuid.MustParse("339857a3-0a31-470b-a88f-bddf9a7d30c9")

// EntityID returns the id of the external event made from an event with the
// given idempotency key: a version 5 UUID, so a resent event keeps its id.
func EntityID(idempotencyKey string) string {
	return uuid.NewSHA1(entityNamespace, []byte(idempotencyKey)).String()
}

// AppEventBody encodes an APP event as the request body of the appevents endpoint.
func AppEventBody(ev journey.Event) ([]byte, error) {
	if err := checkEvent(ev, journey.TypeApp); err != nil {
		return nil, fmt.Errorf("app event body: %w", err)
	}
	body := appEvent{
		EventName:           ev.Name,
		ScreenName:          ev.ScreenName,
		App:                 newAppInfo(ev.App),
		Device:              newDevice(ev.Device),
		CustomerCookieID:    ev.CustomerCookieID,
		CreatedDate:         ev.Timestamp,
		SDKLibrary:          newSDKLibrary(ev.SDK),
		NetworkConnectivity: newNetwork(ev.Network),
		ReferrerURL:         ev.ReferrerURL,
		SearchQuery:         ev.SearchQuery,
		Attributes:          attributes(ev.Properties),
		ExternalID:          ev.UserID,
	}
	return encode(body)
}

// WebEventBody encodes a WEB event as the request body of the webevents endpoint.
func WebEventBody(ev journey.Event) ([]byte, error) {
	if err := checkEvent(ev, journey.TypeWeb); err != nil {
		return nil, fmt.Errorf("web event body: %w", err)
	}
	body := webEvent{
		CustomerCookieID: ev.CustomerCookieID,
		EventName:        ev.Name,
		Page:             page{URL: ev.Page.URL, Title: ev.Page.Title},
		CreatedDate:      ev.Timestamp,
		UserAgentString:  ev.UserAgent,
		ReferrerURL:      ev.ReferrerURL,
		SearchQuery:      ev.SearchQuery,
		Attributes:       attributes(ev.Properties),
		ExternalID:       ev.UserID,
	}
	return encode(body)
}

// ExternalEventsBody encodes CUSTOM events as one request body of the
// external events endpoint, in the order given. Each entity is identified by
// the event's user_id in the external source sourceID.
func ExternalEventsBody(evs []journey.Event, sourceID string) ([]byte, error) {
	if sourceID == "" {
		return nil, errors.New("external events body: missing external source id")
	}
	body := externalEvents{Entities: make([]externalEntity, 0, len(evs))}
	for i, ev := range evs {
		if err := checkEvent(ev, journey.TypeCustom); err != nil {
			return nil, fmt.Errorf("external events body: event %d: %w", i, err)
		}
		body.Entities = append(body.Entities, newExternalEntity(ev, sourceID))
	}
	return encode(body)
}

func newExternalEntity(ev journey.Event, sourceID string) externalEntity {
	attrs := attributes(ev.Properties)
	if attrs == nil {
		attrs = make(map[string]attribute, 1)
	}
	// The event name is an attribute too, and it wins over a property of the same name.
	attrs["eventName"] = attribute{DataType: "string", Value: ev.Name}

	return externalEntity{
		ID:          EntityID(ev.IdempotencyKey),
		DateCreated: ev.Timestamp,
		Identifiers: identifiers{ExternalIDs: []externalID{{Value: ev.UserID, ExternalSourceID: sourceID}}},
		Attributes:  attrs,
	}
}

// checkEvent rejects an event that lacks a field its request body requires,
// so that no request is spent on a body Genesys would reject.
func checkEvent(ev journey.Event, eventType string) error {
	if ev.Type != eventType {
		return fmt.Errorf("event_type is %q, want %q", ev.Type, eventType)
	}
	missing := missingFields(ev)
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func missingFields(ev journey.Event) []string {
	required := map[string]bool{
		"event_name": ev.Name == "",
		"timestamp":  ev.Timestamp == "",
	}
	switch ev.Type {
	case journey.TypeApp:
		required["screen_name"] = ev.ScreenName == ""
		required["app"] = ev.App == nil
		required["device"] = ev.Device == nil
		required["customer_cookie_id"] = ev.CustomerCookieID == ""
	case journey.TypeWeb:
		required["page"] = ev.Page == nil
		required["customer_cookie_id"] = ev.CustomerCookieID == ""
	case journey.TypeCustom:
		required["user_id"] = ev.UserID == ""
		required["idempotency_key"] = ev.IdempotencyKey == ""
	}

	var missing []string
	for _, name := range []string{"event_name", "timestamp", "screen_name", "app", "device",
		"page", "customer_cookie_id", "user_id", "idempotency_key"} {
		if required[name] {
			missing = append(missing, name)
		}
	}
	return missing
}

// attributes converts event properties to Genesys custom attributes, or nil
// when there are none.
func attributes(props map[string]journey.Value) map[string]attribute {
	if len(props) == 0 {
		return nil
	}
	attrs := make(map[string]attribute, len(props))
	for name, v := range props {
		attrs[name] = attribute{DataType: dataType(v), Value: v.Text}
	}
	return attrs
}

// dataType returns the Genesys dataType of a property value. A number is an
// integer when its JSON literal has no fraction and no exponent.
func dataType(v journey.Value) string {
	switch v.Kind {
	case journey.Bool:
		return "boolean"
	case journey.Number:
		if strings.ContainsAny(v.Text, ".eE") {
			return "number"
		}
		return "integer"
	}
	return "string"
}

// encode marshals v without escaping <, > and &, which URLs and titles
// often contain. Struct fields keep their declared order and map keys are
// sorted, so equal events give equal bytes.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
