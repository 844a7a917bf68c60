package token

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenSource is the interface the delivery engine declares for its tokens.
type tokenSource interface {
	Token(ctx context.Context) (string, error)
	Refresh(ctx context.Context, rejected string) (string, error)
}

var (
	_ tokenSource = (*Issuer)(nil)
	_ tokenSource = (*Client)(nil)
)

func TestIssuerSendsClientCredentialsGrant(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})

	tok := mustCurrent(t, h.issuer)

	if tok.Value != "token-1" {
		t.Errorf("token = %q, want token-1", tok.Value)
	}
	if want := h.clock.Now().Add(time.Hour); !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %s, want %s", tok.ExpiresAt, want)
	}
	req := endpoint.requests[0]
	if req.Method != http.MethodPost || req.URL.Path != "/oauth/token" {
		t.Errorf("request = %s %s, want POST /oauth/token", req.Method, req.URL.Path)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("relay-client:"+testClientSecret))
	if got := req.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization = %q, want %q", got, wantAuth)
	}
	if got := req.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", got)
	}
	if got := endpoint.forms[0]; got != "grant_type=client_credentials" {
		t.Errorf("body = %q, want grant_type=client_credentials", got)
	}
	if got := h.metrics.Total(MetricTokenFetches); got != 1 {
		t.Errorf("%s = %v, want 1", MetricTokenFetches, got)
	}
}

func TestIssuerCachesUntilRefreshMargin(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{RefreshMargin: 2 * time.Minute})

	steps := []struct {
		name         string
		advance      time.Duration
		wantToken    string
		wantRequests int
	}{
		{"first call fetches", 0, "token-1", 1},
		{"inside lifetime uses cache", 30 * time.Minute, "token-1", 1},
		{"just before margin uses cache", 28*time.Minute - time.Second, "token-1", 1},
		{"at margin fetches", time.Second, "token-2", 2},
		{"new token is cached", time.Minute, "token-2", 2},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			h.clock.Advance(step.advance)
			tok := mustCurrent(t, h.issuer)
			if tok.Value != step.wantToken {
				t.Errorf("token = %q, want %q", tok.Value, step.wantToken)
			}
			if got := endpoint.Requests(); got != step.wantRequests {
				t.Errorf("token requests = %d, want %d", got, step.wantRequests)
			}
		})
	}
}

func TestIssuerConcurrentCallersShareOneFetch(t *testing.T) {
	endpoint := newFakeEndpoint(t, 10*time.Minute)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	mustCurrent(t, h.issuer)
	h.clock.Advance(10 * time.Minute) // the cached token has now expired

	tokens := callConcurrently(t, 50, func() (string, error) {
		return h.issuer.Token(context.Background())
	})

	if got := endpoint.Requests(); got != 2 {
		t.Errorf("token requests = %d, want 2 (one at start, one for all 50 callers)", got)
	}
	for i, tok := range tokens {
		if tok != "token-2" {
			t.Errorf("caller %d got %q, want token-2", i, tok)
		}
	}
}

// callConcurrently runs call in n goroutines released together and returns their results.
func callConcurrently(t *testing.T, n int, call func() (string, error)) []string {
	t.Helper()
	results := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = call()
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	return results
}

func TestIssuerRetriesThrottledRequest(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
	}{
		{"delay seconds", func(time.Time) string { return "1" }},
		{"HTTP-date", func(now time.Time) string { return now.Add(time.Second).Format(http.TimeFormat) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint := newFakeEndpoint(t, time.Hour)
			jitter := 20 * time.Millisecond
			h := newIssuerHarness(t, endpoint, IssuerOptions{Retry: RetryOptions{Jitter: jitter}})
			endpoint.SetScript(throttledReply(tt.retryAfter(h.clock.Now())))

			tok := mustCurrent(t, h.issuer)

			if tok.Value != "token-1" {
				t.Errorf("token = %q, want token-1", tok.Value)
			}
			if got := endpoint.Requests(); got != 2 {
				t.Errorf("token requests = %d, want 2", got)
			}
			delays := h.retryDelays(t)
			if len(delays) != 1 {
				t.Fatalf("retry delays = %v, want one", delays)
			}
			if delays[0] < time.Second || delays[0] > time.Second+2*jitter {
				t.Errorf("retry delay = %s, want from 1s to %s", delays[0], time.Second+2*jitter)
			}
		})
	}
}

