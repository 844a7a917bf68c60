package token

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"delay seconds", "7", 7 * time.Second},
		{"delay seconds with spaces", " 2 ", 2 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"larger than a day", "999999999999", 24 * time.Hour},
		{"IMF-fixdate", "Fri, 04 Dec 2026 15:00:30 GMT", 30 * time.Second},
		{"RFC 850 date", "Friday, 04-Dec-26 15:01:00 GMT", time.Minute},
		{"asctime date", "Fri Dec  4 15:00:05 2026", 5 * time.Second},
		{"date in the past", "Fri, 04 Dec 2026 14:59:00 GMT", 0},
		{"empty", "", 0},
		{"fractional seconds", "1.5", 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"OAuth error", `{"error":"invalid_client","description":"bad secret"}`, "invalid_client"},
		{"platform error code", `{"error":"too.many.requests"}`, "too.many.requests"},
		{"no error field", `{"message":"x"}`, ""},
		{"HTML page", `<html><body>502 Bad Gateway</body></html>`, ""},
		{"free text in error field", `{"error":"token abc was rejected"}`, ""},
		{"error field too long", `{"error":"` + strings.Repeat("a", 100) + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode([]byte(tt.body)); got != tt.want {
				t.Errorf("errorCode(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestDecodeToken(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		body    string
		want    time.Time
		wantErr bool
	}{
		{"bearer token", `{"access_token":"t1","token_type":"bearer","expires_in":86399}`, now.Add(86399 * time.Second), false},
		{"token type in capitals", `{"access_token":"t1","token_type":"Bearer","expires_in":300}`, now.Add(300 * time.Second), false},
		{"missing access token", `{"token_type":"bearer","expires_in":300}`, time.Time{}, true},
		{"zero lifetime", `{"access_token":"t1","token_type":"bearer","expires_in":0}`, time.Time{}, true},
		{"other token type", `{"access_token":"t1","token_type":"mac","expires_in":300}`, time.Time{}, true},
		{"not JSON", `ok`, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := decodeToken([]byte(tt.body), now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeToken: got error %v, want error: %t", err, tt.wantErr)
			}
			if !tok.ExpiresAt.Equal(tt.want) {
				t.Errorf("ExpiresAt = %s, want %s", tok.ExpiresAt, tt.want)
			}
		})
	}
}
