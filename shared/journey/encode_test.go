package journey

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	yes, no := true, false
	height, width := 2556, 1179
	density, tiny, huge := 2.75, 1.5e-9, 3e21
	events := map[string]Event{
		"minimal": {Type: TypeCustom, Name: "order_placed", Timestamp: "2026-12-04T15:00:00.000Z",
			ReceivedAt: "2026-12-04T15:00:01.000Z", UserID: "u", SessionID: "s", IdempotencyKey: "k"},
		"full app": {Type: TypeApp, Name: "screen_viewed", Timestamp: "2026-12-04T15:00:00.000Z",
			OriginalTimestamp: "2026-12-04T15:03:00.000Z", ReceivedAt: "2026-12-04T15:00:01.000Z",
			UserID: "u<1>&\"x\"", SessionID: "s\t\n\r\b\f\x01", IdempotencyKey: "k",
			CustomerCookieID: "0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11", ScreenName: "Home \u2028 \u2029 é 日本",
			App: &App{Name: "Shop", Namespace: "com.example", Version: "1", BuildNumber: "2"},
			Device: &Device{Category: "mobile", Type: "iPhone", OSFamily: "iOS", OSVersion: "18", IsMobile: &yes,
				ScreenHeight: &height, ScreenWidth: &width, ScreenDensity: &density, Fingerprint: "f", Manufacturer: "Apple"},
			SDK:         &SDK{Name: "sdk", Version: "1.0"},
			Network:     &Network{Carrier: "c", BluetoothEnabled: &no, CellularEnabled: &yes, WifiEnabled: &no},
			ReferrerURL: "https://a.example/?q=1&b=2", SearchQuery: "q", UserAgent: "ua", Skew: SkewOffset,
			Properties: map[string]Value{"b": {Number, "-1.5e3"}, "a": {String, "x\"y"}, "c": {Bool, "false"}}},
		"web with odd floats": {Type: TypeWeb, Name: "page_viewed", Timestamp: "t", ReceivedAt: "r", UserID: "u",
			SessionID: "s", IdempotencyKey: "k", Page: &Page{URL: "https://x.example/<p>", Title: "T"},
			Device:  &Device{Category: "desktop", ScreenDensity: &tiny},
			Network: &Network{WifiEnabled: &yes}},
		"huge density": {Device: &Device{ScreenDensity: &huge}, Network: &Network{}},
	}
	for name, ev := range events {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(&ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.AppendJSON(nil); string(got) != string(want) {
				t.Errorf("AppendJSON:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	density := 3.0
	ev := Event{Type: TypeApp, Name: "screen_viewed", Timestamp: "2026-12-04T15:00:00.000Z", ReceivedAt: "x",
		UserID: "user-000001", SessionID: "3f1c2b7e-9a4d", IdempotencyKey: "6d2f1a90-1c4b", ScreenName: "Home",
		App:        &App{Name: "Shop", Namespace: "com.example.shop", Version: "5.2.0", BuildNumber: "5200"},
		Device:     &Device{Category: "mobile", Type: "iPhone15,2", OSFamily: "iOS", OSVersion: "18.1", ScreenDensity: &density},
		Properties: map[string]Value{"sku": {String, "SKU-1"}, "price": {Number, "19.99"}, "in_stock": {Bool, "true"}}}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = ev.AppendJSON(buf[:0])
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
