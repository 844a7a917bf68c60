package journey

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// deviceCategories are the device categories Genesys accepts.
var deviceCategories = map[string]bool{"desktop": true, "mobile": true, "tablet": true, "other": true}

// cookieNamespace is the namespace of the name-based (SHA-1, version 5) UUIDs
// derived from user ids when an event carries no customer_cookie_id. Changing
// it would give every user a new Genesys cookie.
var cookieNamespace = uuid.MustParse("6f1c3c8e-5b0a-4f7e-9d43-2a8e51f0c7b4")

// draft is an event that passed validation, before clock correction and key derivation.
type draft struct {
	event Event
	at    time.Time // the client's timestamp
}

// decodeEvent decodes one event strictly, reporting the first problem with
// its field. Properties are read apart so that each bad value gets its own code.
// decoded is false when the event itself could not be decoded.
func decodeEvent(raw json.RawMessage, index int) (in inputEvent, props map[string]Value, violations []Violation, decoded bool) {
	c := &checker{index: index}
	var fields map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		c.add("", CodeInvalidType, "each event must be a JSON object")
		return inputEvent{}, nil, c.violations, false
	}
	if !exactKeys(c, "", raw, reflect.TypeFor[inputEvent]()) {
		return inputEvent{}, nil, c.violations, false
	}
	rawProps, hasProps := fields["properties"]
	if hasProps {
		delete(fields, "properties")
		raw, _ = json.Marshal(fields) // re-encoding values that were just decoded cannot fail
	}
	if !decodeStrict(c, "", raw, &in) {
		return inputEvent{}, nil, c.violations, false
	}
	if hasProps {
		props = c.decodeProperties(rawProps)
	}
	return in, props, c.violations, true
}

// checkEvent validates one decoded event. ctx supplies the batch-wide fields
// an event may omit.
func checkEvent(in *inputEvent, index int, ctx *inputContext) (draft, []Violation) {
	c := &checker{index: index}
	var ev Event
	ev.Type = c.eventType(in.EventType)
	ev.Name = c.eventName(in.EventName)
	at := c.timestamp(in.Timestamp)
	ev.UserID = c.required("user_id", in.UserID, maxIDLen)
	ev.SessionID = c.required("session_id", in.SessionID, maxIDLen)
	if in.IdempotencyKey != "" {
		ev.IdempotencyKey = c.idempotencyKey("idempotency_key", in.IdempotencyKey)
	}
	ev.ReferrerURL = c.optional("referrer_url", in.ReferrerURL, maxURLLen)
	ev.SearchQuery = c.optional("search_query", in.SearchQuery, maxLongLen)
	ev.UserAgent = c.optional("user_agent", in.UserAgent, maxLongLen)
	ev.Properties = c.checkProperties(in.Properties)

	sdk, sdkField := in.SDK, "sdk"
	if sdk == nil && ctx != nil {
		sdk, sdkField = ctx.SDK, "context.sdk"
	}
	ev.SDK = c.sdk(sdkField, sdk)
	network, networkField := in.Network, "network"
	if network == nil && ctx != nil {
		network, networkField = ctx.Network, "context.network"
	}
	ev.Network = c.network(networkField, network)

	switch ev.Type {
	case TypeApp:
		c.appFields(&ev, in, ctx)
	case TypeWeb:
		c.webFields(&ev, in, ctx)
	}
	if !c.ok() {
		return draft{}, c.violations
	}
	return draft{event: ev, at: at}, nil
}

func (c *checker) appFields(ev *Event, in *inputEvent, ctx *inputContext) {
	ev.ScreenName = c.required("screen_name", in.ScreenName, maxShortLen)
	app, appField := in.App, "app"
	if app == nil && ctx != nil {
		app, appField = ctx.App, "context.app"
	}
	ev.App = c.app(appField, app)
	device, deviceField := in.Device, "device"
	if device == nil && ctx != nil {
		device, deviceField = ctx.Device, "context.device"
	}
	ev.Device = c.device(deviceField, device, true)
	ev.CustomerCookieID = c.cookie(in, ctx, ev.UserID)
}

func (c *checker) webFields(ev *Event, in *inputEvent, ctx *inputContext) {
	if in.Page == nil {
		c.add("page", CodeMissingField, "page is required for WEB events: an object with url and title")
	} else {
		ev.Page = &Page{
			URL:   c.required("page.url", in.Page.URL, maxURLLen),
			Title: c.required("page.title", in.Page.Title, maxLongLen),
		}
	}
	device, deviceField := in.Device, "device"
	if device == nil && ctx != nil {
		device, deviceField = ctx.Device, "context.device"
	}
	if device != nil {
		ev.Device = c.device(deviceField, device, false)
	}
	ev.CustomerCookieID = c.cookie(in, ctx, ev.UserID)
}

