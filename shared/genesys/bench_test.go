package genesys_test

import (
	"context"
	"testing"

	"github.com/journeyrelay/relay/shared/genesys"
)

func BenchmarkAppEventBody(b *testing.B) {
	ev := readEvent(b, "app_full.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := genesys.AppEventBody(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendParallel measures Send over loopback HTTP against a server
// that accepts every event, with the default connection cap.
func BenchmarkSendParallel(b *testing.B) {
	fake := startFake(b, respond(201, nil, `{"id":"e-1"}`))
	client := fake.client(genesys.Config{})
	ev := readEvent(b, "app_full.json")

	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := client.Send(context.Background(), ev); r.Outcome != genesys.Delivered {
				b.Errorf("Outcome: got %v, want %v (detail %q)", r.Outcome, genesys.Delivered, r.Detail)
				return
			}
		}
	})
	b.ReportMetric(float64(fake.newConns.Load()), "conns")
}
