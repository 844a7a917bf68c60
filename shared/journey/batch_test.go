package journey

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var (
	receivedAt = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	testOpts   = Options{DeadBand: 30 * time.Second, MaxEventAge: 50 * time.Minute, MaxEvents: 500}
)

// appEvent returns a valid APP event as a JSON object, to be changed per case.
func appEvent() map[string]any {
	return map[string]any{
		"event_type":  "APP",
		"event_name":  "screen_viewed",
		"timestamp":   "2026-12-04T14:59:00.123Z",
		"user_id":     "u-1",
		"session_id":  "s-1",
		"screen_name": "Home",
		"app":         map[string]any{"name": "Shop", "namespace": "com.example.shop", "version": "5.2.0", "build_number": "5200"},
		"device":      map[string]any{"category": "mobile", "type": "iPhone", "os_family": "iOS", "os_version": "18.1"},
		"properties":  map[string]any{"plan": "gold", "cart_total": 42.5, "first": true},
	}
}

func webEvent() map[string]any {
	return map[string]any{
		"event_type": "WEB",
		"event_name": "page_viewed",
		"timestamp":  "2026-12-04T14:59:00Z",
		"user_id":    "u-1",
		"session_id": "s-1",
		"page":       map[string]any{"url": "https://shop.example/cart", "title": "Cart"},
	}
}

