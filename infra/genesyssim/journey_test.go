package genesyssim

import (
	"net/http"
	"testing"
	"time"
)

func TestAppEventAccepted(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))

	res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	if res.status != http.StatusCreated {
		t.Fatalf("got status %d, want 201: %s", res.status, res.body)
	}

	var body map[string]any
	res.json(t, &body)
	for field, want := range map[string]any{
		"customerId":     testCookie,
		"customerIdType": "cookie",
		"eventName":      "screen_viewed",
		"screenName":     "Home",
		"createdDate":    formatTime(clock.Now()),
	} {
		if body[field] != want {
			t.Errorf("%s: got %v, want %v", field, body[field], want)
		}
	}
	if id, _ := body["id"].(string); !uuidPattern.MatchString(id) {
		t.Errorf("id: got %v, want a UUID", body["id"])
	}
	session, _ := body["session"].(map[string]any)
	if id, _ := session["id"].(string); !uuidPattern.MatchString(id) {
		t.Errorf("session.id: got %v, want a UUID", session["id"])
	}
	if res.header.Get("ININ-Correlation-Id") == "" {
		t.Error("missing ININ-Correlation-Id header")
	}

	events := s.Events()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	ev := events[0]
	wantIdentity, _ := EventIdentity([]byte(mustJSON(t, validAppEvent(clock.Now()))))
	if ev.Identity != wantIdentity {
		t.Errorf("identity: got %s, want %s", ev.Identity, wantIdentity)
	}
	if ev.Deployment != testDeployment || ev.EventName != "screen_viewed" ||
		ev.CustomerCookieID != testCookie || ev.Endpoint != EndpointAppEvents {
		t.Errorf("got event %+v, want the deployment, name, cookie and endpoint of the request", ev)
	}
	if ev.ID != body["id"] {
		t.Errorf("event id: got %s, want the response id %v", ev.ID, body["id"])
	}
}

func TestWebEventAccepted(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))

	res := post(t, webURL(base, testDeployment), mustJSON(t, validWebEvent(clock.Now())))
	if res.status != http.StatusCreated {
		t.Fatalf("got status %d, want 201: %s", res.status, res.body)
	}
	var body map[string]any
	res.json(t, &body)
	if body["customerIdType"] != "cookie" {
		t.Errorf("customerIdType: got %v, want cookie", body["customerIdType"])
	}
	if got := s.Stats().EventsAcceptedByEndpoint[EndpointWebEvents]; got != 1 {
		t.Errorf("accepted web events: got %d, want 1", got)
	}
}

func TestSessionContinuesUntilIdle(t *testing.T) {
	clock := newFakeClock()
	_, base := Start(t, newTestConfig(clock))
	sessionID := func() string {
		event := validAppEvent(clock.Now())
		res := post(t, appURL(base, testDeployment), mustJSON(t, event))
		var body struct {
			Session SessionInfo `json:"session"`
		}
		res.json(t, &body)
		return body.Session.ID
	}

	first := sessionID()
	clock.Advance(10 * time.Minute)
	if second := sessionID(); second != first {
		t.Errorf("session after 10 minutes: got %s, want %s", second, first)
	}
	clock.Advance(31 * time.Minute)
	if third := sessionID(); third == first {
		t.Errorf("session after 31 idle minutes: got the old id %s, want a new one", third)
	}
}

func TestUnknownDeploymentNotFound(t *testing.T) {
	clock := newFakeClock()
	_, base := Start(t, newTestConfig(clock))

	for name, url := range map[string]string{
		"appevents": appURL(base, "nope"),
		"webevents": webURL(base, "nope"),
	} {
		t.Run(name, func(t *testing.T) {
			res := post(t, url, mustJSON(t, validAppEvent(clock.Now())))
			if res.status != http.StatusNotFound {
				t.Fatalf("got status %d, want 404", res.status)
			}
			if body := res.errorBody(t); body.Code != codeNotFound || body.Status != 404 {
				t.Errorf("got code %q status %d, want not.found 404", body.Code, body.Status)
			}
			if res.header.Get("inin-ratelimit-allowed") == "" {
				t.Error("missing inin-ratelimit-allowed header")
			}
		})
	}
}

