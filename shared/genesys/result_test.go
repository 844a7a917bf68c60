package genesys_test

import (
	"math"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/genesys"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "seconds", value: "120", want: 2 * time.Minute, wantOK: true},
		{name: "zero seconds", value: "0", want: 0, wantOK: true},
		{name: "seconds with spaces", value: " 7 ", want: 7 * time.Second, wantOK: true},
		{name: "negative seconds", value: "-5", want: 0, wantOK: true},
		{name: "seconds overflow", value: "99999999999999999999", want: time.Duration(math.MaxInt64), wantOK: true},
		{name: "imf fixdate", value: "Fri, 04 Dec 2026 15:00:30 GMT", want: 30 * time.Second, wantOK: true},
		{name: "rfc 850 date", value: "Friday, 04-Dec-26 15:01:00 GMT", want: time.Minute, wantOK: true},
		{name: "asctime date", value: "Fri Dec  4 15:00:10 2026", want: 10 * time.Second, wantOK: true},
		{name: "date in the past", value: "Fri, 04 Dec 2026 14:59:00 GMT", want: 0, wantOK: true},
		{name: "empty", value: "", wantOK: false},
		{name: "fraction", value: "1.5", wantOK: false},
		{name: "plus sign", value: "+3", wantOK: false},
		{name: "minus only", value: "-", wantOK: false},
		{name: "words", value: "soon", wantOK: false},
		{name: "iso date", value: "2026-12-04T15:00:30Z", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := genesys.ParseRetryAfter(tt.value, now)
			if ok != tt.wantOK {
				t.Fatalf("ok: got %v, want %v", ok, tt.wantOK)
			}
			if got != tt.want {
				t.Errorf("delay: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	tests := []struct {
		outcome genesys.Outcome
		want    string
	}{
		{genesys.Delivered, "delivered"},
		{genesys.Retry, "retry"},
		{genesys.Permanent, "permanent"},
		{genesys.Misconfigured, "misconfigured"},
		{genesys.Unauthorized, "unauthorized"},
		{genesys.Outcome(0), "Outcome(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.outcome.String(); got != tt.want {
				t.Errorf("String: got %q, want %q", got, tt.want)
			}
		})
	}
}
