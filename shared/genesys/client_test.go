package genesys_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

// fakeGenesys is an httptest server whose handler a test sets.
type fakeGenesys struct {
	*httptest.Server
	newConns atomic.Int64
	mu       sync.Mutex
	handler  http.HandlerFunc
	requests []*http.Request
	bodies   [][]byte
}

func startFake(t testing.TB, handler http.HandlerFunc) *fakeGenesys {
	t.Helper()
	f := &fakeGenesys{handler: handler}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			f.newConns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGenesys) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	handler := f.handler
	f.mu.Unlock()
	handler(w, r)
}

// request returns the i-th request received and its body.
func (f *fakeGenesys) request(i int) (*http.Request, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[i], f.bodies[i]
}

// count returns the number of requests received.
func (f *fakeGenesys) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeGenesys) client(cfg genesys.Config) *genesys.Client {
	cfg.APIBaseURL = f.URL
	if cfg.DeploymentID == "" {
		cfg.DeploymentID = "dep-1"
	}
	return genesys.NewClient(cfg)
}

func respond(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for name, value := range header {
			w.Header().Set(name, value)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const jsonType = "application/json"

func TestSendClassifiesResponse(t *testing.T) {
	ev := readEvent(t, "app_minimal.json")
	date := "Fri, 04 Dec 2026 15:00:00 GMT"
	tests := []struct {
		name      string
		status    int
		handler   http.HandlerFunc
		want      genesys.Outcome
		code      string
		detail    string
		retry     time.Duration
		hasRetry  bool
		uncertain bool
	}{
		{name: "200", status: 200, handler: respond(200, nil, `{}`), want: genesys.Delivered},
		{name: "201", status: 201, handler: respond(201, nil, `{"id":"e-1"}`), want: genesys.Delivered},
		{
			name:    "400 json",
			status:  400,
			handler: respond(400, map[string]string{"Content-Type": jsonType}, `{"message":"eventName: must match","code":"invalid.property","status":400}`),
			want:    genesys.Permanent, code: "invalid.property",
			detail: "HTTP 400 invalid.property: eventName: must match",
		},
		{name: "409", status: 409, handler: respond(409, nil, `{"code":"conflict","message":"x"}`), want: genesys.Permanent, code: "conflict", detail: "HTTP 409 conflict: x"},
		{name: "413", status: 413, handler: respond(413, nil, ""), want: genesys.Permanent, detail: "HTTP 413"},
		{name: "422", status: 422, handler: respond(422, nil, `{"code":"unprocessable","message":"old event"}`), want: genesys.Permanent, code: "unprocessable", detail: "HTTP 422 unprocessable: old event"},
		{name: "401", status: 401, handler: respond(401, nil, `{"code":"bad.credentials","message":"no"}`), want: genesys.Unauthorized, code: "bad.credentials", detail: "HTTP 401 bad.credentials: no"},
		{name: "403", status: 403, handler: respond(403, nil, `{"code":"missing.permissions","message":"no"}`), want: genesys.Misconfigured, code: "missing.permissions", detail: "HTTP 403 missing.permissions: no"},
		{name: "404", status: 404, handler: respond(404, nil, `{"code":"not.found","message":"Deployment dep-1 was not found."}`), want: genesys.Misconfigured, code: "not.found", detail: "HTTP 404 not.found: Deployment dep-1 was not found."},
		{name: "302 not followed", status: 302, handler: respond(302, map[string]string{"Location": "/elsewhere"}, ""), want: genesys.Misconfigured, detail: "HTTP 302"},
		{name: "408", status: 408, handler: respond(408, nil, ""), want: genesys.Retry, detail: "HTTP 408"},
		{
			name:    "429 seconds",
			status:  429,
			handler: respond(429, map[string]string{"Retry-After": "3"}, `{"message":"Rate limit exceeded the maximum. Retry the request in [3] seconds","code":"too.many.requests.retry.after","status":429}`),
			want:    genesys.Retry, code: "too.many.requests.retry.after", retry: 3 * time.Second, hasRetry: true,
			detail: "HTTP 429 too.many.requests.retry.after: Rate limit exceeded the maximum. Retry the request in [3] seconds",
		},
		{
			name:    "429 http date",
			status:  429,
			handler: respond(429, map[string]string{"Retry-After": "Fri, 04 Dec 2026 15:00:42 GMT", "Date": date}, ""),
			want:    genesys.Retry, retry: 42 * time.Second, hasRetry: true, detail: "HTTP 429",
		},
		{name: "500 text", status: 500, handler: respond(500, map[string]string{"Content-Type": "text/plain"}, "internal\tfailure\n\n"), want: genesys.Retry, detail: "HTTP 500: internal failure"},
		{
			name:    "502 html",
			status:  502,
			handler: respond(502, map[string]string{"Content-Type": "text/html"}, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad &amp; gone</h1></body></html>"),
			want:    genesys.Retry, detail: "HTTP 502: 502 Bad Gateway Bad & gone",
		},
		{name: "503 bad retry-after", status: 503, handler: respond(503, map[string]string{"Retry-After": "later"}, ""), want: genesys.Retry, detail: "HTTP 503"},
		{name: "504 uncertain", status: 504, handler: respond(504, nil, ""), want: genesys.Retry, detail: "HTTP 504", uncertain: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, tt.handler)
			got := fake.client(genesys.Config{}).Send(context.Background(), ev)

			if got.Outcome != tt.want {
				t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, tt.want, got.Detail)
			}
			if got.Status != tt.status {
				t.Errorf("Status: got %d, want %d", got.Status, tt.status)
			}
			if got.Code != tt.code {
				t.Errorf("Code: got %q, want %q", got.Code, tt.code)
			}
			if got.Detail != tt.detail {
				t.Errorf("Detail: got %q, want %q", got.Detail, tt.detail)
			}
			if got.RetryAfter != tt.retry || got.HasRetryAfter != tt.hasRetry {
				t.Errorf("RetryAfter: got %v (%v), want %v (%v)", got.RetryAfter, got.HasRetryAfter, tt.retry, tt.hasRetry)
			}
			if got.Uncertain != tt.uncertain {
				t.Errorf("Uncertain: got %v, want %v", got.Uncertain, tt.uncertain)
			}
			if (got.Err == nil) != (tt.want == genesys.Delivered) {
				t.Errorf("Err: got %v, want an error for every outcome but delivered", got.Err)
			}
		})
	}
}

