package journey

import "fmt"

// Violation codes. They are part of the API: clients switch on them, so a
// code never changes meaning once published.
const (
	CodeInvalidJSON        = "invalid_json"
	CodeInvalidEnvelope    = "invalid_envelope"
	CodeNoEvents           = "no_events"
	CodeTooManyEvents      = "too_many_events"
	CodeUnknownField       = "unknown_field"
	CodeInvalidType        = "invalid_type"
	CodeMissingField       = "missing_field"
	CodeInvalidValue       = "invalid_value"
	CodeInvalidEventType   = "invalid_event_type"
	CodeInvalidEventName   = "invalid_event_name"
	CodeTooLong            = "too_long"
	CodeInvalidTimestamp   = "invalid_timestamp"
	CodeTooOld             = "too_old"
	CodeInvalidUUID        = "invalid_uuid"
	CodeInvalidUTF8        = "invalid_utf8"
	CodeInvalidCharacter   = "invalid_character"
	CodeInvalidKey         = "invalid_idempotency_key"
	CodeTooManyProperties  = "too_many_properties"
	CodeInvalidPropertyKey = "invalid_property_key"
	CodeNestedProperty     = "nested_property"
	CodeArrayProperty      = "array_property"
	CodeNullProperty       = "null_property"
	CodePropertiesTooLarge = "properties_too_large"
	CodeEventTooLarge      = "event_too_large"
	CodeInvalidSentAt      = "invalid_sent_at"
	CodeDuplicateInRequest = "duplicate_in_request"
	CodeEnqueueFailed      = "enqueue_failed"
)

// Violation is one reason an event, or the whole request, was rejected.
type Violation struct {
	Index   int    `json:"index"`           // the event's position in the request; -1 for the request itself
	Field   string `json:"field,omitempty"` // path of the offending field, such as "app.version" or "properties.cart_total"
	Code    string `json:"code"`            // stable machine-readable code
	Message string `json:"message"`         // what is wrong and what to do
}

func (v Violation) Error() string {
	if v.Field == "" {
		return fmt.Sprintf("event %d: %s: %s", v.Index, v.Code, v.Message)
	}
	return fmt.Sprintf("event %d: %s: %s: %s", v.Index, v.Field, v.Code, v.Message)
}