func customEvent() map[string]any {
	return map[string]any{
		"event_type": "CUSTOM",
		"event_name": "order_shipped",
		"timestamp":  "2026-12-04T10:00:00Z",
		"user_id":    "u-1",
		"session_id": "s-1",
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRejectsEachViolation(t *testing.T) {
	tests := []struct {
		name   string
		change func(e map[string]any)
		field  string
		code   string
	}{
		{"missing event_type", func(e map[string]any) { delete(e, "event_type") }, "event_type", CodeMissingField},
		{"unknown event_type", func(e map[string]any) { e["event_type"] = "PUSH" }, "event_type", CodeInvalidEventType},
		{"event_name with dash", func(e map[string]any) { e["event_name"] = "screen-viewed" }, "event_name", CodeInvalidEventName},
		{"event_name too long", func(e map[string]any) { e["event_name"] = strings.Repeat("a", 129) }, "event_name", CodeTooLong},
		{"missing user_id", func(e map[string]any) { delete(e, "user_id") }, "user_id", CodeMissingField},
		{"blank session_id", func(e map[string]any) { e["session_id"] = "  " }, "session_id", CodeMissingField},
		{"session_id too long", func(e map[string]any) { e["session_id"] = strings.Repeat("s", 257) }, "session_id", CodeTooLong},
		{"user_id not a string", func(e map[string]any) { e["user_id"] = 42 }, "user_id", CodeInvalidType},
		{"unknown field", func(e map[string]any) { e["colour"] = "red" }, "colour", CodeUnknownField},
		{"zoneless timestamp", func(e map[string]any) { e["timestamp"] = "2026-12-04T14:59:00" }, "timestamp", CodeInvalidTimestamp},
		{"epoch timestamp", func(e map[string]any) { e["timestamp"] = 1733324340 }, "timestamp", CodeInvalidTimestamp},
		{"impossible date", func(e map[string]any) { e["timestamp"] = "2026-02-30T10:00:00Z" }, "timestamp", CodeInvalidTimestamp},
		{"date only", func(e map[string]any) { e["timestamp"] = "2026-12-04" }, "timestamp", CodeInvalidTimestamp},
		{"missing timestamp", func(e map[string]any) { delete(e, "timestamp") }, "timestamp", CodeMissingField},
		{"older than allowed", func(e map[string]any) { e["timestamp"] = "2026-12-04T14:05:00Z" }, "timestamp", CodeTooOld},
		{"nested property", func(e map[string]any) { e["properties"] = map[string]any{"cart": map[string]any{"n": 1}} }, "properties.cart", CodeNestedProperty},
		{"array property", func(e map[string]any) { e["properties"] = map[string]any{"items": []int{1}} }, "properties.items", CodeArrayProperty},
		{"null property", func(e map[string]any) { e["properties"] = map[string]any{"coupon": nil} }, "properties.coupon", CodeNullProperty},
		{"property key with dash", func(e map[string]any) { e["properties"] = map[string]any{"cart-total": 1} }, "properties", CodeInvalidPropertyKey},
		{"property key too long", func(e map[string]any) { e["properties"] = map[string]any{strings.Repeat("k", 65): 1} }, "properties", CodeInvalidPropertyKey},
		{"too many properties", func(e map[string]any) { e["properties"] = manyProps(21) }, "properties", CodeTooManyProperties},
		{"properties too large", func(e map[string]any) {
			e["properties"] = map[string]any{"a": strings.Repeat("x", 300<<10), "b": strings.Repeat("y", 300<<10)}
		}, "properties", CodePropertiesTooLarge},
		{"properties not an object", func(e map[string]any) { e["properties"] = []int{1} }, "properties", CodeInvalidType},
		{"control character", func(e map[string]any) { e["screen_name"] = "Home\u0001" }, "screen_name", CodeInvalidCharacter},
		{"noncharacter in property", func(e map[string]any) { e["properties"] = map[string]any{"p": "a\uFFFE"} }, "properties.p", CodeInvalidCharacter},
		{"missing screen_name", func(e map[string]any) { delete(e, "screen_name") }, "screen_name", CodeMissingField},
		{"missing app", func(e map[string]any) { delete(e, "app") }, "app", CodeMissingField},
		{"missing app version", func(e map[string]any) { delete(e["app"].(map[string]any), "version") }, "app.version", CodeMissingField},
		{"missing device", func(e map[string]any) { delete(e, "device") }, "device", CodeMissingField},
		{"missing device os_family", func(e map[string]any) { delete(e["device"].(map[string]any), "os_family") }, "device.os_family", CodeMissingField},
		{"bad device category", func(e map[string]any) { e["device"].(map[string]any)["category"] = "phone" }, "device.category", CodeInvalidValue},
		{"negative screen height", func(e map[string]any) { e["device"].(map[string]any)["screen_height"] = -1 }, "device.screen_height", CodeInvalidValue},
		{"unknown device field", func(e map[string]any) { e["device"].(map[string]any)["imei"] = "1" }, "device.imei", CodeUnknownField},
		{"field name in capitals", func(e map[string]any) { e["USER_ID"] = "u-2" }, "USER_ID", CodeUnknownField},
		{"nested name in capitals", func(e map[string]any) { e["app"].(map[string]any)["Version"] = "9" }, "app.Version", CodeUnknownField},
		{"number beyond float64", func(e map[string]any) { e["properties"] = map[string]any{"n": json.RawMessage("1e400")} }, "properties.n", CodeInvalidValue},
		{"integer beyond int64", func(e map[string]any) { e["properties"] = map[string]any{"n": json.RawMessage("18446744073709551617")} }, "properties.n", CodeInvalidValue},
		{"fractional screen height", func(e map[string]any) { e["device"].(map[string]any)["screen_height"] = 1.5 }, "device.screen_height", CodeInvalidType},
		{"cookie not a UUID", func(e map[string]any) { e["customer_cookie_id"] = "abc" }, "customer_cookie_id", CodeInvalidUUID},
		{"cookie in braces", func(e map[string]any) { e["customer_cookie_id"] = "{0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11}" }, "customer_cookie_id", CodeInvalidUUID},
		{"bad idempotency key", func(e map[string]any) { e["idempotency_key"] = "has space" }, "idempotency_key", CodeInvalidKey},
		{"sdk without version", func(e map[string]any) { e["sdk"] = map[string]any{"name": "ios"} }, "sdk.version", CodeMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := appEvent()
			tt.change(ev)
			b := Parse(mustJSON(t, ev), "", receivedAt, testOpts)
			if b.RequestError != nil {
				t.Fatalf("request error %v, want an event violation", b.RequestError)
			}
			if len(b.Accepted) != 0 {
				t.Errorf("accepted %d events, want 0", len(b.Accepted))
			}
			if len(b.Rejected) == 0 {
				t.Fatal("no violation")
			}
			got := b.Rejected[0]
			if got.Code != tt.code {
				t.Errorf("code: got %q, want %q (%s)", got.Code, tt.code, got.Message)
			}
			if got.Field != tt.field {
				t.Errorf("field: got %q, want %q", got.Field, tt.field)
			}
			if got.Index != 0 {
				t.Errorf("index: got %d, want 0", got.Index)
			}
			if got.Message == "" {
				t.Error("message is empty")
			}
		})
	}
}

func manyProps(n int) map[string]any {
	m := map[string]any{}
	for i := 0; i < n; i++ {
		m["p"+strings.Repeat("x", i)] = i
	}
	return m
}

func TestParseRejectsInvalidUTF8(t *testing.T) {
	body := []byte(`{"event_type":"CUSTOM","event_name":"a","timestamp":"2026-12-04T14:59:00Z","user_id":"u` + "\xff" + `","session_id":"s"}`)
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Rejected) != 1 || b.Rejected[0].Code != CodeInvalidUTF8 || b.Rejected[0].Field != "user_id" {
		t.Errorf("got %+v, want one invalid_utf8 on user_id", b.Rejected)
	}
}

