package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/queue"
)

// fakeLeases is an in-memory lease table that several engines can share.
type fakeLeases struct {
	mu          sync.Mutex
	until       map[string]time.Time
	now         func() time.Time
	registerErr error
	failWrites  int  // Register calls still to fail, after registerErr
	landAnyway  bool // a failing Register still stores the lease
	liveErr     error
	registered  int
	released    int
	counted     int
}

func newFakeLeases() *fakeLeases {
	return &fakeLeases{until: map[string]time.Time{}, now: time.Now}
}

func (f *fakeLeases) Register(_ context.Context, id string, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registered++
	failing := f.registerErr != nil || f.failWrites > 0
	if f.failWrites > 0 {
		f.failWrites--
	}
	if failing && !f.landAnyway {
		return errors.New("ProvisionedThroughputExceededException")
	}
	f.until[id] = until
	if failing {
		return errors.New("request timed out after the write")
	}
	return nil
}

func (f *fakeLeases) Release(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released++
	delete(f.until, id)
	return nil
}

func (f *fakeLeases) setRegisterErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registerErr = err
}

// liveNow counts the leases that have not ended.
func (f *fakeLeases) liveNow() int {
	live, _ := f.Live(context.Background())
	return live
}

func (f *fakeLeases) Live(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counted++
	if f.liveErr != nil {
		return 0, f.liveErr
	}
	live := 0
	for _, until := range f.until {
		if until.After(f.now()) {
			live++
		}
	}
	return live, nil
}

func (f *fakeLeases) setLiveErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.liveErr = err
}

func (f *fakeLeases) stored() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]time.Time, len(f.until))
	for id, until := range f.until {
		out[id] = until
	}
	return out
}

// shareEngine returns an engine with a budget of 90 events/s and 180
// requests/min over three instances, counting leases in leases.
func shareEngine(h *harness, leases Leases, log *slog.Logger) *Engine {
	h.cfg.EventsPerSecond = 90
	h.cfg.RequestsPerMinute = 180
	h.cfg.Instances = 3
	h.cfg.ShareRefresh = 5 * time.Millisecond
	h.cfg.Logger = log
	h.leases = leases
	return h.engine()
}

// deliverOne delivers one APP event through e with a one-minute deadline.
func deliverOne(t *testing.T, h *harness, e *Engine, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := e.Deliver(ctx, []queue.Message{h.message(key, "APP", time.Minute)})
	if out[0].Kind != Settled {
		t.Fatalf("Deliver(%s): kind %v, want settled", key, out[0].Kind)
	}
}

func TestDivisorFor(t *testing.T) {
	cases := []struct {
		live, instances, want int
	}{
		{live: 0, instances: 3, want: 1},
		{live: 1, instances: 3, want: 1},
		{live: 2, instances: 3, want: 2},
		{live: 3, instances: 3, want: 3},
		{live: 7, instances: 3, want: 3},
		{live: 2, instances: 1, want: 1},
	}
	for _, c := range cases {
		if got := divisorFor(c.live, c.instances); got != c.want {
			t.Errorf("divisorFor(%d, %d) = %d, want %d", c.live, c.instances, got, c.want)
		}
	}
}

func TestLaneShareSwapsLimiter(t *testing.T) {
	l := newLane(time.Second, 90, 3)
	if got := l.rate(); got != 30 {
		t.Fatalf("initial rate = %v, want 30", got)
	}
	first := l.limiter.Load()

	if !l.share(1) {
		t.Fatal("share(1) reported no change")
	}
	if got := l.rate(); got != 90 {
		t.Errorf("rate after share(1) = %v, want 90", got)
	}
	second := l.limiter.Load()
	if second == first {
		t.Error("share(1) kept the old limiter")
	}

	if l.share(1) {
		t.Error("share(1) again reported a change")
	}
	if l.limiter.Load() != second {
		t.Error("share(1) again replaced the limiter")
	}
}

func TestLaneShareKeepsPause(t *testing.T) {
	l := newLane(time.Second, 90, 3)
	until := time.Now().Add(time.Hour)
	l.pause(until)
	l.share(1)
	if got := l.paused(); !got.Equal(until) {
		t.Errorf("paused() after share = %v, want %v", got, until)
	}
}

func TestShareFixedWithoutLeases(t *testing.T) {
	h := newHarness()
	e := shareEngine(h, nil, nil)
	deliverOne(t, h, e, "k1")

	events, requests := e.Rates()
	if events != 30 {
		t.Errorf("events share = %v, want 30", events)
	}
	if requests != 60 {
		t.Errorf("requests share = %v, want 60", requests)
	}
}

func TestShareAloneTakesWholeBudget(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	e := shareEngine(h, leases, nil)
	end := e.Begin(context.Background())
	deliverOne(t, h, e, "k1")

	events, requests := e.Rates()
	if events != 90 {
		t.Errorf("events share = %v, want 90", events)
	}
	if requests != 180 {
		t.Errorf("requests share = %v, want 180", requests)
	}
	if got := leases.liveNow(); got != 1 {
		t.Errorf("live leases during the invocation = %d, want 1", got)
	}
	end()
	if got := len(leases.stored()); got != 0 {
		t.Errorf("leases after the invocation = %d, want 0", got)
	}
}