func TestSendRequestShape(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		path    string
		encode  func(journey.Event) ([]byte, error)
	}{
		{name: "app", fixture: "app_full.json", path: "/api/v2/journey/deployments/dep%2F1/appevents", encode: genesys.AppEventBody},
		{name: "web", fixture: "web_full.json", path: "/api/v2/journey/deployments/dep%2F1/webevents", encode: genesys.WebEventBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, respond(201, nil, "{}"))
			ev := readEvent(t, tt.fixture)
			if r := fake.client(genesys.Config{DeploymentID: "dep/1"}).Send(context.Background(), ev); r.Outcome != genesys.Delivered {
				t.Fatalf("Send: got %v (%s), want delivered", r.Outcome, r.Detail)
			}

			req, body := fake.request(0)
			if req.Method != http.MethodPost {
				t.Errorf("method: got %s, want POST", req.Method)
			}
			if got := req.URL.EscapedPath(); got != tt.path {
				t.Errorf("path: got %s, want %s", got, tt.path)
			}
			if got := req.Header.Get("Content-Type"); got != jsonType {
				t.Errorf("Content-Type: got %q, want %q", got, jsonType)
			}
			if got := req.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization: got %q, want none", got)
			}
			want, _ := tt.encode(ev)
			if string(body) != string(want) {
				t.Errorf("body: got %s, want %s", body, want)
			}
		})
	}
}

func TestSendWithoutRequest(t *testing.T) {
	app := readEvent(t, "app_minimal.json")
	custom := app
	custom.Type = journey.TypeCustom
	broken := app
	broken.App = nil

	tests := []struct {
		name string
		cfg  genesys.Config
		ev   journey.Event
		want genesys.Outcome
	}{
		{name: "no deployment", cfg: genesys.Config{APIBaseURL: "https://api.example"}, ev: app, want: genesys.Misconfigured},
		{name: "no base url", cfg: genesys.Config{DeploymentID: "d"}, ev: app, want: genesys.Misconfigured},
		{name: "base url without scheme", cfg: genesys.Config{APIBaseURL: "api.example", DeploymentID: "d"}, ev: app, want: genesys.Misconfigured},
		{name: "custom event", cfg: genesys.Config{APIBaseURL: "https://api.example", DeploymentID: "d"}, ev: custom, want: genesys.Permanent},
		{name: "incomplete event", cfg: genesys.Config{APIBaseURL: "https://api.example", DeploymentID: "d"}, ev: broken, want: genesys.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No test here may reach the network: a request would fail as a Retry.
			got := genesys.NewClient(tt.cfg).Send(context.Background(), tt.ev)
			if got.Outcome != tt.want {
				t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, tt.want, got.Detail)
			}
			if got.Err == nil {
				t.Errorf("Err: got nil, want an error")
			}
			if got.Status != 0 {
				t.Errorf("Status: got %d, want 0", got.Status)
			}
		})
	}
}