func TestAppEventValidation(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	tests := []struct {
		name   string
		mutate func(e map[string]any)
		field  string
	}{
		{"missing eventName", del("eventName"), "eventName"},
		{"empty eventName", set("eventName", ""), "eventName"},
		{"eventName with space", set("eventName", "screen viewed"), "eventName"},
		{"eventName with dash", set("eventName", "screen-viewed"), "eventName"},
		{"eventName not string", set("eventName", 5), "eventName"},
		{"missing screenName", del("screenName"), "screenName"},
		{"null screenName", set("screenName", nil), "screenName"},
		{"missing app", del("app"), "app"},
		{"app not object", set("app", "x"), "app"},
		{"missing app.name", delIn("app", "name"), "app.name"},
		{"missing app.namespace", delIn("app", "namespace"), "app.namespace"},
		{"missing app.version", delIn("app", "version"), "app.version"},
		{"missing app.buildNumber", delIn("app", "buildNumber"), "app.buildNumber"},
		{"unknown app field", setIn("app", "vendor", "x"), "app.vendor"},
		{"missing device", del("device"), "device"},
		{"missing device.category", delIn("device", "category"), "device.category"},
		{"invalid device.category", setIn("device", "category", "phone"), "device.category"},
		{"missing device.type", delIn("device", "type"), "device.type"},
		{"missing device.osFamily", delIn("device", "osFamily"), "device.osFamily"},
		{"missing device.osVersion", delIn("device", "osVersion"), "device.osVersion"},
		{"device.isMobile not bool", setIn("device", "isMobile", "yes"), "device.isMobile"},
		{"device.screenHeight fraction", setIn("device", "screenHeight", 1.5), "device.screenHeight"},
		{"device.screenDensity string", setIn("device", "screenDensity", "3"), "device.screenDensity"},
		{"missing customerCookieId", del("customerCookieId"), "customerCookieId"},
		{"customerCookieId not UUID", set("customerCookieId", "device-123"), "customerCookieId"},
		{"missing createdDate", del("createdDate"), "createdDate"},
		{"createdDate with offset", set("createdDate", "2026-06-01T12:00:00+00:00"), "createdDate"},
		{"createdDate without Z", set("createdDate", "2026-06-01T12:00:00"), "createdDate"},
		{"createdDate with micros", set("createdDate", "2026-06-01T12:00:00.000000Z"), "createdDate"},
		{"createdDate date only", set("createdDate", "2026-06-01"), "createdDate"},
		{"createdDate impossible", set("createdDate", "2026-02-30T12:00:00Z"), "createdDate"},
		{"createdDate over an hour old",
			set("createdDate", formatTime(now.Add(-time.Hour-time.Millisecond))), "createdDate"},
		{"createdDate in the future",
			set("createdDate", formatTime(now.Add(DefaultFutureTolerance+time.Second))), "createdDate"},
		{"unknown top-level field", set("session", map[string]any{"id": "x"}), "session"},
		{"sdkLibrary unknown field", setIn("sdkLibrary", "build", "1"), "sdkLibrary.build"},
		{"networkConnectivity wifi string", setIn("networkConnectivity", "wifiEnabled", "true"),
			"networkConnectivity.wifiEnabled"},
		{"referrerUrl not string", set("referrerUrl", 1), "referrerUrl"},
		{"attributes not object", set("attributes", []any{}), "attributes"},
		{"attribute without dataType", setIn("attributes", "plan", map[string]any{"value": "x"}),
			"attributes.plan.dataType"},
		{"attribute unknown dataType", setIn("attributes", "plan",
			map[string]any{"dataType": "date", "value": "x"}), "attributes.plan.dataType"},
		{"attribute value not string", setIn("attributes", "visits",
			map[string]any{"dataType": "integer", "value": 3}), "attributes.visits.value"},
		{"attribute integer not integer", setIn("attributes", "visits",
			map[string]any{"dataType": "integer", "value": "3.5"}), "attributes.visits.value"},
		{"attribute number not number", setIn("attributes", "visits",
			map[string]any{"dataType": "number", "value": "many"}), "attributes.visits.value"},
		{"attribute boolean not boolean", setIn("attributes", "visits",
			map[string]any{"dataType": "boolean", "value": "yes"}), "attributes.visits.value"},
		{"attribute unknown field", setIn("attributes", "plan",
			map[string]any{"dataType": "string", "value": "x", "unit": "y"}), "attributes.plan.unit"},
		{"trait value missing", setIn("traits", "vip", map[string]any{"dataType": "boolean"}),
			"traits.vip.value"},
	}

	_, base := Start(t, newTestConfig(clock))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := validAppEvent(now)
			tt.mutate(event)
			res := post(t, appURL(base, testDeployment), mustJSON(t, event))
			assertInvalidProperty(t, res, tt.field)
		})
	}
}

