package token

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/testclock"
)

type fakeClock = testclock.Clock

func newFakeClock() *fakeClock {
	return testclock.New(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
}

// reply is one scripted response of fakeEndpoint. A zero reply issues a new token.
type reply struct {
	status int
	header http.Header
	body   string
}

// fakeEndpoint is an OAuth token endpoint that returns scripted responses and
// counts requests. Once the script is used up it issues tokens named
// token-1, token-2, ... with the configured lifetime.
type fakeEndpoint struct {
	server   *httptest.Server
	lifetime time.Duration

	mu       sync.Mutex
	script   []reply
	requests []*http.Request
	forms    []string
	issued   int
}

func newFakeEndpoint(t *testing.T, lifetime time.Duration, script ...reply) *fakeEndpoint {
	t.Helper()
	e := &fakeEndpoint{lifetime: lifetime, script: script}
	e.server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.server.Close)
	return e
}

func (e *fakeEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.requests = append(e.requests, r)
	e.forms = append(e.forms, string(body))
	var next reply
	if len(e.script) > 0 {
		next, e.script = e.script[0], e.script[1:]
	}
	if next.status == 0 {
		e.issued++
		next = reply{status: http.StatusOK, body: fmt.Sprintf(
			`{"access_token":"token-%d","token_type":"bearer","expires_in":%d}`,
			e.issued, int(e.lifetime/time.Second))}
	}
	e.mu.Unlock()

	for name, values := range next.header {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(next.status)
	_, _ = io.WriteString(w, next.body)
}

func (e *fakeEndpoint) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

// SetScript replaces the remaining scripted replies.
func (e *fakeEndpoint) SetScript(script ...reply) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.script = script
}

// repeat returns n copies of r.
func repeat(r reply, n int) []reply {
	out := make([]reply, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func oauthReply(status int, code string) reply {
	return reply{status: status, body: `{"error":"` + code + `","description":"the description of ` + code + `"}`}
}

func throttledReply(retryAfter string) reply {
	return reply{
		status: http.StatusTooManyRequests,
		header: http.Header{"Retry-After": {retryAfter}},
		body:   `{"message":"Rate limit exceeded","code":"too.many.requests.retry.after","status":429}`,
	}
}

// secretFunc is a SecretSource backed by a function.
type secretFunc func(ctx context.Context) (string, error)

func (f secretFunc) Get(ctx context.Context) (string, error) { return f(ctx) }

func credentialsJSON(loginURL string) string {
	body, _ := json.Marshal(map[string]string{
		"client_id":      "relay-client",
		"client_secret":  testClientSecret,
		"login_base_url": loginURL,
	})
	return string(body)
}

// countingMetrics is a Counter that keeps totals.
type countingMetrics struct {
	mu     sync.Mutex
	totals map[string]float64
}

func (m *countingMetrics) Add(name string, n float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.totals == nil {
		m.totals = map[string]float64{}
	}
	m.totals[name] += n
}

func (m *countingMetrics) Total(name string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totals[name]
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// issuerHarness is an Issuer wired to a fake endpoint, a fake clock, a log
// buffer and counting metrics.
type issuerHarness struct {
	issuer   *Issuer
	endpoint *fakeEndpoint
	clock    *fakeClock
	logs     *syncBuffer
	metrics  *countingMetrics
}

func newIssuerHarness(t *testing.T, endpoint *fakeEndpoint, opts IssuerOptions) *issuerHarness {
	t.Helper()
	h := &issuerHarness{endpoint: endpoint, clock: newFakeClock(), logs: &syncBuffer{}, metrics: &countingMetrics{}}
	source := secretFunc(func(context.Context) (string, error) {
		return credentialsJSON(endpoint.server.URL), nil
	})
	opts.Now = h.clock.Now
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Metrics = h.metrics
	if opts.Retry.BaseDelay == 0 {
		opts.Retry.BaseDelay = time.Millisecond
	}
	if opts.Retry.Jitter == 0 {
		opts.Retry.Jitter = time.Millisecond
	}
	h.issuer = NewIssuer(source, opts)
	return h
}

// retryDelays returns the delays the Issuer logged for its scheduled retries.
func (h *issuerHarness) retryDelays(t *testing.T) []time.Duration {
	t.Helper()
	var delays []time.Duration
	for _, line := range bytes.Split([]byte(h.logs.String()), []byte("\n")) {
		var record struct {
			Msg   string `json:"msg"`
			Delay int64  `json:"delay"`
		}
		if json.Unmarshal(line, &record) == nil && record.Msg == "token request failed; retrying" {
			delays = append(delays, time.Duration(record.Delay))
		}
	}
	return delays
}

func mustCurrent(t *testing.T, i *Issuer) Token {
	t.Helper()
	tok, err := i.Current(context.Background())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	return tok
}

func tokenName(n int) string { return "token-" + strconv.Itoa(n) }
