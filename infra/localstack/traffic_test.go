package localstack

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRenderReplacesTimePlaceholders(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	request := TrafficRequest{Body: json.RawMessage(`{"sent_at":"{{now}}","events":[
		{"timestamp":"{{now-90s}}","properties":{"price":19.99,"note":"{{not a time}}"}},
		{"timestamp":"{{now+2m}}"}]}`)}

	plain, wire, err := request.render(now)
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Equal(plain, wire) {
		t.Error("wire body differs from the plain body without gzip")
	}
	var body struct {
		SentAt string `json:"sent_at"`
		Events []struct {
			Timestamp  string         `json:"timestamp"`
			Properties map[string]any `json:"properties"`
		} `json:"events"`
	}
	if err := json.Unmarshal(plain, &body); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"sent_at", body.SentAt, "2026-12-04T15:00:00.000Z"},
		{"first timestamp", body.Events[0].Timestamp, "2026-12-04T14:58:30.000Z"},
		{"second timestamp", body.Events[1].Timestamp, "2026-12-04T15:02:00.000Z"},
		{"other string", body.Events[0].Properties["note"].(string), "{{not a time}}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if got := body.Events[0].Properties["price"]; got != 19.99 {
		t.Errorf("price: got %v, want 19.99 unchanged", got)
	}
}

func TestRenderGzip(t *testing.T) {
	request := TrafficRequest{Gzip: true, Body: json.RawMessage(`{"event_name":"app_opened"}`)}

	plain, wire, err := request.render(time.Now())
	if err != nil {
		t.Fatal(err)
	}

	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		t.Fatalf("wire body is not gzip: %v", err)
	}
	decompressed, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(decompressed, plain) {
		t.Errorf("decompressed body: got %s, want %s", decompressed, plain)
	}
}

func TestRenderRejectsInvalidOffset(t *testing.T) {
	request := TrafficRequest{Body: json.RawMessage(`{"timestamp":"{{now-5x}}"}`)}
	if _, _, err := request.render(time.Now()); err == nil {
		t.Error("got no error, want one for the offset 5x")
	}
}

func TestEventNames(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"batch", `{"events":[{"event_name":"a"},{"event_name":"b"}]}`, []string{"a", "b"}},
		{"bare event", `{"event_name":"c"}`, []string{"c"}},
		{"not JSON", `{`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := eventNames([]byte(tt.body))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("name %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoadTrafficSamples(t *testing.T) {
	sessions, err := LoadTraffic("../../events/traffic")
	if err != nil {
		t.Fatal(err)
	}
	var gzipped, resent, skewed int
	for _, session := range sessions {
		if session.ClockOffset != "" {
			skewed++
		}
		for _, request := range session.Requests {
			if request.Gzip {
				gzipped++
			}
			if request.Resend {
				resent++
			}
		}
	}
	if len(sessions) < 5 {
		t.Errorf("sessions: got %d, want at least 5", len(sessions))
	}
	for name, n := range map[string]int{"gzip requests": gzipped, "resent requests": resent, "skewed sessions": skewed} {
		if n == 0 {
			t.Errorf("%s: got 0, want the samples to include some", name)
		}
	}
}

func TestLoadTrafficRejectsBadClockOffset(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"clock_offset":"soon","requests":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTraffic(dir); err == nil {
		t.Error("got no error, want one for clock_offset \"soon\"")
	}
}

func TestLoadTrafficEmptyDirectory(t *testing.T) {
	if _, err := LoadTraffic(t.TempDir()); err == nil {
		t.Error("got no error, want one for a directory without traffic")
	}
}
