package idempotency_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/testclock"
	"github.com/journeyrelay/relay/shared/idempotency"
)

var start = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

type clock = testclock.Clock

type fixture struct {
	db    *dynamodb.Client
	table string
	clock *clock
	store *idempotency.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, res := awslocal.StartT(t)
	f := &fixture{db: dynamodb.NewFromConfig(emu.Config), table: res.Table, clock: testclock.New(start)}
	f.store = idempotency.NewStore(f.db, f.table, idempotency.Options{Now: f.clock.Now})
	return f
}

func (f *fixture) mustClaim(t *testing.T, key, owner string, until time.Time) idempotency.Claim {
	t.Helper()
	claim, err := f.store.Claim(context.Background(), key, owner, until)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", key, owner, err)
	}
	return claim
}

func (f *fixture) item(t *testing.T, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "idem#" + key},
			"sk": &types.AttributeValueMemberS{Value: "idem"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem(%s): %v", key, err)
	}
	return out.Item
}

func TestClaim(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	later := start.Add(5 * time.Minute)

	tests := []struct {
		name  string
		setup func(t *testing.T, key string)
		want  idempotency.Claim
	}{
		{
			name:  "fresh key",
			setup: func(*testing.T, string) {},
			want:  idempotency.Claim{State: idempotency.Claimed, HeldUntil: later},
		},
		{
			name: "delivered key",
			setup: func(t *testing.T, key string) {
				f.mustClaim(t, key, "other", start.Add(time.Minute))
				if err := f.store.MarkDelivered(ctx, key, "other"); err != nil {
					t.Fatalf("MarkDelivered: %v", err)
				}
			},
			want: idempotency.Claim{State: idempotency.Delivered},
		},
		{
			name: "live claim of other owner",
			setup: func(t *testing.T, key string) {
				f.mustClaim(t, key, "other", start.Add(time.Minute))
			},
			want: idempotency.Claim{State: idempotency.HeldByOther, HeldUntil: start.Add(time.Minute)},
		},
		{
			name: "expired claim of other owner",
			setup: func(t *testing.T, key string) {
				f.clock.Set(start.Add(-2 * time.Minute))
				f.mustClaim(t, key, "other", start.Add(-time.Minute))
			},
			want: idempotency.Claim{State: idempotency.Claimed, HeldUntil: later},
		},
		{
			name: "own earlier claim",
			setup: func(t *testing.T, key string) {
				f.mustClaim(t, key, "me", start.Add(time.Minute))
			},
			want: idempotency.Claim{State: idempotency.Claimed, HeldUntil: later},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "claim-" + strconv.Itoa(i)
			f.clock.Set(start)
			tt.setup(t, key)
			f.clock.Set(start)

			got := f.mustClaim(t, key, "me", later)
			if got.State != tt.want.State {
				t.Errorf("State: got %v, want %v", got.State, tt.want.State)
			}
			if !got.HeldUntil.Equal(tt.want.HeldUntil) {
				t.Errorf("HeldUntil: got %v, want %v", got.HeldUntil, tt.want.HeldUntil)
			}
		})
	}
}