func TestParseRejectsLoneSurrogate(t *testing.T) {
	body := []byte(`{"event_type":"CUSTOM","event_name":"a","timestamp":"2026-12-04T14:59:00Z","user_id":"u","session_id":"s","properties":{"p":"\udc00"}}`)
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Rejected) != 1 || b.Rejected[0].Code != CodeInvalidUTF8 || b.Rejected[0].Field != "properties.p" {
		t.Errorf("got %+v, want one invalid_utf8 on properties.p", b.Rejected)
	}
}

func TestParseWebAndCustomRules(t *testing.T) {
	web := webEvent()
	delete(web, "page")
	noTitle := webEvent()
	delete(noTitle["page"].(map[string]any), "title")
	noUser := customEvent()
	delete(noUser, "user_id")

	tests := []struct {
		name  string
		event map[string]any
		field string
		code  string
	}{
		{"web without page", web, "page", CodeMissingField},
		{"web without title", noTitle, "page.title", CodeMissingField},
		{"custom without user", noUser, "user_id", CodeMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Parse(mustJSON(t, tt.event), "", receivedAt, testOpts)
			if len(b.Rejected) != 1 {
				t.Fatalf("got %+v, want one violation", b.Rejected)
			}
			if b.Rejected[0].Field != tt.field || b.Rejected[0].Code != tt.code {
				t.Errorf("got %s %s, want %s %s", b.Rejected[0].Field, b.Rejected[0].Code, tt.field, tt.code)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string
		code  string
	}{
		{"not JSON", `{"events": [`, "", CodeInvalidJSON},
		{"array body", `[{"event_type":"APP"}]`, "", CodeInvalidJSON},
		{"empty body", ``, "", CodeInvalidJSON},
		{"empty events", `{"events": []}`, "events", CodeNoEvents},
		{"unknown envelope field", `{"events": [{}], "batch_id": 1}`, "batch_id", CodeUnknownField},
		{"events not an array", `{"events": {}}`, "events", CodeInvalidType},
		{"zoneless sent_at", `{"sent_at": "2026-12-04T15:00:00", "events": [{}]}`, "sent_at", CodeInvalidSentAt},
		{"numeric sent_at", `{"sent_at": 1733324400, "events": [{}]}`, "sent_at", CodeInvalidSentAt},
		{"bad context field", `{"context": {"app": {"name": 1}}, "events": [{}]}`, "context.app.name", CodeInvalidType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Parse([]byte(tt.body), "", receivedAt, testOpts)
			if b.RequestError == nil {
				t.Fatalf("no request error; rejected %+v", b.Rejected)
			}
			if b.RequestError.Code != tt.code {
				t.Errorf("code: got %q, want %q (%s)", b.RequestError.Code, tt.code, b.RequestError.Message)
			}
			if b.RequestError.Field != tt.field {
				t.Errorf("field: got %q, want %q", b.RequestError.Field, tt.field)
			}
		})
	}
}

func TestParseTooManyEvents(t *testing.T) {
	events := make([]any, 3)
	for i := range events {
		events[i] = customEvent()
	}
	opts := testOpts
	opts.MaxEvents = 2
	b := Parse(mustJSON(t, map[string]any{"events": events}), "", receivedAt, opts)
	if b.RequestError == nil || b.RequestError.Code != CodeTooManyEvents {
		t.Errorf("got %+v, want too_many_events", b.RequestError)
	}
}

func TestParseNormalisesAcceptedEvent(t *testing.T) {
	ev := appEvent()
	ev["timestamp"] = "2026-12-04T15:59:00.123456+01:00"
	b := Parse(mustJSON(t, ev), "", receivedAt, testOpts)
	if len(b.Accepted) != 1 {
		t.Fatalf("rejected: %+v", b.Rejected)
	}
	got := b.Accepted[0].Event
	if got.Timestamp != "2026-12-04T14:59:00.123Z" {
		t.Errorf("timestamp: got %s, want 2026-12-04T14:59:00.123Z", got.Timestamp)
	}
	if got.OriginalTimestamp != "" || got.Skew != "" {
		t.Errorf("uncorrected event has original %q skew %q", got.OriginalTimestamp, got.Skew)
	}
	if got.ReceivedAt != "2026-12-04T15:00:00.000Z" {
		t.Errorf("received_at: got %s", got.ReceivedAt)
	}
	if len(got.IdempotencyKey) != 64 {
		t.Errorf("derived key %q is not a SHA-256 hex digest", got.IdempotencyKey)
	}
	if got.Properties["cart_total"] != (Value{Kind: Number, Text: "42.5"}) {
		t.Errorf("cart_total: got %+v", got.Properties["cart_total"])
	}
	if got.Properties["first"] != (Value{Kind: Bool, Text: "true"}) {
		t.Errorf("first: got %+v", got.Properties["first"])
	}
}

func TestParseDerivesCookieFromUser(t *testing.T) {
	first := Parse(mustJSON(t, appEvent()), "", receivedAt, testOpts)
	other := appEvent()
	other["event_name"] = "cart_opened"
	second := Parse(mustJSON(t, other), "", receivedAt, testOpts)
	a, b := first.Accepted[0].Event.CustomerCookieID, second.Accepted[0].Event.CustomerCookieID
	if a == "" || a != b {
		t.Errorf("cookies: got %q and %q, want one stable UUID per user", a, b)
	}
	if a[14] != '5' {
		t.Errorf("cookie %s is not a version 5 (name-based) UUID", a)
	}
}

func TestParseUsesBatchContext(t *testing.T) {
	ev := appEvent()
	app, device := ev["app"], ev["device"]
	delete(ev, "app")
	delete(ev, "device")
	body := mustJSON(t, map[string]any{
		"context": map[string]any{"app": app, "device": device, "customer_cookie_id": "0D5E0C1A-3C3B-4B6E-8E43-8B0F5B1F3A11"},
		"events":  []any{ev},
	})
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Accepted) != 1 {
		t.Fatalf("rejected: %+v", b.Rejected)
	}
	got := b.Accepted[0].Event
	if got.App == nil || got.App.Namespace != "com.example.shop" {
		t.Errorf("app from context: got %+v", got.App)
	}
	if got.CustomerCookieID != "0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11" {
		t.Errorf("cookie from context: got %q, want it lower-cased", got.CustomerCookieID)
	}
}