// decodeStrict decodes raw into v, rejecting unknown fields, and records the
// first decoding problem as a violation on field prefix.
func decodeStrict(c *checker, prefix string, raw []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := joinField(prefix, typeErr.Field)
		c.add(field, CodeInvalidType, "%s must be a JSON %s, not %s", field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		field := joinField(prefix, name)
		c.add(field, CodeUnknownField, "%s is not a field of this API; remove it, or send it inside properties", field)
	default:
		c.add(prefix, CodeInvalidType, "the event must be a JSON object: %v", err)
	}
	return false
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "int", "int64", "int32":
		return "integer"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map", "ptr":
		return "object"
	case "slice":
		return "array"
	}
	return "number"
}

func (c *checker) eventType(v string) string {
	if v == "" {
		c.add("event_type", CodeMissingField, "event_type is required: APP, WEB or CUSTOM")
		return ""
	}
	switch v {
	case TypeApp, TypeWeb, TypeCustom:
		return v
	}
	c.add("event_type", CodeInvalidEventType, "event_type %q is not supported; use APP, WEB or CUSTOM", truncate(v))
	return ""
}

func (c *checker) eventName(v string) string {
	name := c.required("event_name", v, maxNameLen)
	if name != "" && !isWordChars(name) {
		c.add("event_name", CodeInvalidEventName,
			"event_name %q may contain only letters, digits and underscore (Genesys rejects other characters), for example screen_viewed", truncate(name))
		return ""
	}
	return name
}

func (c *checker) idempotencyKey(field, key string) string {
	if key == "" || len(key) > maxKeyLen || !isKeyChars(key) {
		c.add(field, CodeInvalidKey,
			"%s must be 1 to %d characters of letters, digits and . _ : - (a UUID works well)", field, maxKeyLen)
		return ""
	}
	return key
}

func (c *checker) app(field string, in *inputApp) *App {
	if in == nil {
		c.add(field, CodeMissingField, "app is required for APP events, in the event or in the batch context: name, namespace, version and build_number")
		return nil
	}
	return &App{
		Name:        c.required(field+".name", in.Name, maxShortLen),
		Namespace:   c.required(field+".namespace", in.Namespace, maxShortLen),
		Version:     c.required(field+".version", in.Version, maxShortLen),
		BuildNumber: c.required(field+".build_number", in.BuildNumber, maxShortLen),
	}
}

func (c *checker) device(field string, in *inputDevice, required bool) *Device {
	if in == nil {
		if required {
			c.add(field, CodeMissingField, "device is required for APP events, in the event or in the batch context: category, type, os_family and os_version")
		}
		return nil
	}
	d := &Device{
		Category:      c.required(field+".category", in.Category, maxShortLen),
		Type:          c.required(field+".type", in.Type, maxShortLen),
		OSFamily:      c.required(field+".os_family", in.OSFamily, maxShortLen),
		OSVersion:     c.required(field+".os_version", in.OSVersion, maxShortLen),
		IsMobile:      in.IsMobile,
		ScreenHeight:  in.ScreenHeight,
		ScreenWidth:   in.ScreenWidth,
		ScreenDensity: in.ScreenDensity,
		Fingerprint:   c.optional(field+".fingerprint", in.Fingerprint, maxShortLen),
		Manufacturer:  c.optional(field+".manufacturer", in.Manufacturer, maxShortLen),
	}
	if d.Category != "" && !deviceCategories[d.Category] {
		c.add(field+".category", CodeInvalidValue, "%s.category %q is not accepted by Genesys; use desktop, mobile, tablet or other", field, truncate(d.Category))
	}
	for name, v := range map[string]*int{".screen_height": in.ScreenHeight, ".screen_width": in.ScreenWidth} {
		if v != nil && (*v <= 0 || *v > 100000) {
			c.add(field+name, CodeInvalidValue, "%s%s must be a whole number of pixels from 1 to 100000", field, name)
		}
	}
	if in.ScreenDensity != nil && (*in.ScreenDensity <= 0 || *in.ScreenDensity > 100) {
		c.add(field+".screen_density", CodeInvalidValue, "%s.screen_density must be a positive scale factor such as 2 or 3", field)
	}
	return d
}

func (c *checker) sdk(field string, in *inputSDK) *SDK {
	if in == nil {
		return nil
	}
	return &SDK{
		Name:    c.required(field+".name", in.Name, maxShortLen),
		Version: c.required(field+".version", in.Version, maxShortLen),
	}
}

func (c *checker) network(field string, in *inputNetwork) *Network {
	if in == nil {
		return nil
	}
	return &Network{
		Carrier:          c.optional(field+".carrier", in.Carrier, maxShortLen),
		BluetoothEnabled: in.BluetoothEnabled,
		CellularEnabled:  in.CellularEnabled,
		WifiEnabled:      in.WifiEnabled,
	}
}

// cookie returns the event's customer_cookie_id, the context's, or one
// derived from the user id so that one user always keeps one cookie.
func (c *checker) cookie(in *inputEvent, ctx *inputContext, userID string) string {
	v, field := in.CustomerCookieID, "customer_cookie_id"
	if v == "" && ctx != nil {
		v, field = ctx.CustomerCookieID, "context.customer_cookie_id"
	}
	if v == "" {
		if userID == "" {
			return ""
		}
		return uuid.NewSHA1(cookieNamespace, []byte(userID)).String()
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		c.add(field, CodeInvalidUUID, "%s must be a UUID such as 0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11, stable per app install", field)
		return ""
	}
	return id.String()
}

