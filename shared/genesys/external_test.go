package genesys_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

func customEvents(t *testing.T, n int) []journey.Event {
	t.Helper()
	var batch []journey.Event
	readJSON(t, "custom_batch.json", &batch)
	evs := make([]journey.Event, n)
	for i := range evs {
		evs[i] = batch[i%len(batch)]
		evs[i].IdempotencyKey = "k-" + string(rune('a'+i))
	}
	return evs
}

func externalClient(fake *fakeGenesys) *genesys.Client {
	return fake.client(genesys.Config{ExternalConfigurationID: "cfg-1", ExternalSourceID: "source-1"})
}

func outcomes(results []genesys.Result) []genesys.Outcome {
	out := make([]genesys.Outcome, len(results))
	for i, r := range results {
		out[i] = r.Outcome
	}
	return out
}

func assertOutcomes(t *testing.T, results []genesys.Result, want ...genesys.Outcome) {
	t.Helper()
	if len(results) != len(want) {
		t.Fatalf("results: got %v, want %v", outcomes(results), want)
	}
	for i := range want {
		if results[i].Outcome != want[i] {
			t.Errorf("result %d: got %v, want %v (detail %q)", i, results[i].Outcome, want[i], results[i].Detail)
		}
	}
}

func TestSendExternalRequestShape(t *testing.T) {
	fake := startFake(t, respond(200, nil, `{"unprocessedEntities":[]}`))
	evs := customEvents(t, 2)

	results := externalClient(fake).SendExternal(context.Background(), "token-abc", evs)
	assertOutcomes(t, results, genesys.Delivered, genesys.Delivered)

	req, body := fake.request(0)
	if got, want := req.URL.Path, "/api/v2/journey/externalevents/configurations/cfg-1/events"; got != want {
		t.Errorf("path: got %s, want %s", got, want)
	}
	if got, want := req.Header.Get("Authorization"), "Bearer token-abc"; got != want {
		t.Errorf("Authorization: got %q, want %q", got, want)
	}
	want, _ := genesys.ExternalEventsBody(evs, "source-1")
	if string(body) != string(want) {
		t.Errorf("body: got %s, want %s", body, want)
	}
}

func TestSendExternalUnprocessedEntities(t *testing.T) {
	response := `{"unprocessedEntities":[
		{"event":{},"originalRequestIndex":1,"isRetryable":true,"errorMessage":"throttled","statusCode":429},
		{"event":{},"originalRequestIndex":2,"isRetryable":false,"errorMessage":"dateCreated: too old","statusCode":400},
		{"event":{},"originalRequestIndex":7,"isRetryable":false,"errorMessage":"out of range","statusCode":400}
	]}`
	fake := startFake(t, respond(200, map[string]string{"Retry-After": "2"}, response))

	results := externalClient(fake).SendExternal(context.Background(), "token", customEvents(t, 4))
	assertOutcomes(t, results, genesys.Delivered, genesys.Retry, genesys.Permanent, genesys.Delivered)

	if got := results[1]; got.Status != 429 || got.RetryAfter != 2*time.Second || !got.HasRetryAfter {
		t.Errorf("retryable entity: got status %d, retry after %v (%v), want 429, 2s (true)", got.Status, got.RetryAfter, got.HasRetryAfter)
	}
	if got, want := results[2].Detail, "entity not processed, HTTP 400: dateCreated: too old"; got != want {
		t.Errorf("rejected entity Detail: got %q, want %q", got, want)
	}
	if results[2].HasRetryAfter {
		t.Errorf("rejected entity HasRetryAfter: got true, want false")
	}
	if results[0].Err != nil || results[3].Err != nil {
		t.Errorf("delivered entities Err: got %v and %v, want nil", results[0].Err, results[3].Err)
	}
}

func TestSendExternalSkipsInvalidEvents(t *testing.T) {
	// The request holds events 0 and 2, so Genesys's index 1 is event 2.
	response := `{"unprocessedEntities":[{"originalRequestIndex":1,"isRetryable":true,"errorMessage":"busy","statusCode":503}]}`
	fake := startFake(t, respond(200, nil, response))
	evs := customEvents(t, 3)
	evs[1].UserID = ""

	results := externalClient(fake).SendExternal(context.Background(), "token", evs)
	assertOutcomes(t, results, genesys.Delivered, genesys.Permanent, genesys.Retry)

	var sent struct {
		Entities []json.RawMessage `json:"entities"`
	}
	_, body := fake.request(0)
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("decode request body: %v", err)
	}
	if got := len(sent.Entities); got != 2 {
		t.Errorf("entities sent: got %d, want 2", got)
	}
}

func TestSendExternalWholeRequest(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		want      genesys.Outcome
		uncertain bool
	}{
		{name: "empty 200 body", handler: respond(200, nil, ""), want: genesys.Delivered},
		{name: "202 with no list", handler: respond(202, nil, "{}"), want: genesys.Delivered},
		{name: "unreadable 200 body", handler: respond(200, nil, "<html>ok</html>"), want: genesys.Retry, uncertain: true},
		{name: "401", handler: respond(401, nil, `{"code":"bad.credentials","message":"Invalid login credentials."}`), want: genesys.Unauthorized},
		{name: "403", handler: respond(403, nil, `{"code":"missing.permissions","message":"no"}`), want: genesys.Misconfigured},
		{name: "400 batch", handler: respond(400, nil, `{"code":"bad.request","message":"bad"}`), want: genesys.Permanent},
		{name: "429", handler: respond(429, map[string]string{"Retry-After": "9"}, ""), want: genesys.Retry},
		{name: "503", handler: respond(503, nil, ""), want: genesys.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, tt.handler)
			results := externalClient(fake).SendExternal(context.Background(), "token", customEvents(t, 3))

			assertOutcomes(t, results, tt.want, tt.want, tt.want)
			for i, r := range results {
				if r.Uncertain != tt.uncertain {
					t.Errorf("result %d Uncertain: got %v, want %v", i, r.Uncertain, tt.uncertain)
				}
			}
		})
	}
}

func TestSendExternalWithoutRequest(t *testing.T) {
	fake := startFake(t, respond(200, nil, ""))
	tests := []struct {
		name  string
		cfg   genesys.Config
		token string
		want  genesys.Outcome
	}{
		{name: "no configuration", cfg: genesys.Config{ExternalSourceID: "s"}, token: "t", want: genesys.Misconfigured},
		{name: "no source", cfg: genesys.Config{ExternalConfigurationID: "c"}, token: "t", want: genesys.Misconfigured},
		{name: "no token", cfg: genesys.Config{ExternalConfigurationID: "c", ExternalSourceID: "s"}, want: genesys.Unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fake.client(tt.cfg).SendExternal(context.Background(), tt.token, customEvents(t, 2))
			assertOutcomes(t, results, tt.want, tt.want)
		})
	}
	if n := fake.count(); n != 0 {
		t.Errorf("requests received: got %d, want 0", n)
	}

	if got := externalClient(fake).SendExternal(context.Background(), "t", nil); len(got) != 0 {
		t.Errorf("results for no events: got %d, want 0", len(got))
	}
}

func TestSendExternalKeepsTokenOutOfResults(t *testing.T) {
	const token = "secret-token-value"
	fake := startFake(t, respond(401, nil, `{"code":"bad.credentials","message":"Invalid login credentials."}`))

	for _, r := range externalClient(fake).SendExternal(context.Background(), token, customEvents(t, 1)) {
		for _, text := range []string{r.Detail, r.Err.Error(), r.Code} {
			if strings.Contains(text, token) {
				t.Errorf("result text %q contains the access token", text)
			}
		}
	}
}