func TestParseReportsContextFieldPath(t *testing.T) {
	ev := appEvent()
	delete(ev, "device")
	body := mustJSON(t, map[string]any{
		"context": map[string]any{"device": map[string]any{"category": "mobile", "type": "Pixel", "os_family": "Android"}},
		"events":  []any{ev},
	})
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Rejected) != 1 || b.Rejected[0].Field != "context.device.os_version" {
		t.Errorf("got %+v, want context.device.os_version", b.Rejected)
	}
}

func TestParseCorrectsClockSkew(t *testing.T) {
	// The device clock is 3 minutes ahead: it sent the request at 15:03 by its clock.
	ev1, ev2 := appEvent(), appEvent()
	ev1["timestamp"] = "2026-12-04T15:02:30Z"
	ev2["timestamp"] = "2026-12-04T15:02:50Z"
	ev2["event_name"] = "tapped"
	body := mustJSON(t, map[string]any{"sent_at": "2026-12-04T15:03:00Z", "events": []any{ev1, ev2}})

	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Accepted) != 2 {
		t.Fatalf("rejected: %+v", b.Rejected)
	}
	if b.ClockOffset != 3*time.Minute {
		t.Errorf("offset: got %v, want 3m", b.ClockOffset)
	}
	got := b.Accepted[0].Event
	if got.Timestamp != "2026-12-04T14:59:30.000Z" || got.OriginalTimestamp != "2026-12-04T15:02:30.000Z" || got.Skew != SkewOffset {
		t.Errorf("corrected event: got timestamp %s original %s skew %s", got.Timestamp, got.OriginalTimestamp, got.Skew)
	}
	if len(b.Flags) != 1 || b.Flags[0].Reason != SkewOffset || b.Flags[0].Offset != 3*time.Minute {
		t.Errorf("flags: got %+v, want one offset flag of 3m for the session", b.Flags)
	}
}