// timestamp parses an RFC 3339 time with an explicit zone.
func (c *checker) timestamp(raw json.RawMessage) time.Time {
	const hint = "use RFC 3339 with a zone, such as 2026-12-04T15:04:05.123Z or 2026-12-04T16:04:05+01:00"
	if len(raw) == 0 || string(raw) == "null" {
		c.add("timestamp", CodeMissingField, "timestamp is required; %s", hint)
		return time.Time{}
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		c.add("timestamp", CodeInvalidTimestamp, "timestamp must be a string, not %s; epoch numbers are not accepted; %s", truncate(string(raw)), hint)
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		c.add("timestamp", CodeInvalidTimestamp, "timestamp %q is not a valid time: %s; %s", truncate(s), err, hint)
		return time.Time{}
	}
	return t
}

// ParseTime parses an RFC 3339 time that names its zone (Z or an offset) and
// whose year is between 2000 and 9999.
func ParseTime(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, errors.New("not in the form yyyy-MM-ddTHH:mm:ss plus a zone")
	}
	// RFC 3339 section 5.6 allows a lowercase t and z; Go's parser takes only uppercase.
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil {
		if strings.Contains(err.Error(), "out of range") {
			return time.Time{}, errors.New("the date or time does not exist")
		}
		return time.Time{}, errors.New("the zone (Z or ±hh:mm) is missing or the form is not RFC 3339")
	}
	if t.Year() < 2000 {
		return time.Time{}, errors.New("the year is before 2000")
	}
	return t, nil
}

// FormatTime formats t in UTC with milliseconds, the form Genesys accepts.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(TimeLayout)
}

// decodeProperties reads a properties object value by value, so that each
// nested object, array or null gets its own violation.
func (c *checker) decodeProperties(raw json.RawMessage) map[string]Value {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		c.add("properties", CodeInvalidType, "properties must be a JSON object of names to strings, numbers or booleans")
		return nil
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys) // violations come out in a stable order
	props := make(map[string]Value, len(fields))
	for _, k := range keys {
		if v, ok := c.property(k, fields[k]); ok {
			props[k] = v
		}
	}
	return props
}

// checkProperties checks the count, names, size and text of decoded properties.
// The size counts the bytes of every name and value.
func (c *checker) checkProperties(props map[string]Value) map[string]Value {
	if len(props) == 0 {
		return nil
	}
	if len(props) > maxPropCount {
		c.add("properties", CodeTooManyProperties, "properties has %d keys; the maximum is %d", len(props), maxPropCount)
		return nil
	}
	size := 0
	for k, v := range props {
		size += len(k) + len(v.Text)
	}
	if size > maxPropBytes {
		c.add("properties", CodePropertiesTooLarge, "properties take %d bytes of names and values; the maximum is %d", size, maxPropBytes)
		return nil
	}
	// Most events are valid, so the keys are sorted (for a stable order of
	// violations) only once a problem is found.
	valid := true
	for k, v := range props {
		if !validPropertyKey(k) || (v.Kind == String && !validText(v.Text)) || (v.Kind == Number && !v.InRange()) {
			valid = false
			break
		}
	}
	if valid {
		return props
	}
	for _, k := range sortedKeys(props) {
		if !validPropertyKey(k) {
			c.add("properties", CodeInvalidPropertyKey,
				"property name %q must be 1 to %d letters, digits or underscores", truncate(k), maxPropKey)
			continue
		}
		switch v := props[k]; {
		case v.Kind == String:
			c.text("properties."+k, v.Text)
		case v.Kind == Number && !v.InRange():
			c.add("properties."+k, CodeInvalidValue,
				"properties.%s is %s, outside what Genesys can store (a 64-bit integer, or a finite 64-bit float); send it as a string", k, truncate(v.Text))
		}
	}
	return nil
}

func validPropertyKey(k string) bool {
	return len(k) > 0 && len(k) <= maxPropKey && isWordChars(k)
}

func sortedKeys(m map[string]Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *checker) property(key string, raw json.RawMessage) (Value, bool) {
	field := "properties." + key
	switch raw[0] {
	case '{':
		c.add(field, CodeNestedProperty, "%s is an object; flatten it into top-level properties such as %s_name", field, key)
		return Value{}, false
	case '[':
		c.add(field, CodeArrayProperty, "%s is an array; flatten it into separate properties or a comma-separated string", field)
		return Value{}, false
	case 'n':
		c.add(field, CodeNullProperty, "%s is null; omit the property instead", field)
		return Value{}, false
	}
	var v Value
	if err := v.UnmarshalJSON(raw); err != nil {
		c.add(field, CodeInvalidType, "%s must be a string, number or boolean", field)
		return Value{}, false
	}
	return v, true
}

// truncate shortens a client value quoted back in a message and replaces
// invalid UTF-8 in it with "?".
func truncate(s string) string {
	const max = 64
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
