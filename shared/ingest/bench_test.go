package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// typicalEvent is a mobile APP event of about 1 KB, as an SDK sends it.
func typicalEvent(i int) map[string]any {
	return map[string]any{
		"event_type":         "APP",
		"event_name":         "product_viewed",
		"timestamp":          "2026-12-04T15:59:00.123+01:00",
		"user_id":            fmt.Sprintf("user-%06d", i),
		"session_id":         "3f1c2b7e-9a4d-4e0b-8c55-2a9f6d1e7b30",
		"idempotency_key":    fmt.Sprintf("6d2f1a90-1c4b-4f7e-9a3d-%012d", i),
		"screen_name":        "ProductDetailViewController",
		"customer_cookie_id": "0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11",
		"app":                map[string]any{"name": "Shop", "namespace": "com.example.shop", "version": "5.2.0", "build_number": "5200"},
		"device": map[string]any{"category": "mobile", "type": "iPhone15,2", "os_family": "iOS", "os_version": "18.1",
			"is_mobile": true, "screen_height": 2556, "screen_width": 1179, "screen_density": 3, "manufacturer": "Apple"},
		"sdk":     map[string]any{"name": "journey-relay-ios", "version": "1.4.0"},
		"network": map[string]any{"carrier": "Vodafone UK", "cellular_enabled": true, "wifi_enabled": false},
		"properties": map[string]any{
			"sku": "SKU-000123456", "price": 19.99, "currency": "GBP", "category": "outdoor/camping/tents",
			"in_stock": true, "rating": 4.6, "reviews": 1284, "position": 3, "list": "search_results",
			"query": "two person tent lightweight", "variant": "green", "size": "2P",
			"campaign": "winter_sale_2026", "experiment": "pdp_layout_b",
		},
	}
}

func benchBody(b *testing.B, events int) []byte {
	b.Helper()
	list := make([]any, events)
	for i := range list {
		list[i] = typicalEvent(i)
	}
	var body []byte
	var err error
	if events == 1 {
		body, err = json.Marshal(list[0])
	} else {
		body, err = json.Marshal(map[string]any{"sent_at": "2026-12-04T15:00:00.100Z", "events": list})
	}
	if err != nil {
		b.Fatal(err)
	}
	return body
}

type discardQueue struct{}

func (discardQueue) Send(context.Context, []queue.Outgoing) map[string]error { return nil }

var benchSizes = []struct {
	name   string
	events int
}{{"event", 1}, {"batch100", 100}}

// BenchmarkIngest measures the whole CPU path of one request: transport
// checks, JSON decoding, validation, normalisation, key derivation and queue
// message encoding. The queue and key check are in-memory fakes, so no I/O is
// measured. Compare its ns/event with BenchmarkMapRoundTrip.
func BenchmarkIngest(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			body := string(benchBody(b, size.events))
			svc := NewService(Config{MaxBodyBytes: 4 << 20, MaxDecodedBytes: 8 << 20, MaxMessageBytes: 1 << 20,
				Rules: journey.Options{DeadBand: 30 * time.Second, MaxEventAge: 50 * time.Minute, MaxEvents: 500}},
				fakeAuth{}, discardQueue{}, fakeFlags{},
				telemetry.NewRecorder(io.Discard, "ingest"), slog.New(slog.NewTextHandler(io.Discard, nil)))
			req := post(body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				resp := svc.Handle(context.Background(), req)
				if resp.Status != 202 {
					b.Fatalf("status %d: %.300s", resp.Status, resp.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size.events), "ns/event")
		})
	}
}

// BenchmarkMapRoundTrip is the baseline: the same bytes decoded into
// map[string]any and encoded again with encoding/json, with no checks at all.
func BenchmarkMapRoundTrip(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			body := benchBody(b, size.events)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size.events), "ns/event")
		})
	}
}
