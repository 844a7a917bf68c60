package breaker_test

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/testclock"
	"github.com/journeyrelay/relay/shared/breaker"
)

var start = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

const (
	threshold    = 3
	openDelay    = 30 * time.Second
	maxOpenDelay = 100 * time.Second
	probeTimeout = 10 * time.Second
	syncInterval = time.Second
)

type clock = testclock.Clock

// countingDB counts the reads of the shared item.
type countingDB struct {
	*dynamodb.Client
	reads atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.reads.Add(1)
	return c.Client.GetItem(ctx, in, optFns...)
}

type fixture struct {
	db    *countingDB
	table string
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, res := awslocal.StartT(t)
	return &fixture{
		db:    &countingDB{Client: dynamodb.NewFromConfig(emu.Config)},
		table: res.Table,
		clock: testclock.New(start),
	}
}

// transitions records the changes a breaker reports.
type transitions struct {
	mu   sync.Mutex
	seen []string
}

func (tr *transitions) record(from, to breaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen = append(tr.seen, from.String()+"->"+to.String())
}

func (tr *transitions) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.seen...)
}

func (f *fixture) config(owner string) breaker.Config {
	return breaker.Config{
		FailureThreshold: threshold,
		OpenDelay:        openDelay,
		MaxOpenDelay:     maxOpenDelay,
		ProbeTimeout:     probeTimeout,
		SyncInterval:     syncInterval,
		Owner:            owner,
		Now:              f.clock.Now,
	}
}

func (f *fixture) newBreaker(owner string, tr *transitions) *breaker.Breaker {
	return f.newBreakerOn(f.db, f.table, owner, tr)
}

func (f *fixture) newBreakerOn(db breaker.DynamoDB, table, owner string, tr *transitions) *breaker.Breaker {
	cfg := f.config(owner)
	if tr != nil {
		cfg.OnStateChange = tr.record
	}
	return breaker.New(db, table, cfg)
}

// mustAcquire returns the release function of b, failing the test when b is open.
func mustAcquire(t *testing.T, b *breaker.Breaker) func(bool) {
	t.Helper()
	release, err := b.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: got %v, want a permit", err)
	}
	return release
}

// mustBeOpen checks that b rejects a request until the given time.
func mustBeOpen(t *testing.T, b *breaker.Breaker, until time.Time) {
	t.Helper()
	release, err := b.Acquire(context.Background())
	if err == nil {
		release(true)
		t.Fatalf("Acquire: got a permit, want an OpenError until %v", until)
	}
	var open *breaker.OpenError
	if !errors.As(err, &open) {
		t.Fatalf("Acquire: got %v, want an OpenError", err)
	}
	if !open.Until.Equal(until) {
		t.Errorf("OpenError.Until: got %v, want %v", open.Until, until)
	}
}

func fail(t *testing.T, b *breaker.Breaker, times int) {
	t.Helper()
	for range times {
		mustAcquire(t, b)(false)
	}
}

func TestBreakerOpensAfterThreshold(t *testing.T) {
	f := newFixture(t)
	b := f.newBreaker("a", nil)

	fail(t, b, threshold-1)
	mustAcquire(t, b)(true)
	fail(t, b, threshold-1)
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("State after failures split by a success: got %v, want %v", got, breaker.Closed)
	}

	fail(t, b, 1)
	if got := b.State(); got != breaker.Open {
		t.Fatalf("State after %d failures in a row: got %v, want %v", threshold, got, breaker.Open)
	}
	mustBeOpen(t, b, start.Add(openDelay))

	item := f.item(t)
	if got := stringAttr(item, "state"); got != "open" {
		t.Errorf("shared state: got %q, want %q", got, "open")
	}
	if got, want := numberAttr(item, "open_until"), start.Add(openDelay).UnixMilli(); got != want {
		t.Errorf("shared open_until: got %d, want %d", got, want)
	}
	if got := numberAttr(item, "opened_count"); got != 1 {
		t.Errorf("shared opened_count: got %d, want 1", got)
	}
	if got, want := numberAttr(item, "expires_at"), start.Add(7*24*time.Hour).Unix(); got != want {
		t.Errorf("shared expires_at: got %d, want %d", got, want)
	}
}

func TestBreakersShareState(t *testing.T) {
	f := newFixture(t)
	a := f.newBreaker("a", nil)
	b := f.newBreaker("b", nil)
	mustAcquire(t, b)(true)

	fail(t, a, threshold)
	f.clock.Advance(syncInterval)
	mustBeOpen(t, b, start.Add(openDelay))
	if got := b.State(); got != breaker.Open {
		t.Errorf("State of the other instance: got %v, want %v", got, breaker.Open)
	}
}

