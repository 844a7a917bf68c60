package telemetry

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRecorderWritesEMFLine(t *testing.T) {
	var out bytes.Buffer
	r := NewRecorder(&out, "ingest")
	r.now = func() time.Time { return time.UnixMilli(1733300000000) }
	r.Add("accepted", 3)
	r.Add("accepted", 2)
	r.Observe("delivery_lag", 120, Milliseconds)

	if err := r.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	var doc struct {
		AWS struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string     `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function    string    `json:"Function"`
		Accepted    float64   `json:"accepted"`
		DeliveryLag []float64 `json:"delivery_lag"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, out.String())
	}
	if doc.AWS.Timestamp != 1733300000000 {
		t.Errorf("Timestamp: got %d", doc.AWS.Timestamp)
	}
	if doc.Function != "ingest" {
		t.Errorf("Function: got %q, want ingest", doc.Function)
	}
	if doc.Accepted != 5 {
		t.Errorf("accepted: got %v, want 5", doc.Accepted)
	}
	if len(doc.DeliveryLag) != 1 || doc.DeliveryLag[0] != 120 {
		t.Errorf("delivery_lag: got %v, want [120]", doc.DeliveryLag)
	}
	cw := doc.AWS.CloudWatchMetrics[0]
	if cw.Namespace != Namespace {
		t.Errorf("Namespace: got %q", cw.Namespace)
	}
	if len(cw.Metrics) != 2 || cw.Metrics[0].Name != "accepted" || cw.Metrics[0].Unit != Count {
		t.Errorf("Metrics: got %+v", cw.Metrics)
	}
	if r.Total("accepted") != 5 {
		t.Errorf("Total: got %v, want 5", r.Total("accepted"))
	}
}

func TestRecorderSplitsLongSampleLists(t *testing.T) {
	var out bytes.Buffer
	r := NewRecorder(&out, "flush")
	for i := 0; i < 250; i++ {
		r.Observe("delivery_lag", float64(i), Milliseconds)
	}
	if err := r.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	out.Reset()
	if err := r.Flush(); err != nil || out.Len() != 0 {
		t.Errorf("second Flush wrote %q, err %v; want nothing", out.String(), err)
	}
}