func TestIssuerFailsFastWhenRetryAfterTooLong(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour, throttledReply("3600"))
	h := newIssuerHarness(t, endpoint, IssuerOptions{Retry: RetryOptions{MaxWait: 10 * time.Second}})

	_, err := h.issuer.Current(context.Background())

	var endpointErr *EndpointError
	if !errors.As(err, &endpointErr) || endpointErr.Status != http.StatusTooManyRequests {
		t.Fatalf("error = %v, want an EndpointError with status 429", err)
	}
	if !errors.Is(err, errRetryAfterTooLong) {
		t.Errorf("error = %v, want errRetryAfterTooLong", err)
	}
	if got := endpoint.Requests(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

func TestIssuerFailsFastWhenRetryAfterPassesDeadline(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour, throttledReply("5"))
	h := newIssuerHarness(t, endpoint, IssuerOptions{Retry: RetryOptions{MaxWait: 10 * time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	_, err := h.issuer.Current(ctx)

	if !errors.Is(err, errRetryAfterTooLong) {
		t.Errorf("error = %v, want errRetryAfterTooLong", err)
	}
	if got := endpoint.Requests(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

func TestIssuerRetryLimits(t *testing.T) {
	tests := []struct {
		name         string
		script       []reply
		wantToken    string
		wantStatus   int
		wantRequests int
	}{
		{"503 then success", repeat(oauthReply(503, "server_error"), 2), "token-1", 0, 3},
		{"502 and 504 then success", []reply{oauthReply(502, ""), oauthReply(504, "")}, "token-1", 0, 3},
		{"503 on every attempt", repeat(oauthReply(503, "server_error"), 10), "", 503, 4},
		{"401 is not retried", []reply{oauthReply(401, "invalid_client")}, "", 401, 1},
		{"500 is not retried", []reply{oauthReply(500, "server_error")}, "", 500, 1},
		{"400 is not retried", []reply{oauthReply(400, "unsupported_grant_type")}, "", 400, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := newFakeEndpoint(t, time.Hour, tt.script...)
			h := newIssuerHarness(t, endpoint, IssuerOptions{Retry: RetryOptions{MaxAttempts: 4}})

			tok, err := h.issuer.Current(context.Background())

			if got := endpoint.Requests(); got != tt.wantRequests {
				t.Errorf("token requests = %d, want %d", got, tt.wantRequests)
			}
			if tt.wantStatus == 0 {
				if err != nil || tok.Value != tt.wantToken {
					t.Errorf("Current = %q, %v; want %q, nil", tok.Value, err, tt.wantToken)
				}
				return
			}
			var endpointErr *EndpointError
			if !errors.As(err, &endpointErr) || endpointErr.Status != tt.wantStatus {
				t.Fatalf("error = %v, want an EndpointError with status %d", err, tt.wantStatus)
			}
			if got := h.metrics.Total(MetricTokenFetchFailures); got != 1 {
				t.Errorf("%s = %v, want 1", MetricTokenFetchFailures, got)
			}
		})
	}
}

func TestIssuerErrorCarriesStatusAndCodeOnly(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour, oauthReply(401, "invalid_client"))
	h := newIssuerHarness(t, endpoint, IssuerOptions{})

	_, err := h.issuer.Current(context.Background())
	if err == nil {
		t.Fatal("Current: got nil error, want the 401")
	}

	msg := err.Error()
	for _, want := range []string{"401", "invalid_client", "relay-client"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error = %q, want it to contain %q", msg, want)
		}
	}
	for _, leak := range []string{"description", testClientSecret} {
		if strings.Contains(msg, leak) {
			t.Errorf("error = %q, want it without %q", msg, leak)
		}
	}
}

func TestIssuerServesCachedTokenWhenRefreshFails(t *testing.T) {
	endpoint := newFakeEndpoint(t, 10*time.Minute)
	h := newIssuerHarness(t, endpoint, IssuerOptions{FailureCooldown: 30 * time.Second})
	mustCurrent(t, h.issuer)
	endpoint.SetScript(repeat(oauthReply(500, "server_error"), 100)...)

	steps := []struct {
		name         string
		advance      time.Duration
		wantToken    string // empty means an error
		wantRequests int
	}{
		{"refresh fails inside margin", 9*time.Minute + 10*time.Second, "token-1", 2},
		{"cooldown holds off the next request", 10 * time.Second, "token-1", 2},
		{"after cooldown a refresh is tried again", 21 * time.Second, "token-1", 3},
		{"past real expiry the error is returned", time.Minute, "", 4},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			h.clock.Advance(step.advance)
			tok, err := h.issuer.Current(context.Background())
			if step.wantToken == "" && err == nil {
				t.Errorf("Current = %q, want an error", tok.Value)
			}
			if step.wantToken != "" && (err != nil || tok.Value != step.wantToken) {
				t.Errorf("Current = %q, %v; want %q, nil", tok.Value, err, step.wantToken)
			}
			if got := endpoint.Requests(); got != step.wantRequests {
				t.Errorf("token requests = %d, want %d", got, step.wantRequests)
			}
		})
	}
	if got := h.metrics.Total(MetricStaleServed); got != 2 {
		t.Errorf("%s = %v, want 2", MetricStaleServed, got)
	}
}