func TestBreakerReadsAtMostOncePerInterval(t *testing.T) {
	f := newFixture(t)
	b := f.newBreaker("a", nil)

	for range 10 {
		mustAcquire(t, b)(true)
	}
	if got := f.db.reads.Load(); got != 1 {
		t.Errorf("reads within one interval: got %d, want 1", got)
	}

	f.clock.Advance(syncInterval)
	mustAcquire(t, b)(true)
	if got := f.db.reads.Load(); got != 2 {
		t.Errorf("reads after the interval: got %d, want 2", got)
	}
}

func TestBreakerGrantsOneProbe(t *testing.T) {
	f := newFixture(t)
	a := f.newBreaker("a", nil)
	b := f.newBreaker("b", nil)
	fail(t, a, threshold)
	mustBeOpen(t, b, start.Add(openDelay))

	f.clock.Advance(openDelay)
	probeExpires := start.Add(openDelay + probeTimeout)
	release := mustAcquire(t, a)
	if got := a.State(); got != breaker.HalfOpen {
		t.Errorf("State of the probing instance: got %v, want %v", got, breaker.HalfOpen)
	}
	mustBeOpen(t, b, probeExpires)
	mustBeOpen(t, a, probeExpires)

	f.clock.Advance(syncInterval)
	mustBeOpen(t, b, probeExpires)
	release(true)
}

func TestBreakerProbeClaimOnStaleState(t *testing.T) {
	f := newFixture(t)
	opener := f.newBreaker("opener", nil)
	fail(t, opener, threshold)

	// Instances that never read the item again all see an elapsed open delay.
	stale := make([]*breaker.Breaker, 4)
	for i := range stale {
		cfg := f.config("stale-" + strconv.Itoa(i))
		cfg.SyncInterval = time.Hour
		stale[i] = breaker.New(f.db, f.table, cfg)
		mustBeOpen(t, stale[i], start.Add(openDelay))
	}
	f.clock.Advance(openDelay)

	release := mustAcquire(t, stale[0])
	for _, b := range stale[1:] {
		mustBeOpen(t, b, start.Add(openDelay+probeTimeout))
	}
	release(true)
}

func TestBreakerConcurrentProbeClaims(t *testing.T) {
	f := newFixture(t)
	const instances = 8
	breakers := make([]*breaker.Breaker, instances)
	for i := range breakers {
		breakers[i] = f.newBreaker("instance-"+strconv.Itoa(i), nil)
	}
	fail(t, breakers[0], threshold)
	f.clock.Advance(openDelay)

	var permits atomic.Int64
	var wg sync.WaitGroup
	for _, b := range breakers {
		wg.Go(func() {
			if _, err := b.Acquire(context.Background()); err == nil {
				permits.Add(1)
			}
		})
	}
	wg.Wait()
	if got := permits.Load(); got != 1 {
		t.Errorf("probes granted: got %d, want 1", got)
	}
}

func TestBreakerOneProbePerInstance(t *testing.T) {
	tests := []struct{ name, table string }{
		{name: "shared table"},
		{name: "unreachable table", table: "missing-table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			table := cmp.Or(tt.table, f.table)
			b := f.newBreakerOn(f.db, table, "a", nil)
			fail(t, b, threshold)
			f.clock.Advance(openDelay)

			var permits atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					if _, err := b.Acquire(context.Background()); err == nil {
						permits.Add(1)
					}
				})
			}
			wg.Wait()
			if got := permits.Load(); got != 1 {
				t.Errorf("probes granted: got %d, want 1", got)
			}
		})
	}
}

func TestBreakerProbeSuccessClosesAll(t *testing.T) {
	f := newFixture(t)
	a := f.newBreaker("a", nil)
	b := f.newBreaker("b", nil)
	fail(t, a, threshold)
	mustBeOpen(t, b, start.Add(openDelay))

	f.clock.Advance(openDelay)
	mustAcquire(t, b)(true)
	if got := b.State(); got != breaker.Closed {
		t.Errorf("State of the probing instance: got %v, want %v", got, breaker.Closed)
	}

	f.clock.Advance(syncInterval)
	mustAcquire(t, a)(true)
	if got := a.State(); got != breaker.Closed {
		t.Errorf("State of the other instance: got %v, want %v", got, breaker.Closed)
	}
	if got := stringAttr(f.item(t), "state"); got != "closed" {
		t.Errorf("shared state: got %q, want %q", got, "closed")
	}
	if got := numberAttr(f.item(t), "opened_count"); got != 0 {
		t.Errorf("shared opened_count: got %d, want 0", got)
	}
}

