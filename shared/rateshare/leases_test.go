package rateshare_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/testclock"
	"github.com/journeyrelay/relay/shared/rateshare"
)

var start = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

type clock = testclock.Clock

type fixture struct {
	db     *dynamodb.Client
	table  string
	clock  *clock
	leases *rateshare.Leases
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, res := awslocal.StartT(t)
	f := &fixture{db: dynamodb.NewFromConfig(emu.Config), table: res.Table, clock: testclock.New(start)}
	f.leases = rateshare.New(f.db, f.table, rateshare.Options{Now: f.clock.Now})
	return f
}

func (f *fixture) mustLive(t *testing.T) int {
	t.Helper()
	n, err := f.leases.Live(context.Background())
	if err != nil {
		t.Fatalf("Live: %v", err)
	}
	return n
}

func (f *fixture) mustRegister(t *testing.T, id string, until time.Time) {
	t.Helper()
	if err := f.leases.Register(context.Background(), id, until); err != nil {
		t.Fatalf("Register(%s): %v", id, err)
	}
}

func TestLiveCountsRegisteredLeases(t *testing.T) {
	f := newFixture(t)
	if got := f.mustLive(t); got != 0 {
		t.Fatalf("empty table: Live = %d, want 0", got)
	}

	f.mustRegister(t, "a", start.Add(time.Minute))
	if got := f.mustLive(t); got != 1 {
		t.Fatalf("one lease: Live = %d, want 1", got)
	}

	f.mustRegister(t, "b", start.Add(time.Minute))
	f.mustRegister(t, "c", start.Add(time.Minute))
	if got := f.mustLive(t); got != 3 {
		t.Fatalf("three leases: Live = %d, want 3", got)
	}
}

func TestRegisterTwiceCountsOnce(t *testing.T) {
	f := newFixture(t)
	f.mustRegister(t, "a", start.Add(time.Minute))
	f.mustRegister(t, "a", start.Add(2*time.Minute))
	if got := f.mustLive(t); got != 1 {
		t.Fatalf("Live = %d, want 1", got)
	}
}

func TestRegisterAgainShortensLease(t *testing.T) {
	f := newFixture(t)
	f.mustRegister(t, "a", start.Add(time.Minute))
	f.mustRegister(t, "b", start.Add(time.Minute))

	f.mustRegister(t, "a", start.Add(-time.Millisecond))

	if got := f.mustLive(t); got != 1 {
		t.Fatalf("after shortening a: Live = %d, want 1", got)
	}
}

func TestReleaseRemovesLease(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustRegister(t, "a", start.Add(time.Minute))
	f.mustRegister(t, "b", start.Add(time.Minute))

	if err := f.leases.Release(ctx, "a"); err != nil {
		t.Fatalf("Release(a): %v", err)
	}
	if got := f.mustLive(t); got != 1 {
		t.Fatalf("after releasing a: Live = %d, want 1", got)
	}
	if err := f.leases.Release(ctx, "a"); err != nil {
		t.Fatalf("Release(a) again: %v", err)
	}
	if err := f.leases.Release(ctx, "b"); err != nil {
		t.Fatalf("Release(b): %v", err)
	}
	if got := f.mustLive(t); got != 0 {
		t.Fatalf("after releasing both: Live = %d, want 0", got)
	}
}

func TestLiveIgnoresExpiredLease(t *testing.T) {
	f := newFixture(t)
	f.mustRegister(t, "short", start.Add(10*time.Second))
	f.mustRegister(t, "long", start.Add(time.Minute))

	f.clock.Set(start.Add(10 * time.Second))
	if got := f.mustLive(t); got != 1 {
		t.Fatalf("at the short lease's end: Live = %d, want 1", got)
	}
	f.clock.Set(start.Add(2 * time.Minute))
	if got := f.mustLive(t); got != 0 {
		t.Fatalf("after both ends: Live = %d, want 0", got)
	}
}

func TestLiveIgnoresOtherItems(t *testing.T) {
	f := newFixture(t)
	_, err := f.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(f.table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "breaker#genesys"},
			"sk": &types.AttributeValueMemberS{Value: "breaker"},
		},
	})
	if err != nil {
		t.Fatalf("put breaker item: %v", err)
	}
	f.mustRegister(t, "a", start.Add(time.Minute))
	if got := f.mustLive(t); got != 1 {
		t.Fatalf("Live = %d, want 1", got)
	}
}

func TestRegisterWritesItem(t *testing.T) {
	f := newFixture(t)
	until := start.Add(42 * time.Second)
	f.mustRegister(t, "inv-1", until)

	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: rateshare.Partition},
			"sk": &types.AttributeValueMemberS{Value: "inv-1"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if out.Item == nil {
		t.Fatal("lease item not found")
	}
	checkNumber(t, out.Item, "lease_until", until.UnixMilli())
	checkNumber(t, out.Item, "expires_at", until.Add(time.Hour).Unix())
}

func checkNumber(t *testing.T, item map[string]types.AttributeValue, name string, want int64) {
	t.Helper()
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Errorf("%s: got %T, want a number", name, item[name])
		return
	}
	if n.Value != strconv.FormatInt(want, 10) {
		t.Errorf("%s = %s, want %d", name, n.Value, want)
	}
}