func TestIssuerRefreshRejected(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	first := mustCurrent(t, h.issuer)

	tokens := callConcurrently(t, 30, func() (string, error) {
		tok, err := h.issuer.RefreshRejected(context.Background(), first.SHA256())
		return tok.Value, err
	})

	if got := endpoint.Requests(); got != 2 {
		t.Errorf("token requests = %d, want 2 (one at start, one for all 30 reports)", got)
	}
	for i, tok := range tokens {
		if tok != "token-2" {
			t.Errorf("caller %d got %q, want token-2", i, tok)
		}
	}

	steps := []struct {
		name     string
		rejected string
	}{
		{"report of the replaced token", first.SHA256()},
		{"report of an unknown token", SHA256("never-issued")},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			tok, err := h.issuer.RefreshRejected(context.Background(), step.rejected)
			if err != nil || tok.Value != "token-2" {
				t.Errorf("RefreshRejected = %q, %v; want token-2, nil", tok.Value, err)
			}
			if got := endpoint.Requests(); got != 2 {
				t.Errorf("token requests = %d, want 2", got)
			}
		})
	}
}

func TestIssuerRefreshTakesRawToken(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	first, err := h.issuer.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	second, err := h.issuer.Refresh(context.Background(), first)

	if err != nil || second != "token-2" {
		t.Errorf("Refresh = %q, %v; want token-2, nil", second, err)
	}
}

func TestIssuerNeverServesRejectedToken(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	first := mustCurrent(t, h.issuer)
	endpoint.SetScript(repeat(oauthReply(500, "server_error"), 10)...)

	_, refreshErr := h.issuer.RefreshRejected(context.Background(), first.SHA256())
	tok, currentErr := h.issuer.Current(context.Background())

	if refreshErr == nil {
		t.Error("RefreshRejected: got nil error, want the failed fetch")
	}
	if currentErr == nil {
		t.Errorf("Current after rejection = %q, want an error", tok.Value)
	}
}

func TestIssuerSecretErrors(t *testing.T) {
	tests := []struct {
		name    string
		secret  func(context.Context) (string, error)
		wantErr string
	}{
		{
			name:    "secret unavailable",
			secret:  func(context.Context) (string, error) { return "", errors.New("get secret x: ThrottlingException") },
			wantErr: "read Genesys client secret: get secret x: ThrottlingException",
		},
		{
			name:    "secret without client id",
			secret:  func(context.Context) (string, error) { return `{"client_secret":"` + testClientSecret + `"}`, nil },
			wantErr: "client_id is missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := &countingMetrics{}
			issuer := NewIssuer(secretFunc(tt.secret), IssuerOptions{Metrics: metrics})

			_, err := issuer.Current(context.Background())

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testClientSecret) {
				t.Errorf("error = %q, want it without the client secret", err)
			}
			if got := metrics.Total(MetricTokenFetchFailures); got != 1 {
				t.Errorf("%s = %v, want 1", MetricTokenFetchFailures, got)
			}
		})
	}
}

func TestIssuerLogsNeitherSecretNorToken(t *testing.T) {
	endpoint := newFakeEndpoint(t, 10*time.Minute, oauthReply(503, "server_error"))
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	first := mustCurrent(t, h.issuer)
	endpoint.SetScript(oauthReply(500, "server_error"))
	h.clock.Advance(9*time.Minute + 30*time.Second)
	mustCurrent(t, h.issuer) // served from the cache after the failure

	logs := h.logs.String()
	for _, want := range []string{"fetched access token", "retrying", "serving the cached token"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, leak := range []string{testClientSecret, first.Value} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q:\n%s", leak, logs)
		}
	}
}

func TestIssuerCallerCancellation(t *testing.T) {
	endpoint := newFakeEndpoint(t, time.Hour)
	h := newIssuerHarness(t, endpoint, IssuerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := h.issuer.Current(ctx)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