func TestSendDetailExcerpt(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "long multibyte text", body: strings.Repeat("é", 1000)},
		{name: "invalid utf8", body: "bad \xff\xfe bytes " + strings.Repeat("x", 400)},
		{name: "control characters", body: "line1\r\nline2\x00\x1b[31m" + strings.Repeat("ü", 300)},
		{name: "long json message", body: `{"code":"c","message":"` + strings.Repeat("日本", 200) + `"}`},
	}
	ev := readEvent(t, "app_minimal.json")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t, respond(400, map[string]string{"Content-Type": "text/plain"}, tt.body))
			got := fake.client(genesys.Config{}).Send(context.Background(), ev)

			if len(got.Detail) > 256 {
				t.Errorf("Detail length: got %d bytes, want at most 256", len(got.Detail))
			}
			if !utf8.ValidString(got.Detail) {
				t.Errorf("Detail: got invalid UTF-8 %q", got.Detail)
			}
			if strings.ContainsAny(got.Detail, "\r\n\x00\x1b") {
				t.Errorf("Detail: got control characters in %q", got.Detail)
			}
			if !strings.HasPrefix(got.Detail, "HTTP 400") {
				t.Errorf("Detail: got %q, want it to start with the status", got.Detail)
			}
		})
	}
}

func TestSendTransportFailures(t *testing.T) {
	ev := readEvent(t, "app_minimal.json")

	t.Run("connection refused", func(t *testing.T) {
		fake := startFake(t, respond(201, nil, ""))
		client := fake.client(genesys.Config{})
		fake.Close()

		got := client.Send(context.Background(), ev)
		assertRetry(t, got, false)
	})

	t.Run("connection closed after request", func(t *testing.T) {
		fake := startFake(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		})
		got := fake.client(genesys.Config{}).Send(context.Background(), ev)
		assertRetry(t, got, true)
	})

	t.Run("timeout after request", func(t *testing.T) {
		release := make(chan struct{})
		fake := startFake(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)

		got := fake.client(genesys.Config{Timeout: 50 * time.Millisecond}).Send(context.Background(), ev)
		assertRetry(t, got, true)
		if !errors.Is(got.Err, context.DeadlineExceeded) {
			t.Errorf("Err: got %v, want it to wrap %v", got.Err, context.DeadlineExceeded)
		}
		if !strings.Contains(got.Detail, "timed out") {
			t.Errorf("Detail: got %q, want it to say timed out", got.Detail)
		}
	})

	t.Run("context cancelled before sending", func(t *testing.T) {
		fake := startFake(t, respond(201, nil, ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		got := fake.client(genesys.Config{}).Send(ctx, ev)
		assertRetry(t, got, false)
		if n := fake.count(); n != 0 {
			t.Errorf("requests received: got %d, want 0", n)
		}
	})
}

func assertRetry(t *testing.T, got genesys.Result, uncertain bool) {
	t.Helper()
	if got.Outcome != genesys.Retry {
		t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, genesys.Retry, got.Detail)
	}
	if got.Status != 0 {
		t.Errorf("Status: got %d, want 0", got.Status)
	}
	if got.Uncertain != uncertain {
		t.Errorf("Uncertain: got %v, want %v (detail %q)", got.Uncertain, uncertain, got.Detail)
	}
	if got.Err == nil {
		t.Errorf("Err: got nil, want an error")
	}
}

func TestSendReusesConnections(t *testing.T) {
	// Error responses with a body the client reads only in part must still
	// leave the connection reusable.
	large := `{"code":"bad.request","message":"` + strings.Repeat("x", 100_000) + `"}`
	fake := startFake(t, respond(400, map[string]string{"Content-Type": jsonType}, large))
	client := fake.client(genesys.Config{})
	ev := readEvent(t, "app_minimal.json")

	for range 20 {
		if got := client.Send(context.Background(), ev); got.Outcome != genesys.Permanent {
			t.Fatalf("Outcome: got %v, want %v", got.Outcome, genesys.Permanent)
		}
	}
	if got := fake.newConns.Load(); got != 1 {
		t.Errorf("connections opened for 20 sequential requests: got %d, want 1", got)
	}
}

func TestSendCapsConnections(t *testing.T) {
	const maxConns = 2
	fake := startFake(t, respond(201, nil, "{}"))
	client := fake.client(genesys.Config{MaxConnsPerHost: maxConns})
	ev := readEvent(t, "app_minimal.json")

	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if got := client.Send(context.Background(), ev); got.Outcome != genesys.Delivered {
				t.Errorf("Outcome: got %v, want %v (detail %q)", got.Outcome, genesys.Delivered, got.Detail)
			}
		})
	}
	wg.Wait()
	if got := fake.newConns.Load(); got > maxConns {
		t.Errorf("connections opened: got %d, want at most %d", got, maxConns)
	}
}
