package token

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

var _ Invoker = (*lambda.Client)(nil)

// fakeInvoker replaces the token function in tests. It records each request
// and returns the next scripted output, or a new token once the script is used up.
type fakeInvoker struct {
	clock    *fakeClock
	lifetime time.Duration

	mu       sync.Mutex
	script   []invokeReply
	requests []Request
	issued   int
}

type invokeReply struct {
	out *lambda.InvokeOutput
	err error
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req Request
	if err := json.Unmarshal(in.Payload, &req); err != nil {
		return nil, err
	}
	f.requests = append(f.requests, req)
	if len(f.script) > 0 {
		next := f.script[0]
		f.script = f.script[1:]
		return next.out, next.err
	}
	f.issued++
	payload, _ := json.Marshal(Response{
		AccessToken: tokenName(f.issued),
		ExpiresAt:   f.clock.Now().Add(f.lifetime).Format(time.RFC3339),
	})
	return &lambda.InvokeOutput{StatusCode: 200, Payload: payload}, nil
}

func (f *fakeInvoker) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *fakeInvoker) SetScript(script ...invokeReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

func newTestClient(lifetime time.Duration) (*Client, *fakeInvoker, *fakeClock) {
	clock := newFakeClock()
	invoker := &fakeInvoker{clock: clock, lifetime: lifetime}
	client := NewClient(invoker, "relay-token", ClientOptions{Now: clock.Now, FailureCooldown: 30 * time.Second})
	return client, invoker, clock
}

func TestClientCachesUntilRefreshMargin(t *testing.T) {
	client, invoker, clock := newTestClient(time.Hour)

	steps := []struct {
		name        string
		advance     time.Duration
		wantToken   string
		wantInvokes int
	}{
		{"first call invokes", 0, "token-1", 1},
		{"inside lifetime uses cache", 58*time.Minute + 59*time.Second, "token-1", 1},
		{"at margin invokes", time.Second, "token-2", 2},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			clock.Advance(step.advance)
			tok, err := client.Token(context.Background())
			if err != nil || tok != step.wantToken {
				t.Errorf("Token = %q, %v; want %q, nil", tok, err, step.wantToken)
			}
			if got := len(invoker.Requests()); got != step.wantInvokes {
				t.Errorf("invocations = %d, want %d", got, step.wantInvokes)
			}
		})
	}
	for i, req := range invoker.Requests() {
		if req.ForceRefresh || req.RejectedTokenSHA256 != "" {
			t.Errorf("request %d = %+v, want no forced refresh", i, req)
		}
	}
}

func TestClientRefreshSendsRejectedDigest(t *testing.T) {
	client, invoker, _ := newTestClient(time.Hour)
	first, err := client.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	tokens := callConcurrently(t, 30, func() (string, error) {
		return client.Refresh(context.Background(), first)
	})

	requests := invoker.Requests()
	if len(requests) != 2 {
		t.Fatalf("invocations = %d, want 2 (one at start, one for all 30 reports)", len(requests))
	}
	want := Request{ForceRefresh: true, RejectedTokenSHA256: SHA256(first)}
	if requests[1] != want {
		t.Errorf("refresh request = %+v, want %+v", requests[1], want)
	}
	for i, tok := range tokens {
		if tok != "token-2" {
			t.Errorf("caller %d got %q, want token-2", i, tok)
		}
	}
}

func TestClientRefreshOfReplacedTokenDoesNotInvoke(t *testing.T) {
	client, invoker, _ := newTestClient(time.Hour)
	first, _ := client.Token(context.Background())
	if _, err := client.Refresh(context.Background(), first); err != nil {
		t.Fatal(err)
	}

	tok, err := client.Refresh(context.Background(), first)

	if err != nil || tok != "token-2" {
		t.Errorf("Refresh = %q, %v; want token-2, nil", tok, err)
	}
	if got := len(invoker.Requests()); got != 2 {
		t.Errorf("invocations = %d, want 2", got)
	}
}

func TestClientFunctionErrorHidesPayload(t *testing.T) {
	client, invoker, _ := newTestClient(time.Hour)
	invoker.SetScript(invokeReply{out: &lambda.InvokeOutput{
		StatusCode:    200,
		FunctionError: aws.String("Unhandled"),
		Payload:       []byte(`{"errorMessage":"payload-detail-7731","errorType":"tokenError"}`),
	}})

	_, err := client.Token(context.Background())

	if err == nil {
		t.Fatal("Token: got nil error, want the function error")
	}
	for _, want := range []string{"relay-token", "Unhandled"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "payload-detail-7731") {
		t.Errorf("error = %q, want it without the payload", err)
	}
}

func TestClientServesCachedTokenWhenInvokeFails(t *testing.T) {
	client, invoker, clock := newTestClient(10 * time.Minute)
	if _, err := client.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	invoker.SetScript(invokeReply{err: errors.New("connection refused")})
	clock.Advance(9*time.Minute + 30*time.Second)

	tok, err := client.Token(context.Background())

	if err != nil || tok != "token-1" {
		t.Errorf("Token = %q, %v; want token-1, nil", tok, err)
	}
	if got := len(invoker.Requests()); got != 2 {
		t.Errorf("invocations = %d, want 2", got)
	}
}

func TestClientRejectsInvalidResponse(t *testing.T) {
	now := newFakeClock().Now()
	tests := []struct {
		name    string
		payload string
		wantErr string
	}{
		{"not JSON", `"oops`, "invalid JSON"},
		{"missing token", `{"expires_at":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}`, "access_token is missing"},
		{"bad expiry", `{"access_token":"t","expires_at":"tomorrow"}`, `expires_at "tomorrow"`},
		{"expired token", `{"access_token":"t","expires_at":"` + now.Add(-time.Second).Format(time.RFC3339) + `"}`, "already expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, invoker, _ := newTestClient(time.Hour)
			invoker.SetScript(invokeReply{out: &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(tt.payload)}})

			_, err := client.Token(context.Background())

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
