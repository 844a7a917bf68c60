package journey

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that no body makes Parse panic, that the one-pass decoding
// and the event-by-event decoding agree, and that every accepted event keeps
// the package's invariants.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"event_type":"APP","event_name":"a","timestamp":"2026-12-04T14:59:00Z","user_id":"u","session_id":"s","screen_name":"x","app":{"name":"n","namespace":"n","version":"1","build_number":"1"},"device":{"category":"mobile","type":"t","os_family":"f","os_version":"1"},"properties":{"a":1,"b":"x","c":true}}`,
		`{"sent_at":"2026-12-04T15:05:00+01:00","context":{"customer_cookie_id":"0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11"},"events":[{"event_type":"WEB","event_name":"p","timestamp":"2026-12-04T15:59:00+01:00","user_id":"u","session_id":"s","page":{"url":"u","title":"t"}}]}`,
		`{"events":[{"event_type":"CUSTOM","event_name":"c","timestamp":"2026-12-04T10:00:00Z","user_id":"u","session_id":"s","idempotency_key":"k"},{"event_type":"CUSTOM"}]}`,
		`{"events":[]}`, `{}`, `[]`, `null`, `{"events":null}`, `{"EVENT_TYPE":"APP"}`,
		`{"event_type":"CUSTOM","event_name":"c","timestamp":"2026-12-04T14:59:00Z","user_id":"u\u0000","session_id":"s","properties":{"n":null,"o":{},"a":[]}}`,
	} {
		f.Add([]byte(seed))
	}
	received := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	opts := Options{DeadBand: 30 * time.Second, MaxEventAge: 50 * time.Minute, MaxEvents: 50}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := Parse(body, "", received, opts)
		slow := parseSlow(body, "", received, opts)
		if len(got.Accepted) > 0 && !reflect.DeepEqual(got.Accepted, slow.Accepted) {
			t.Fatalf("one-pass and event-by-event decoding disagree:\n%+v\n%+v", got.Accepted, slow.Accepted)
		}
		if got.RequestError != nil && len(got.Accepted)+len(got.Rejected) > 0 {
			t.Fatal("a request error came with event results")
		}
		for _, v := range got.Rejected {
			if v.Code == "" || v.Message == "" || !utf8.ValidString(v.Message) {
				t.Fatalf("violation without code or readable message: %+v", v)
			}
		}
		for _, a := range got.Accepted {
			checkInvariants(t, &a.Event)
		}
	})
}

func checkInvariants(t *testing.T, ev *Event) {
	t.Helper()
	if _, err := time.Parse(TimeLayout, ev.Timestamp); err != nil || len(ev.Timestamp) != len(TimeLayout) {
		t.Fatalf("timestamp %q is not in the Genesys form", ev.Timestamp)
	}
	encoded := ev.AppendJSON(nil)
	want, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encoded, want) {
		t.Fatalf("AppendJSON differs from json.Marshal:\n%s\n%s", encoded, want)
	}
	for _, r := range string(encoded) {
		if !xmlChar(r) || r == utf8.RuneError {
			t.Fatalf("message holds U+%04X, which SQS rejects", r)
		}
	}
	if strings.TrimSpace(ev.UserID) == "" || strings.TrimSpace(ev.SessionID) == "" || ev.IdempotencyKey == "" {
		t.Fatalf("accepted event lacks identity: %+v", ev)
	}
	var back Event
	if err := json.Unmarshal(encoded, &back); err != nil || !reflect.DeepEqual(&back, ev) {
		t.Fatalf("message does not decode back to the event: %v", err)
	}
}
