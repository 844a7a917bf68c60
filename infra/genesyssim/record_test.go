package genesyssim

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestDuplicatesCounted(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	event := mustJSON(t, validAppEvent(clock.Now()))
	for range 3 {
		post(t, appURL(base, testDeployment), event)
	}
	token := getToken(t, base)
	postExternal(t, base, testConfig, token, validEntity("x-1", clock.Now()), validEntity("x-1", clock.Now()))

	stats := s.Stats()
	if stats.Duplicates != 3 {
		t.Errorf("duplicates: got %d, want 3", stats.Duplicates)
	}
	identity, _ := EventIdentity([]byte(event))
	want := []DuplicateIdentity{
		{Endpoint: EndpointAppEvents, Target: testDeployment, Identity: identity, Accepted: 3},
		{Endpoint: EndpointExternalEvents, Target: testConfig, Identity: "x-1", Accepted: 2},
	}
	if fmt.Sprint(stats.DuplicateIdentities) != fmt.Sprint(want) {
		t.Errorf("duplicate identities: got %+v, want %+v", stats.DuplicateIdentities, want)
	}
}

func TestPeakEventsPerSecond(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	send := func() { post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))) }

	// Three events 400ms apart, then a gap, then two events: the busiest one-second
	// window is the first 800ms, with three events.
	for range 3 {
		send()
		clock.Advance(400 * time.Millisecond)
	}
	clock.Advance(5 * time.Second)
	send()
	send()

	stats := s.Stats()
	if stats.PeakEventsPerSecond != 3 {
		t.Errorf("peak: got %d, want 3", stats.PeakEventsPerSecond)
	}
	if want := testStart.Add(800 * time.Millisecond); !stats.PeakAt.Equal(want) {
		t.Errorf("peakAt: got %s, want %s", stats.PeakAt, want)
	}
}

func TestRetentionBound(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.Retention = 3
	s, base := Start(t, cfg)
	token := getToken(t, base)
	for i := range 5 {
		postExternal(t, base, testConfig, token, validEntity(fmt.Sprint("e-", i), clock.Now()))
	}

	events := s.Events()
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3", len(events))
	}
	for i, ev := range events {
		if want := fmt.Sprint("e-", i+2); ev.Identity != want || ev.Seq != int64(i+3) {
			t.Errorf("event %d: got %s seq %d, want %s seq %d", i, ev.Identity, ev.Seq, want, i+3)
		}
	}
	stats := s.Stats()
	if stats.EventsAccepted != 5 || stats.EventsRetained != 3 || stats.EventsEvicted != 2 {
		t.Errorf("accepted %d retained %d evicted %d, want 5, 3, 2",
			stats.EventsAccepted, stats.EventsRetained, stats.EventsEvicted)
	}

	// e-0 left the identity table, so sending it again is not a detected duplicate,
	// while e-4 still is.
	postExternal(t, base, testConfig, token, validEntity("e-0", clock.Now()), validEntity("e-4", clock.Now()))
	if got := s.Stats().Duplicates; got != 1 {
		t.Errorf("duplicates: got %d, want 1", got)
	}
	if n := len(s.rec.identities); n > 3 {
		t.Errorf("identity table holds %d entries, want at most 3", n)
	}
}

func TestReset(t *testing.T) {
	clock := newFakeClock()
	cfg := newTestConfig(clock)
	cfg.DeploymentEventsPerSecond = 1
	s, base := Start(t, cfg)
	token := getToken(t, base)
	post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	s.SetFaults(Faults{Latency: &Latency{Delay: Duration(time.Millisecond)}})

	if res := post(t, base+"/_sim/reset", ""); res.status != http.StatusNoContent {
		t.Fatalf("reset: got status %d, want 204", res.status)
	}
	if n := len(s.Events()); n != 0 {
		t.Errorf("events after reset: got %d, want 0", n)
	}
	if stats := s.Stats(); stats.EventsAccepted != 0 || len(stats.Requests) != 0 || stats.TokensIssued != 0 {
		t.Errorf("stats after reset: got %+v, want zero counters", stats)
	}
	if f := s.CurrentFaults(); f.Latency != nil {
		t.Errorf("faults after reset: got %+v, want none", f)
	}

	// Configuration, tokens and a fresh rate budget remain.
	if res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now()))); res.status != 201 {
		t.Errorf("appevents after reset: got status %d, want 201", res.status)
	}
	if res := postExternal(t, base, testConfig, token, validEntity("e", clock.Now())); res.status != 200 {
		t.Errorf("external events with the old token: got status %d, want 200", res.status)
	}
}

func TestObservationEndpoints(t *testing.T) {
	clock := newFakeClock()
	s, base := Start(t, newTestConfig(clock))
	post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
	post(t, appURL(base, "nope"), "{}")

	var events []ReceivedEvent
	doRequest(t, http.DefaultClient, http.MethodGet, base+"/_sim/events", "", nil).json(t, &events)
	if len(events) != 1 || events[0].EventName != "screen_viewed" || len(events[0].Body) == 0 {
		t.Errorf("GET /_sim/events: got %+v, want the one accepted event with its body", events)
	}

	var stats Stats
	doRequest(t, http.DefaultClient, http.MethodGet, base+"/_sim/stats", "", nil).json(t, &stats)
	if stats.Requests[EndpointAppEvents]["201"] != 1 || stats.Requests[EndpointAppEvents]["404"] != 1 {
		t.Errorf("GET /_sim/stats requests: got %v, want one 201 and one 404", stats.Requests)
	}
	if stats.EventsAcceptedByEndpoint[EndpointAppEvents] != 1 {
		t.Errorf("accepted by endpoint: got %v, want appevents 1", stats.EventsAcceptedByEndpoint)
	}
	if direct := s.Stats(); direct.EventsAccepted != stats.EventsAccepted {
		t.Errorf("Stats() %d and GET /_sim/stats %d differ", direct.EventsAccepted, stats.EventsAccepted)
	}
}

func TestIDsDeterministicUnderSeed(t *testing.T) {
	run := func() []string {
		clock := newFakeClock()
		_, base := Start(t, newTestConfig(clock))
		var ids []string
		for range 3 {
			res := post(t, appURL(base, testDeployment), mustJSON(t, validAppEvent(clock.Now())))
			var body map[string]any
			res.json(t, &body)
			ids = append(ids, body["id"].(string), res.header.Get("ININ-Correlation-Id"))
		}
		return ids
	}

	first, again := run(), run()
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("same seed gave different ids:\n%v\n%v", first, again)
	}
}
