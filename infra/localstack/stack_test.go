package localstack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/journeyrelay/relay/infra/lambdarun"
)

// startStack starts the whole local stack with the real function bootstraps.
func startStack(t *testing.T) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := lambdarun.ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := Start(ctx, Config{
		Root:           root,
		Names:          uniqueNames(),
		APIAddr:        "127.0.0.1:0",
		SchedulePeriod: 5 * time.Second,
		FunctionOutput: testWriter{t},
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatalf("start the local stack: %v", err)
	}
	t.Cleanup(stack.Close)
	return stack
}

// testWriter sends the functions' logs to the test log, which go test shows
// only for a failed test or with -v.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The stack is started once, because building and starting seven function
// instances is the slow part; the subtests run in order.
func TestLocalStack(t *testing.T) {
	stack := startStack(t)

	t.Run("replay delivers each accepted event once", func(t *testing.T) {
		testReplay(t, stack)
	})
	t.Run("schedule invokes flush drain", func(t *testing.T) {
		testScheduledDrain(t, stack)
	})
	t.Run("token through Invoke router", func(t *testing.T) {
		testTokenThroughRouter(t, stack)
	})
	t.Run("other methods get ingest's 405", func(t *testing.T) {
		testMethodNotAllowed(t, stack)
	})
}

// testMethodNotAllowed checks that methods other than POST on /v1/events
// reach ingest, which returns 405 with Allow: POST, as the template's ANY
// route makes API Gateway do.
func testMethodNotAllowed(t *testing.T, stack *Stack) {
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		req, err := http.NewRequest(method, stack.APIURL+"/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status: got %d, want 405", method, resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "POST" {
			t.Errorf("%s: Allow header: got %q, want POST", method, got)
		}
	}
}

// testReplay runs the replay of `relay-local -once`: every accepted event
// reaches the simulator exactly once and nothing is dead-lettered.
func testReplay(t *testing.T, stack *Stack) {
	sessions, err := LoadTraffic(filepath.Join(stack.cfg.Root, "events", "traffic"))
	if err != nil {
		t.Fatal(err)
	}

	replayer := &Replayer{APIURL: stack.APIURL, AppKey: stack.AppKey}
	report, err := replayer.Replay(context.Background(), sessions, time.Now())
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := stack.AwaitDelivery(ctx, report); err != nil {
		t.Fatalf("AwaitDelivery: %v", err)
	}
	var summary strings.Builder
	report.Print(&summary)
	t.Logf("replay summary:\n%s", summary.String())

	if err := report.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if report.Delivered != report.DistinctAccepted() {
		t.Errorf("delivered: got %d, want all %d distinct accepted events", report.Delivered, report.DistinctAccepted())
	}
	checks := []struct {
		name string
		got  int
	}{
		{"accepted", report.Accepted},
		{"duplicates suppressed", report.DuplicatesSuppressed},
		{"skew-corrected", report.SkewCorrected},
		{"rejected invalid_event_name", report.Rejected["invalid_event_name"]},
		{"rejected unauthorized", report.Rejected["unauthorized"]},
		{"rejected too_old", report.Rejected["too_old"]},
	}
	for _, c := range checks {
		if c.got == 0 {
			t.Errorf("%s: got 0, want the sample traffic to produce some", c.name)
		}
	}
}

// testScheduledDrain sends flush the event of an EventBridge schedule rule.
func testScheduledDrain(t *testing.T, stack *Stack) {
	fn := &recordingInvoker{next: stack.Functions["flush"]}
	schedule := &Schedule{Function: fn, RuleARN: "arn:aws:events:us-east-1:123456789012:rule/drain", Region: "us-east-1"}

	if err := schedule.Fire(context.Background(), time.Now()); err != nil {
		t.Fatalf("Fire: %v", err)
	}
	if !strings.Contains(string(fn.output), `"received"`) {
		t.Errorf("flush output: got %s, want its drain summary", fn.output)
	}
}

// testTokenThroughRouter invokes token with the AWS SDK through the Invoke
// router, as flush does, and checks that it returns a simulator token.
func testTokenThroughRouter(t *testing.T, stack *Stack) {
	client := lambdaClient(t, stack.Router)

	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:token"),
		Payload:      []byte(`{"force_refresh":false,"rejected_token_sha256":""}`),
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.FunctionError != nil {
		t.Fatalf("FunctionError %s: %s", *out.FunctionError, out.Payload)
	}
	var token struct {
		AccessToken string `json:"access_token"`
		ExpiresAt   string `json:"expires_at"`
	}
	if err := json.Unmarshal(out.Payload, &token); err != nil {
		t.Fatal(err)
	}
	if token.AccessToken == "" {
		t.Error("access_token is empty")
	}
	if _, err := time.Parse(time.RFC3339, token.ExpiresAt); err != nil {
		t.Errorf("expires_at %q is not RFC 3339: %v", token.ExpiresAt, err)
	}
}

// recordingInvoker keeps the output of the last invocation it passes on.
type recordingInvoker struct {
	next   Invoker
	output []byte
}

func (r *recordingInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	output, err := r.next.Invoke(ctx, payload)
	r.output = output
	return output, err
}