func TestClaimItemAttributes(t *testing.T) {
	f := newFixture(t)
	until := start.Add(90 * time.Second)
	f.mustClaim(t, "attrs", "me", until)

	item := f.item(t, "attrs")
	wantN := map[string]string{
		"claim_expires_at": strconv.FormatInt(until.UnixMilli(), 10),
		"expires_at":       strconv.FormatInt(until.Add(idempotency.DefaultDeliveredTTL).Unix(), 10),
	}
	for name, want := range wantN {
		if got := numberAttr(item, name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	wantS := map[string]string{"state": "claimed", "owner": "me"}
	for name, want := range wantS {
		if got := stringAttr(item, name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestMarkDelivered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustClaim(t, "done", "me", start.Add(time.Minute))

	f.clock.Set(start.Add(10 * time.Second))
	if err := f.store.MarkDelivered(ctx, "done", "me"); err != nil {
		t.Fatalf("MarkDelivered: %v", err)
	}
	f.clock.Set(start.Add(20 * time.Second))
	if err := f.store.MarkDelivered(ctx, "done", "me"); err != nil {
		t.Fatalf("MarkDelivered again: %v", err)
	}

	item := f.item(t, "done")
	if got, want := stringAttr(item, "state"), "delivered"; got != want {
		t.Errorf("state: got %q, want %q", got, want)
	}
	if got, want := stringAttr(item, "delivered_at"), "2026-12-04T15:00:10.000Z"; got != want {
		t.Errorf("delivered_at: got %q, want %q", got, want)
	}
	wantExpires := strconv.FormatInt(start.Add(20*time.Second+idempotency.DefaultDeliveredTTL).Unix(), 10)
	if got := numberAttr(item, "expires_at"); got != wantExpires {
		t.Errorf("expires_at: got %s, want %s", got, wantExpires)
	}
	if _, ok := item["claim_expires_at"]; ok {
		t.Errorf("claim_expires_at: got %v, want no attribute", item["claim_expires_at"])
	}
}

func TestRelease(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	until := start.Add(time.Minute)

	t.Run("by other owner is ignored", func(t *testing.T) {
		f.mustClaim(t, "held", "owner-a", until)
		if err := f.store.Release(ctx, "held", "owner-b"); err != nil {
			t.Fatalf("Release: %v", err)
		}
		got := f.mustClaim(t, "held", "owner-c", until)
		if got.State != idempotency.HeldByOther {
			t.Errorf("State after foreign release: got %v, want %v", got.State, idempotency.HeldByOther)
		}
	})

	t.Run("by owner frees the key", func(t *testing.T) {
		f.mustClaim(t, "freed", "owner-a", until)
		if err := f.store.Release(ctx, "freed", "owner-a"); err != nil {
			t.Fatalf("Release: %v", err)
		}
		got := f.mustClaim(t, "freed", "owner-b", until)
		if got.State != idempotency.Claimed {
			t.Errorf("State after release: got %v, want %v", got.State, idempotency.Claimed)
		}
	})

	t.Run("of delivered key keeps it", func(t *testing.T) {
		f.mustClaim(t, "kept", "owner-a", until)
		if err := f.store.MarkDelivered(ctx, "kept", "owner-a"); err != nil {
			t.Fatalf("MarkDelivered: %v", err)
		}
		if err := f.store.Release(ctx, "kept", "owner-a"); err != nil {
			t.Fatalf("Release: %v", err)
		}
		got := f.mustClaim(t, "kept", "owner-b", until)
		if got.State != idempotency.Delivered {
			t.Errorf("State after release: got %v, want %v", got.State, idempotency.Delivered)
		}
	})

	t.Run("of missing key", func(t *testing.T) {
		if err := f.store.Release(ctx, "never-claimed", "owner-a"); err != nil {
			t.Errorf("Release: got %v, want nil", err)
		}
	})
}

func TestClaimConcurrent(t *testing.T) {
	f := newFixture(t)
	const claimers = 20

	var wg sync.WaitGroup
	results := make([]idempotency.Claim, claimers)
	errs := make([]error, claimers)
	for i := range claimers {
		wg.Go(func() {
			owner := fmt.Sprintf("owner-%d", i)
			results[i], errs[i] = f.store.Claim(context.Background(), "contested", owner, start.Add(time.Minute))
		})
	}
	wg.Wait()

	counts := map[idempotency.ClaimState]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Claim by owner-%d: %v", i, err)
		}
		counts[results[i].State]++
	}
	if got := counts[idempotency.Claimed]; got != 1 {
		t.Errorf("Claimed: got %d, want 1", got)
	}
	if got := counts[idempotency.HeldByOther]; got != claimers-1 {
		t.Errorf("HeldByOther: got %d, want %d", got, claimers-1)
	}
}

func TestClaimRejectsInput(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		key, owner string
		until      time.Time
	}{
		{name: "empty key", owner: "me", until: start.Add(time.Minute)},
		{name: "empty owner", key: "k", until: start.Add(time.Minute)},
		{name: "until not after now", key: "k", owner: "me", until: start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.store.Claim(context.Background(), tt.key, tt.owner, tt.until); err == nil {
				t.Errorf("Claim: got nil error, want an error")
			}
		})
	}
}

func TestDeliveredTTLFloor(t *testing.T) {
	f := newFixture(t)
	store := idempotency.NewStore(f.db, f.table, idempotency.Options{DeliveredTTL: time.Hour, Now: f.clock.Now})
	if err := store.MarkDelivered(context.Background(), "short", "me"); err != nil {
		t.Fatalf("MarkDelivered: %v", err)
	}
	want := strconv.FormatInt(start.Add(idempotency.MinDeliveredTTL).Unix(), 10)
	if got := numberAttr(f.item(t, "short"), "expires_at"); got != want {
		t.Errorf("expires_at: got %s, want %s", got, want)
	}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func numberAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
