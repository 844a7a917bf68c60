package secrets

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/testclock"
)

// throttlingGetter wraps a real client and fails with a ThrottlingException while throttled is set.
type throttlingGetter struct {
	next      Getter
	throttled atomic.Bool
	calls     atomic.Int32
}

func (g *throttlingGetter) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
	optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls.Add(1)
	if g.throttled.Load() {
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return g.next.GetSecretValue(ctx, in, optFns...)
}

type clock = testclock.Clock

func newCache(t *testing.T) (*Cache, *throttlingGetter, *clock, func(string)) {
	t.Helper()
	emu, res := awslocal.StartT(t)
	getter := &throttlingGetter{next: secretsmanager.NewFromConfig(emu.Config)}
	clk := testclock.New(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	cache := NewCache(getter, res.AppKeysSecret, Options{TTL: time.Minute, MaxStale: 10 * time.Minute, Now: clk.Now})
	put := func(v string) {
		if err := awslocal.PutSecret(context.Background(), emu.Config, res.AppKeysSecret, v); err != nil {
			t.Fatal(err)
		}
	}
	return cache, getter, clk, put
}

func TestCacheRefreshesAfterTTL(t *testing.T) {
	cache, getter, clk, put := newCache(t)
	ctx := context.Background()
	put("v1")

	for i := 0; i < 3; i++ {
		if got, err := cache.Get(ctx); err != nil || got != `"v1"` {
			t.Fatalf("Get: got %q, %v; want \"v1\"", got, err)
		}
	}
	if n := getter.calls.Load(); n != 1 {
		t.Errorf("fetches within TTL: got %d, want 1", n)
	}

	put("v2")
	clk.Advance(61 * time.Second)
	if got, err := cache.Get(ctx); err != nil || got != `"v2"` {
		t.Errorf("Get after TTL: got %q, %v; want \"v2\"", got, err)
	}
}

func TestCacheServesStaleWhileThrottled(t *testing.T) {
	cache, getter, clk, put := newCache(t)
	ctx := context.Background()
	put("v1")
	if _, err := cache.Get(ctx); err != nil {
		t.Fatal(err)
	}

	getter.throttled.Store(true)
	clk.Advance(5 * time.Minute)
	got, err := cache.Get(ctx)
	if err != nil || got != `"v1"` {
		t.Fatalf("Get while throttled: got %q, %v; want the last good value", got, err)
	}
	if cache.StaleServed() != 1 {
		t.Errorf("StaleServed: got %d, want 1", cache.StaleServed())
	}

	clk.Advance(10 * time.Minute)
	if _, err := cache.Get(ctx); err == nil {
		t.Error("Get past MaxStale: got nil error, want the throttling error")
	}
}

func TestCacheFetchesOnceForConcurrentCallers(t *testing.T) {
	cache, getter, _, put := newCache(t)
	put("v1")

	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cache.Get(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// singleflight joins callers that overlap; a caller that arrives after the
	// first fetch finished finds the fresh value, so one fetch serves all.
	if n := getter.calls.Load(); n != 1 {
		t.Errorf("fetches: got %d, want 1", n)
	}
}

func TestCacheErrorHidesValue(t *testing.T) {
	cache, getter, _, _ := newCache(t)
	getter.throttled.Store(true)
	_, err := cache.Get(context.Background())
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Errorf("error: got %v, want a wrapped ThrottlingException", err)
	}
}