func TestBreakerProbeFailureDoublesDelay(t *testing.T) {
	f := newFixture(t)
	a := f.newBreaker("a", nil)
	b := f.newBreaker("b", nil)
	fail(t, a, threshold)

	delays := []time.Duration{60 * time.Second, maxOpenDelay, maxOpenDelay}
	wait := openDelay
	for i, delay := range delays {
		f.clock.Advance(wait)
		mustAcquire(t, a)(false)
		until := f.clock.Now().Add(delay)
		mustBeOpen(t, a, until)

		f.clock.Advance(syncInterval)
		mustBeOpen(t, b, until)
		if got := numberAttr(f.item(t), "opened_count"); got != int64(i+2) {
			t.Errorf("shared opened_count after probe %d: got %d, want %d", i+1, got, i+2)
		}
		wait = delay - syncInterval
	}
}

func TestBreakerProbeTakenOverAfterTimeout(t *testing.T) {
	f := newFixture(t)
	a := f.newBreaker("a", nil)
	b := f.newBreaker("b", nil)
	fail(t, a, threshold)

	f.clock.Advance(openDelay)
	staleRelease := mustAcquire(t, a)
	f.clock.Advance(probeTimeout + time.Millisecond)
	release := mustAcquire(t, b)

	staleRelease(true)
	if got := a.State(); got != breaker.HalfOpen {
		t.Errorf("State after the expired probe reported: got %v, want %v", got, breaker.HalfOpen)
	}
	release(true)
	if got := b.State(); got != breaker.Closed {
		t.Errorf("State after the new probe succeeded: got %v, want %v", got, breaker.Closed)
	}
}

func TestBreakerReportsEachTransition(t *testing.T) {
	f := newFixture(t)
	var seenA, seenB transitions
	a := f.newBreaker("a", &seenA)
	b := f.newBreaker("b", &seenB)
	mustAcquire(t, b)(true)

	fail(t, a, threshold)
	f.clock.Advance(openDelay)
	mustAcquire(t, a)(false)
	f.clock.Advance(syncInterval)
	mustBeOpen(t, b, start.Add(openDelay+60*time.Second))
	f.clock.Advance(60 * time.Second)
	mustAcquire(t, a)(true)
	f.clock.Advance(syncInterval)
	mustAcquire(t, b)(true)

	wantA := []string{"closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"}
	assertTransitions(t, "a", seenA.list(), wantA)
	assertTransitions(t, "b", seenB.list(), []string{"closed->open", "open->closed"})
}

func TestBreakerFailsOpenWithoutDynamoDB(t *testing.T) {
	f := newFixture(t)
	var seen transitions
	b := f.newBreakerOn(f.db, "missing-table", "a", &seen)

	mustAcquire(t, b)(true)
	fail(t, b, threshold)
	mustBeOpen(t, b, start.Add(openDelay))

	f.clock.Advance(openDelay)
	mustAcquire(t, b)(false)
	mustBeOpen(t, b, start.Add(openDelay+60*time.Second))

	f.clock.Advance(60 * time.Second)
	mustAcquire(t, b)(true)
	mustAcquire(t, b)(true)

	want := []string{"closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"}
	assertTransitions(t, "a", seen.list(), want)
}

func TestBreakerAcquireCancelled(t *testing.T) {
	f := newFixture(t)
	b := f.newBreaker("a", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := b.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire: got %v, want %v", err, context.Canceled)
	}
}

func TestOpenErrorMessage(t *testing.T) {
	err := &breaker.OpenError{Until: start}
	if got, want := err.Error(), "circuit breaker open until 2026-12-04T15:00:00Z"; got != want {
		t.Errorf("Error: got %q, want %q", got, want)
	}
}

func assertTransitions(t *testing.T, name string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("transitions of %s: got %v, want %v", name, got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("transition %d of %s: got %s, want %s", i, name, got[i], want[i])
		}
	}
}

func (f *fixture) item(t *testing.T) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.Client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "breaker#genesys"},
			"sk": &types.AttributeValueMemberS{Value: "breaker"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return -1
	}
	return n
}
