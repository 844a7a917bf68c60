package genesys_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

const (
	simClient       = "relay"
	simSecret       = "relay-secret"
	simReader       = "reader"
	simReaderSecret = "reader-secret"
)

// startSim runs the Genesys simulator with deployment dep-1, configuration
// cfg-1, a client allowed to add external events and one that is not.
func startSim(t *testing.T) (*genesyssim.Server, string) {
	t.Helper()
	return genesyssim.Start(t, genesyssim.Config{
		Seed:                   1,
		Deployments:            []string{"dep-1"},
		ExternalConfigurations: []string{"cfg-1"},
		Clients: []genesyssim.Client{
			{ID: simClient, Secret: simSecret, Permissions: []string{genesyssim.PermissionExternalEventsAdd}},
			{ID: simReader, Secret: simReaderSecret, Permissions: []string{"journey:session:view"}},
		},
	})
}

func simClientFor(baseURL string, timeout time.Duration) *genesys.Client {
	return genesys.NewClient(genesys.Config{
		APIBaseURL:              baseURL,
		DeploymentID:            "dep-1",
		ExternalConfigurationID: "cfg-1",
		ExternalSourceID:        "source-1",
		Timeout:                 timeout,
	})
}

// fetchToken obtains an access token from the simulator's OAuth endpoint.
func fetchToken(t *testing.T, baseURL, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()

	var token genesyssim.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&token); err != nil || token.AccessToken == "" {
		t.Fatalf("token response %d: %v", resp.StatusCode, err)
	}
	return token.AccessToken
}

// liveEvent reads a fixture and dates it a second ago, inside the one-hour
// window Genesys accepts.
func liveEvent(t *testing.T, fixture string) journey.Event {
	t.Helper()
	ev := readEvent(t, fixture)
	ev.Timestamp = time.Now().Add(-time.Second).UTC().Format(journey.TimeLayout)
	return ev
}

func liveCustomEvents(t *testing.T, n int) []journey.Event {
	t.Helper()
	evs := customEvents(t, n)
	for i := range evs {
		evs[i].Timestamp = time.Now().Add(-time.Second).UTC().Format(journey.TimeLayout)
	}
	return evs
}

func TestSimulatorAcceptsEvents(t *testing.T) {
	sim, baseURL := startSim(t)
	client := simClientFor(baseURL, 0)

	for _, fixture := range []string{"app_full.json", "app_minimal.json", "web_full.json", "web_minimal.json"} {
		t.Run(fixture, func(t *testing.T) {
			got := client.Send(context.Background(), liveEvent(t, fixture))
			if got.Outcome != genesys.Delivered {
				t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, genesys.Delivered, got.Detail)
			}
		})
	}

	t.Run("external events", func(t *testing.T) {
		token := fetchToken(t, baseURL, simClient, simSecret)
		evs := liveCustomEvents(t, 3)
		assertOutcomes(t, client.SendExternal(context.Background(), token, evs),
			genesys.Delivered, genesys.Delivered, genesys.Delivered)

		ids := map[string]bool{}
		for _, received := range sim.Events() {
			if received.Endpoint == genesyssim.EndpointExternalEvents {
				ids[received.Identity] = true
			}
		}
		for i, ev := range evs {
			if !ids[genesys.EntityID(ev.IdempotencyKey)] {
				t.Errorf("event %d: entity id %s not received", i, genesys.EntityID(ev.IdempotencyKey))
			}
		}
	})

	stats := sim.Stats()
	if got := stats.EventsAccepted; got != 7 {
		t.Errorf("events accepted: got %d, want 7", got)
	}
	if got := stats.EventsRejected; got != 0 {
		t.Errorf("events rejected: got %d, want 0", got)
	}
}

