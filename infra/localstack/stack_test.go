package localstack

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// The replay that `relay-local -once` runs: every accepted event reaches the
// simulator exactly once and nothing is dead-lettered.
func TestReplayDeliversEveryAcceptedEventOnce(t *testing.T) {
	stack := startStack(t)
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