func TestWebEventValidation(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	tests := []struct {
		name   string
		mutate func(e map[string]any)
		field  string
	}{
		{"missing customerCookieId", del("customerCookieId"), "customerCookieId"},
		{"customerCookieId not UUID", set("customerCookieId", "abc"), "customerCookieId"},
		{"missing eventName", del("eventName"), "eventName"},
		{"eventName with dot", set("eventName", "page.viewed"), "eventName"},
		{"missing page", del("page"), "page"},
		{"missing page.url", delIn("page", "url"), "page.url"},
		{"missing page.title", delIn("page", "title"), "page.title"},
		{"missing createdDate", del("createdDate"), "createdDate"},
		{"createdDate over an hour old",
			set("createdDate", formatTime(now.Add(-2*time.Hour))), "createdDate"},
		{"unknown top-level field", set("screenName", "Home"), "screenName"},
		{"browser not object", set("browser", "Firefox"), "browser"},
	}

	_, base := Start(t, newTestConfig(clock))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := validWebEvent(now)
			tt.mutate(event)
			res := post(t, webURL(base, testDeployment), mustJSON(t, event))
			assertInvalidProperty(t, res, tt.field)
		})
	}
}

func TestJourneyEventMalformedBody(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))

	for name, body := range map[string]string{
		"not JSON": "{", "array": "[]", "null": "null", "empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			res := post(t, appURL(base, testDeployment), body)
			if res.status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400", res.status)
			}
			if got := res.errorBody(t); got.Code != codeBadRequest {
				t.Errorf("code: got %q, want %q", got.Code, codeBadRequest)
			}
		})
	}
	if got := s.Stats().EventsRejected; got != 4 {
		t.Errorf("rejected: got %d, want 4", got)
	}
}

func TestCreatedDateBoundaries(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	_, base := Start(t, newTestConfig(clock))

	for name, at := range map[string]time.Time{
		"exactly one hour old":        now.Add(-time.Hour),
		"at the future tolerance":     now.Add(DefaultFutureTolerance),
		"without milliseconds, now":   now,
		"one millisecond in the past": now.Add(-time.Millisecond),
	} {
		t.Run(name, func(t *testing.T) {
			event := validAppEvent(now)
			event["createdDate"] = formatTime(at)
			if name == "without milliseconds, now" {
				event["createdDate"] = at.Format("2006-01-02T15:04:05Z")
			}
			res := post(t, appURL(base, testDeployment), mustJSON(t, event))
			if res.status != http.StatusCreated {
				t.Errorf("got status %d, want 201: %s", res.status, res.body)
			}
		})
	}
}

func TestEventIdentityCanonical(t *testing.T) {
	a, err := EventIdentity([]byte(`{"b": 1, "a": {"y": true, "x": "s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := EventIdentity([]byte(`{"a":{"x":"s","y":true},"b":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("identities of reordered bodies differ: %s and %s", a, b)
	}
	c, _ := EventIdentity([]byte(`{"a":{"x":"s","y":true},"b":2}`))
	if c == a {
		t.Error("identities of different bodies are equal")
	}
	if _, err := EventIdentity([]byte("{")); err == nil {
		t.Error("got no error for invalid JSON")
	}
}

func assertInvalidProperty(t *testing.T, res result, field string) {
	t.Helper()
	if res.status != http.StatusBadRequest {
		t.Fatalf("got status %d, want 400: %s", res.status, res.body)
	}
	body := res.errorBody(t)
	if body.Code != codeInvalidProperty || body.Status != 400 || body.ContextID == "" {
		t.Errorf("got code %q status %d contextId %q, want invalid.property, 400 and an id",
			body.Code, body.Status, body.ContextID)
	}
	if body.ContextID != res.header.Get("ININ-Correlation-Id") {
		t.Errorf("contextId %q differs from ININ-Correlation-Id %q",
			body.ContextID, res.header.Get("ININ-Correlation-Id"))
	}
	for _, d := range body.Details {
		if d.FieldName == field {
			return
		}
	}
	t.Errorf("details %+v do not name field %s", body.Details, field)
}

func set(field string, value any) func(map[string]any) {
	return func(e map[string]any) { e[field] = value }
}

func del(field string) func(map[string]any) {
	return func(e map[string]any) { delete(e, field) }
}

func setIn(object, field string, value any) func(map[string]any) {
	return func(e map[string]any) { e[object].(map[string]any)[field] = value }
}

func delIn(object, field string) func(map[string]any) {
	return func(e map[string]any) { delete(e[object].(map[string]any), field) }
}