func TestParseIgnoresOffsetInsideDeadBand(t *testing.T) {
	body := mustJSON(t, map[string]any{"sent_at": "2026-12-04T15:00:20Z", "events": []any{appEvent()}})
	b := Parse(body, "", receivedAt, testOpts)
	if b.ClockOffset != 20*time.Second {
		t.Errorf("offset: got %v, want 20s", b.ClockOffset)
	}
	if got := b.Accepted[0].Event; got.Timestamp != "2026-12-04T14:59:00.123Z" || got.Skew != "" {
		t.Errorf("event changed inside the dead-band: %+v", got)
	}
	if len(b.Flags) != 0 {
		t.Errorf("flags: got %+v, want none", b.Flags)
	}
}

func TestParseClampsFutureWithoutSentAt(t *testing.T) {
	ev := appEvent()
	ev["timestamp"] = "2026-12-04T15:10:00Z"
	b := Parse(mustJSON(t, ev), "", receivedAt, testOpts)
	got := b.Accepted[0].Event
	if got.Timestamp != "2026-12-04T15:00:00.000Z" || got.Skew != SkewFuture || got.OriginalTimestamp != "2026-12-04T15:10:00.000Z" {
		t.Errorf("future event: got %+v", got)
	}
	if len(b.Flags) != 1 || b.Flags[0].Reason != SkewFuture || b.Flags[0].Offset != 10*time.Minute {
		t.Errorf("flags: got %+v, want a future flag of 10m", b.Flags)
	}
}

func TestParseKeyIsStableAcrossResends(t *testing.T) {
	body := mustJSON(t, appEvent())
	first := Parse(body, "", receivedAt, testOpts).Accepted[0].Event.IdempotencyKey
	later := Parse(body, "", receivedAt.Add(10*time.Minute), testOpts).Accepted[0].Event.IdempotencyKey
	if first != later {
		t.Errorf("keys differ across resends: %s and %s", first, later)
	}
	changed := appEvent()
	changed["properties"].(map[string]any)["plan"] = "silver"
	if other := Parse(mustJSON(t, changed), "", receivedAt, testOpts).Accepted[0].Event.IdempotencyKey; other == first {
		t.Error("different properties gave the same key")
	}
}

func TestParseKeyIgnoresSkewCorrection(t *testing.T) {
	plain := Parse(mustJSON(t, appEvent()), "", receivedAt, testOpts).Accepted[0].Event.IdempotencyKey
	skewed := mustJSON(t, map[string]any{"sent_at": "2026-12-04T15:05:00Z", "events": []any{appEvent()}})
	got := Parse(skewed, "", receivedAt, testOpts).Accepted[0].Event
	if got.Skew != SkewOffset || got.IdempotencyKey != plain {
		t.Errorf("key with correction %s, without %s; want equal", got.IdempotencyKey, plain)
	}
}

func TestParseUsesClientKeys(t *testing.T) {
	ev := appEvent()
	ev["idempotency_key"] = "a1b2c3"
	if got := Parse(mustJSON(t, ev), "hdr-key", receivedAt, testOpts).Accepted[0].Event.IdempotencyKey; got != "a1b2c3" {
		t.Errorf("event key: got %s, want a1b2c3", got)
	}
	if got := Parse(mustJSON(t, appEvent()), "hdr-key", receivedAt, testOpts).Accepted[0].Event.IdempotencyKey; got != "hdr-key" {
		t.Errorf("header key: got %s, want hdr-key", got)
	}
	bad := Parse(mustJSON(t, appEvent()), "bad key", receivedAt, testOpts)
	if len(bad.Rejected) != 1 || bad.Rejected[0].Code != CodeInvalidKey {
		t.Errorf("bad header key: got %+v", bad.Rejected)
	}
}

