package genesyssim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExternalEventsAccepted(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	token := getToken(t, base)

	res := postExternal(t, base, testConfig, token,
		validEntity("e-1", clock.Now()), validEntity("e-2", clock.Now()))
	if res.status != http.StatusOK {
		t.Fatalf("got status %d, want 200: %s", res.status, res.body)
	}
	var body ExternalEventsResponse
	res.json(t, &body)
	if body.UnprocessedEntities == nil || len(body.UnprocessedEntities) != 0 {
		t.Errorf("unprocessedEntities: got %v, want an empty list", body.UnprocessedEntities)
	}

	events := s.Events()
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2", len(events))
	}
	if events[0].Identity != "e-1" || events[0].Config != testConfig || events[0].ExternalID != "cust-e-1" {
		t.Errorf("got event %+v, want identity e-1, configuration %s, external id cust-e-1",
			events[0], testConfig)
	}
}

func TestExternalEventsUnknownConfiguration(t *testing.T) {
	clock := newFakeClock()
	_, base := Start(t, newTestConfig(clock))
	res := postExternal(t, base, "nope", getToken(t, base), validEntity("e-1", clock.Now()))
	if res.status != http.StatusNotFound {
		t.Fatalf("got status %d, want 404", res.status)
	}
	if got := res.errorBody(t).Code; got != codeNotFound {
		t.Errorf("code: got %q, want %q", got, codeNotFound)
	}
}

func TestExternalEventsRequestShape(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.MaxExternalEntities = 3
	_, base := Start(t, cfg)
	token := getToken(t, base)

	entities := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = mustJSON(t, validEntity(fmt.Sprint("e-", i), clock.Now()))
		}
		return `{"entities":[` + strings.Join(list, ",") + `]}`
	}
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"at the entity limit", entities(3), 200},
		{"over the entity limit", entities(4), 400},
		{"no entities", `{"entities":[]}`, 400},
		{"missing entities", `{}`, 400},
		{"unknown top-level field", `{"entities":[],"extra":1}`, 400},
		{"not JSON", `{`, 400},
		{"entities not array", `{"entities":{}}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, http.DefaultClient, http.MethodPost, externalURL(base, testConfig), tt.body,
				map[string]string{"Authorization": "Bearer " + token})
			if res.status != tt.status {
				t.Fatalf("got status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 400 && res.errorBody(t).Status != 400 {
				t.Errorf("body status: got %s, want 400", res.body)
			}
		})
	}
}

func TestExternalEntityValidation(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	tests := []struct {
		name   string
		mutate func(map[string]any)
	}{
		{"missing id", del("id")},
		{"empty id", set("id", "")},
		{"id not string", set("id", 7)},
		{"missing dateCreated", del("dateCreated")},
		{"dateCreated without ms", set("dateCreated", "2026-06-01T12:00:00Z")},
		{"dateCreated with offset", set("dateCreated", "2026-06-01T12:00:00.000+02:00")},
		{"dateCreated too old", set("dateCreated", formatTime(now.Add(-61*time.Minute)))},
		{"dateCreated in the future", set("dateCreated", formatTime(now.Add(time.Minute)))},
		{"missing identifiers", del("identifiers")},
		{"missing externalIds", set("identifiers", map[string]any{})},
		{"empty externalIds", set("identifiers", map[string]any{"externalIds": []any{}})},
		{"externalIds not array", set("identifiers", map[string]any{"externalIds": "x"})},
		{"externalId without value", set("identifiers", map[string]any{
			"externalIds": []any{map[string]any{"externalSourceId": "crm"}}})},
		{"externalId without source", set("identifiers", map[string]any{
			"externalIds": []any{map[string]any{"value": "v"}}})},
		{"externalId not object", set("identifiers", map[string]any{"externalIds": []any{"v"}})},
		{"unknown field", set("eventName", "x")},
		{"attributes not object", set("attributes", "x")},
	}

	s, base := Start(t, newTestConfig(clock))
	token := getToken(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := validEntity("bad", now)
			tt.mutate(bad)
			res := postExternal(t, base, testConfig, token, validEntity("good", now), bad)
			if res.status != http.StatusOK {
				t.Fatalf("got status %d, want 200: %s", res.status, res.body)
			}
			var body ExternalEventsResponse
			res.json(t, &body)
			if len(body.UnprocessedEntities) != 1 {
				t.Fatalf("got %d unprocessed entities, want 1: %s", len(body.UnprocessedEntities), res.body)
			}
			got := body.UnprocessedEntities[0]
			if got.OriginalRequestIndex != 1 || got.StatusCode != 400 || got.IsRetryable || got.ErrorMessage == "" {
				t.Errorf("got %+v, want index 1, status 400, not retryable, with a message", got)
			}
			if string(got.Event) != mustJSON(t, bad) {
				t.Errorf("event: got %s, want the entity as sent", got.Event)
			}
		})
	}
	if got := s.Stats().EventsAccepted; got != int64(len(tests)) {
		t.Errorf("accepted: got %d, want %d (the valid entity of each request)", got, len(tests))
	}
}

func TestExternalEventsPartialFailure(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.Faults = Faults{PartialFailure: &PartialFailure{Probability: 0.5}}
	s, base := Start(t, cfg)

	var entities []map[string]any
	for i := range 40 {
		entities = append(entities, validEntity(fmt.Sprint("e-", i), clock.Now()))
	}
	res := postExternal(t, base, testConfig, getToken(t, base), entities...)
	var body ExternalEventsResponse
	res.json(t, &body)

	n := len(body.UnprocessedEntities)
	if n == 0 || n == 40 {
		t.Fatalf("got %d of 40 unprocessed at probability 0.5, want some but not all", n)
	}
	for _, u := range body.UnprocessedEntities {
		if u.StatusCode != 429 || !u.IsRetryable {
			t.Errorf("got %+v, want status 429 and retryable", u)
		}
	}
	stats := s.Stats()
	if stats.EventsAccepted != int64(40-n) || stats.EntitiesUnprocessed != int64(n) {
		t.Errorf("accepted %d unprocessed %d, want %d and %d",
			stats.EventsAccepted, stats.EntitiesUnprocessed, 40-n, n)
	}
}
