package genesyssim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/testclock"
)

const (
	testDeployment = "dep-1"
	testConfig     = "cfg-1"
	testClient     = "client-1"
	testSecret     = "secret-1"
	testCookie     = "0f8fad5b-d9cb-469f-a165-70867728950e"
)

var testStart = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New(testStart) }

// newTestConfig returns a config with one deployment, one configuration, one client with
// the external-events permission, and the fake clock.
func newTestConfig(clock *fakeClock) Config {
	return Config{
		Seed:                   1,
		Deployments:            []string{testDeployment},
		ExternalConfigurations: []string{testConfig},
		Clients: []Client{
			{ID: testClient, Secret: testSecret, Permissions: []string{PermissionExternalEventsAdd}},
			{ID: "reader", Secret: "reader-secret", Permissions: []string{"journey:session:view"}},
		},
		Now: clock.Now,
	}
}

// result is a response with its body read.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
}

func (r result) errorBody(t testing.TB) ErrorBody {
	t.Helper()
	var body ErrorBody
	r.json(t, &body)
	return body
}

func doRequest(t testing.TB, client *http.Client, method, url, body string, header map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}
}

func post(t testing.TB, url, body string) result {
	t.Helper()
	return doRequest(t, http.DefaultClient, http.MethodPost, url, body, nil)
}

func appURL(base, deployment string) string {
	return base + "/api/v2/journey/deployments/" + deployment + "/appevents"
}

func webURL(base, deployment string) string {
	return base + "/api/v2/journey/deployments/" + deployment + "/webevents"
}

func externalURL(base, config string) string {
	return base + "/api/v2/journey/externalevents/configurations/" + config + "/events"
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func validAppEvent(now time.Time) map[string]any {
	return map[string]any{
		"eventName":  "screen_viewed",
		"screenName": "Home",
		"app": map[string]any{
			"name": "Relay Demo", "namespace": "com.example.relay", "version": "1.2.0", "buildNumber": "42",
		},
		"device": map[string]any{
			"category": "mobile", "type": "phone", "osFamily": "iOS", "osVersion": "17.4",
			"isMobile": true, "screenHeight": 2532, "screenWidth": 1170, "screenDensity": 3,
		},
		"customerCookieId": testCookie,
		"createdDate":      formatTime(now),
		"sdkLibrary":       map[string]any{"name": "relay-ios", "version": "0.1.0"},
		"networkConnectivity": map[string]any{
			"carrier": "Acme", "wifiEnabled": true, "cellularEnabled": false, "bluetoothEnabled": false,
		},
		"attributes": map[string]any{
			"plan":   map[string]any{"dataType": "string", "value": "gold"},
			"visits": map[string]any{"dataType": "integer", "value": "3"},
		},
		"traits": map[string]any{
			"score": map[string]any{"dataType": "number", "value": "4.5"},
			"vip":   map[string]any{"dataType": "boolean", "value": "true"},
		},
	}
}

func validWebEvent(now time.Time) map[string]any {
	return map[string]any{
		"customerCookieId": testCookie,
		"eventName":        "page_viewed",
		"page":             map[string]any{"url": "https://example.com/a", "title": "A", "domain": "example.com"},
		"createdDate":      formatTime(now),
		"userAgentString":  "Mozilla/5.0",
		"browser":          map[string]any{"family": "Firefox"},
	}
}

func validEntity(id string, now time.Time) map[string]any {
	return map[string]any{
		"id":          id,
		"dateCreated": formatTime(now),
		"identifiers": map[string]any{
			"externalIds": []any{map[string]any{"value": "cust-" + id, "externalSourceId": "crm"}},
		},
		"attributes": map[string]any{"tier": "gold"},
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(data)
}

// getToken requests a token for the test client and fails the test unless it gets one.
func getToken(t testing.TB, base string) string {
	t.Helper()
	res := doRequest(t, http.DefaultClient, http.MethodPost, base+"/oauth/token",
		"grant_type=client_credentials", map[string]string{
			"Content-Type":  "application/x-www-form-urlencoded",
			"Authorization": basicAuth(testClient, testSecret),
		})
	if res.status != http.StatusOK {
		t.Fatalf("token: got status %d, want 200: %s", res.status, res.body)
	}
	var token TokenResponse
	res.json(t, &token)
	return token.AccessToken
}

func basicAuth(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(id, secret)
	return req.Header.Get("Authorization")
}

func postExternal(t testing.TB, base, config, token string, entities ...map[string]any) result {
	t.Helper()
	list := make([]any, len(entities))
	for i, e := range entities {
		list[i] = e
	}
	return doRequest(t, http.DefaultClient, http.MethodPost, externalURL(base, config),
		mustJSON(t, map[string]any{"entities": list}),
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"})
}

// waitFor polls cond until it holds, failing the test after five seconds. It is for
// effects that the server records after the client already has its response.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