func TestSimulatorSeesResentEntityAsDuplicate(t *testing.T) {
	sim, baseURL := startSim(t)
	client := simClientFor(baseURL, 0)
	token := fetchToken(t, baseURL, simClient, simSecret)
	evs := liveCustomEvents(t, 1)

	for range 2 {
		assertOutcomes(t, client.SendExternal(context.Background(), token, evs), genesys.Delivered)
	}
	if got := sim.Stats().Duplicates; got != 1 {
		t.Errorf("duplicates: got %d, want 1", got)
	}
}

func TestSimulatorRejections(t *testing.T) {
	_, baseURL := startSim(t)
	old := liveEvent(t, "app_minimal.json")
	old.Timestamp = time.Now().Add(-2 * time.Hour).UTC().Format(journey.TimeLayout)
	badName := liveEvent(t, "web_minimal.json")
	badName.Name = "page viewed!"

	tests := []struct {
		name   string
		client *genesys.Client
		ev     journey.Event
		want   genesys.Outcome
		status int
		code   string
	}{
		{name: "event older than an hour", client: simClientFor(baseURL, 0), ev: old,
			want: genesys.Permanent, status: 400, code: "invalid.property"},
		{name: "invalid event name", client: simClientFor(baseURL, 0), ev: badName,
			want: genesys.Permanent, status: 400, code: "invalid.property"},
		{name: "unknown deployment", ev: liveEvent(t, "app_minimal.json"),
			client: genesys.NewClient(genesys.Config{APIBaseURL: baseURL, DeploymentID: "nope"}),
			want:   genesys.Misconfigured, status: 404, code: "not.found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.client.Send(context.Background(), tt.ev)
			assertResult(t, got, tt.want, tt.status, tt.code)
			if !strings.HasPrefix(got.Detail, "HTTP ") {
				t.Errorf("Detail: got %q, want the status first", got.Detail)
			}
		})
	}
}

func TestSimulatorExternalRejections(t *testing.T) {
	_, baseURL := startSim(t)
	token := fetchToken(t, baseURL, simClient, simSecret)
	readerToken := fetchToken(t, baseURL, simReader, simReaderSecret)
	unknownConfig := genesys.NewClient(genesys.Config{
		APIBaseURL: baseURL, ExternalConfigurationID: "nope", ExternalSourceID: "source-1",
	})

	tests := []struct {
		name   string
		client *genesys.Client
		token  string
		want   genesys.Outcome
		status int
		code   string
	}{
		{name: "unknown token", client: simClientFor(baseURL, 0), token: "not-a-token",
			want: genesys.Unauthorized, status: 401, code: "bad.credentials"},
		{name: "missing permission", client: simClientFor(baseURL, 0), token: readerToken,
			want: genesys.Misconfigured, status: 403, code: "missing.permissions"},
		{name: "unknown configuration", client: unknownConfig, token: token,
			want: genesys.Misconfigured, status: 404, code: "not.found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := tt.client.SendExternal(context.Background(), tt.token, liveCustomEvents(t, 2))
			for _, got := range results {
				assertResult(t, got, tt.want, tt.status, tt.code)
			}
		})
	}

	t.Run("one stale entity", func(t *testing.T) {
		evs := liveCustomEvents(t, 3)
		evs[1].Timestamp = time.Now().Add(-2 * time.Hour).UTC().Format(journey.TimeLayout)
		results := simClientFor(baseURL, 0).SendExternal(context.Background(), token, evs)
		assertOutcomes(t, results, genesys.Delivered, genesys.Permanent, genesys.Delivered)
		if got := results[1].Status; got != 400 {
			t.Errorf("stale entity Status: got %d, want 400", got)
		}
	})
}

func assertResult(t *testing.T, got genesys.Result, want genesys.Outcome, status int, code string) {
	t.Helper()
	if got.Outcome != want {
		t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, want, got.Detail)
	}
	if got.Status != status {
		t.Errorf("Status: got %d, want %d", got.Status, status)
	}
	if got.Code != code {
		t.Errorf("Code: got %q, want %q", got.Code, code)
	}
}