func TestParseRejectsDuplicateInRequest(t *testing.T) {
	body := mustJSON(t, map[string]any{"events": []any{appEvent(), appEvent()}})
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Accepted) != 1 || len(b.Rejected) != 1 || b.Rejected[0].Index != 1 || b.Rejected[0].Code != CodeDuplicateInRequest {
		t.Errorf("got accepted %d rejected %+v, want the second rejected as a duplicate", len(b.Accepted), b.Rejected)
	}
}

func TestParseMixedBatchKeepsIndexes(t *testing.T) {
	bad := webEvent()
	bad["event_name"] = "bad name"
	body := mustJSON(t, map[string]any{"events": []any{appEvent(), bad, customEvent()}})
	b := Parse(body, "", receivedAt, testOpts)
	if len(b.Accepted) != 2 || b.Accepted[0].Index != 0 || b.Accepted[1].Index != 2 {
		t.Errorf("accepted: got %+v, want indexes 0 and 2", b.Accepted)
	}
	if len(b.Rejected) != 1 || b.Rejected[0].Index != 1 {
		t.Errorf("rejected: got %+v, want index 1", b.Rejected)
	}
}

func TestValueRoundTrip(t *testing.T) {
	in := `{"a":"x\"y","b":-1.5e3,"c":false,"d":7}`
	var props map[string]Value
	if err := json.Unmarshal([]byte(in), &props); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip: got %s, want %s", out, in)
	}
	if !props["d"].IsInteger() || props["b"].IsInteger() {
		t.Error("IsInteger: want d integer and b not")
	}
}

func TestParseClampsSmallFutureWithoutFlag(t *testing.T) {
	ev := appEvent()
	ev["timestamp"] = "2026-12-04T15:00:10Z" // 10 s ahead: inside the dead-band
	b := Parse(mustJSON(t, ev), "", receivedAt, testOpts)
	got := b.Accepted[0].Event
	if got.Timestamp != "2026-12-04T15:00:00.000Z" || got.Skew != SkewFuture {
		t.Errorf("event: got timestamp %s skew %q, want the receive time and skew future", got.Timestamp, got.Skew)
	}
	if len(b.Flags) != 0 {
		t.Errorf("flags: got %+v, want none inside the dead-band", b.Flags)
	}
}

func TestParseRejectsSentAtFarFromServer(t *testing.T) {
	body := mustJSON(t, map[string]any{"sent_at": "2999-01-01T00:00:00Z", "events": []any{appEvent()}})
	b := Parse(body, "", receivedAt, testOpts)
	if b.RequestError == nil || b.RequestError.Code != CodeInvalidSentAt {
		t.Errorf("got %+v, want invalid_sent_at", b.RequestError)
	}
}

func TestParseAcceptsLowercaseTimeLetters(t *testing.T) {
	ev := appEvent()
	ev["timestamp"] = "2026-12-04t14:59:00.5z"
	b := Parse(mustJSON(t, ev), "", receivedAt, testOpts)
	if len(b.Accepted) != 1 || b.Accepted[0].Event.Timestamp != "2026-12-04T14:59:00.500Z" {
		t.Errorf("got accepted %+v rejected %+v", b.Accepted, b.Rejected)
	}
}

func TestParseRejectsNonObjectBodies(t *testing.T) {
	for name, body := range map[string]string{"null": "null", "number": "42", "byte order mark": "\xEF\xBB\xBF{}"} {
		t.Run(name, func(t *testing.T) {
			b := Parse([]byte(body), "", receivedAt, testOpts)
			if b.RequestError == nil || b.RequestError.Code != CodeInvalidJSON {
				t.Errorf("got %+v, want invalid_json", b.RequestError)
			}
		})
	}
}

func TestParseKeySeparatesScreens(t *testing.T) {
	home, cart := appEvent(), appEvent()
	cart["screen_name"] = "Cart"
	b := Parse(mustJSON(t, map[string]any{"events": []any{home, cart}}), "", receivedAt, testOpts)
	if len(b.Accepted) != 2 || b.Accepted[0].Event.IdempotencyKey == b.Accepted[1].Event.IdempotencyKey {
		t.Errorf("events on two screens: got accepted %+v rejected %+v, want two keys", b.Accepted, b.Rejected)
	}
}