func TestShareSplitsBetweenEngines(t *testing.T) {
	leases := newFakeLeases()
	h1, h2 := newHarness(), newHarness()
	first, second := shareEngine(h1, leases, nil), shareEngine(h2, leases, nil)

	endFirst := first.Begin(context.Background())
	defer endFirst()
	deliverOne(t, h1, first, "k1")
	waitForRates(t, first, 90, 180)

	endSecond := second.Begin(context.Background())
	deliverOne(t, h2, second, "k2")
	if got, _ := second.Rates(); got != 45 {
		t.Errorf("second engine's share = %v, want 45", got)
	}
	waitForRates(t, first, 45, 90)

	endSecond()
	waitForRates(t, first, 90, 180)
}

func TestShareNeverBelowInstances(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	for _, id := range []string{"a", "b", "c", "d"} {
		leases.until[id] = time.Now().Add(time.Hour)
	}
	e := shareEngine(h, leases, nil)
	deliverOne(t, h, e, "k1")
	if got, _ := e.Rates(); got != 30 {
		t.Errorf("events share with 5 live leases = %v, want 30", got)
	}
}

func TestShareLeaseUntilDeadline(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	e := shareEngine(h, leases, nil)
	deadline := time.Now().Add(42 * time.Second).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	end := e.Begin(ctx)
	defer end()
	e.Deliver(ctx, []queue.Message{h.message("k1", "APP", time.Minute)})
	stored := leases.stored()
	if len(stored) != 1 {
		t.Fatalf("leases = %d, want 1", len(stored))
	}
	for id, until := range stored {
		if !until.Equal(deadline) {
			t.Errorf("lease %s until %v, want the deadline %v", id, until, deadline)
		}
	}
}

func TestShareOneLeasePerInvocation(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	e := shareEngine(h, leases, nil)

	end := e.Begin(context.Background())
	deliverOne(t, h, e, "k1")
	deliverOne(t, h, e, "k2")
	deliverOne(t, h, e, "k3")
	end()
	end()

	if leases.registered != 1 {
		t.Errorf("lease writes = %d, want 1", leases.registered)
	}
	if leases.released != 1 {
		t.Errorf("lease deletes = %d, want 1", leases.released)
	}
}

func TestShareDeliverAloneReleasesLease(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	e := shareEngine(h, leases, nil)
	deliverOne(t, h, e, "k1")
	deliverOne(t, h, e, "k2")

	if leases.registered != 2 {
		t.Errorf("lease writes = %d, want one per Deliver", leases.registered)
	}
	if got := len(leases.stored()); got != 0 {
		t.Errorf("leases after Deliver = %d, want 0", got)
	}
}

func TestShareNoLeaseWithoutMessages(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	e := shareEngine(h, leases, nil)
	end := e.Begin(context.Background())
	e.Deliver(context.Background(), nil)
	end()
	if leases.registered != 0 {
		t.Errorf("registered %d leases for no messages, want 0", leases.registered)
	}
}

func TestShareRegisterFailureKeepsSafeShare(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	leases.registerErr = errors.New("ProvisionedThroughputExceededException")
	var logged bytes.Buffer
	e := shareEngine(h, leases, slog.New(slog.NewTextHandler(&logged, nil)))

	end := e.Begin(context.Background())
	deliverOne(t, h, e, "k1")
	deliverOne(t, h, e, "k2")
	end()

	if got, _ := e.Rates(); got != 30 {
		t.Errorf("events share = %v, want the safe share 30", got)
	}
	if got := h.sender.sentCount("k1") + h.sender.sentCount("k2"); got != 2 {
		t.Errorf("sent %d events, want 2", got)
	}
	if leases.registered < 1 {
		t.Errorf("lease writes = %d, want at least one", leases.registered)
	}
	if leases.released != 1 {
		t.Errorf("lease deletes = %d, want 1, because a failed write may have landed", leases.released)
	}
	if got := strings.Count(logged.String(), "rate-share leases unavailable"); got != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", got, logged.String())
	}
}

func TestShareCountFailureKeepsSafeShare(t *testing.T) {
	h := newHarness()
	leases := newFakeLeases()
	var logged bytes.Buffer
	e := shareEngine(h, leases, slog.New(slog.NewTextHandler(&logged, nil)))

	end := e.Begin(context.Background())
	defer end()
	deliverOne(t, h, e, "k1")
	waitForRates(t, e, 90, 180)

	leases.setLiveErr(errors.New("connection refused"))
	waitForRates(t, e, 30, 60)
	leases.setLiveErr(nil)
	waitForRates(t, e, 90, 180)

	if got := strings.Count(logged.String(), "rate-share leases unavailable"); got != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", got, logged.String())
	}
}

func TestShareRegisterRetriedOnRefresh(t *testing.T) {
	table := newFakeLeases()
	table.failWrites = 1
	hA, hB := newHarness(), newHarness()
	a, b := shareEngine(hA, table, nil), shareEngine(hB, table, nil)

	endA := a.Begin(context.Background())
	defer endA()
	deliverOne(t, hA, a, "ka")
	endB := b.Begin(context.Background())
	defer endB()
	deliverOne(t, hB, b, "kb")

	waitForRates(t, a, 45, 90)
	waitForRates(t, b, 45, 90)
	if got := table.liveNow(); got != 2 {
		t.Errorf("live leases = %d, want both instances once the failed write was retried", got)
	}
}

func TestShareDeletesLeaseWrittenDespiteError(t *testing.T) {
	table := newFakeLeases()
	table.landAnyway = true
	table.setRegisterErr(errors.New("timed out"))
	h := newHarness()
	e := shareEngine(h, table, nil)

	end := e.Begin(context.Background())
	deliverOne(t, h, e, "k1")
	end()

	if got := len(table.stored()); got != 0 {
		t.Errorf("leases after the invocation = %d, want 0: the end deletes a lease whose write reported an error", got)
	}
}
