package token

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const testClientSecret = "s3cret-Value-9f2c"

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name      string
		secret    string
		wantLogin string
		wantErr   string // substring of the error; empty means success
	}{
		{
			name:      "region",
			secret:    `{"client_id":"c1","client_secret":"` + testClientSecret + `","region":"mypurecloud.ie"}`,
			wantLogin: "https://login.mypurecloud.ie",
		},
		{
			name: "login base URL overrides region",
			secret: `{"client_id":"c1","client_secret":"` + testClientSecret +
				`","region":"mypurecloud.ie","login_base_url":"http://127.0.0.1:8080/"}`,
			wantLogin: "http://127.0.0.1:8080",
		},
		{
			name:    "missing client id",
			secret:  `{"client_secret":"` + testClientSecret + `","region":"mypurecloud.com"}`,
			wantErr: "client_id is missing",
		},
		{
			name:    "missing client secret",
			secret:  `{"client_id":"c1","region":"mypurecloud.com"}`,
			wantErr: "client_secret is missing",
		},
		{
			name:    "missing region and login URL",
			secret:  `{"client_id":"c1","client_secret":"` + testClientSecret + `"}`,
			wantErr: "region is missing",
		},
		{
			name:    "region with a path",
			secret:  `{"client_id":"c1","client_secret":"` + testClientSecret + `","region":"evil.example/x"}`,
			wantErr: `region "evil.example/x" is invalid`,
		},
		{
			name:    "login URL without http scheme",
			secret:  `{"client_id":"c1","client_secret":"` + testClientSecret + `","login_base_url":"ftp://login.example"}`,
			wantErr: "login_base_url",
		},
		{
			name:    "truncated JSON",
			secret:  `{"client_id":"c1","client_secret":"` + testClientSecret,
			wantErr: "invalid JSON",
		},
		{
			name:    "syntax error after the secret",
			secret:  `{"client_id":"c1","client_secret":"` + testClientSecret + `" x}`,
			wantErr: "invalid JSON at byte offset",
		},
		{
			name:    "number as client secret",
			secret:  `{"client_id":"c1","client_secret":12345678}`,
			wantErr: "field client_secret is a JSON number",
		},
		{
			name:    "string instead of object",
			secret:  `"` + testClientSecret + `"`,
			wantErr: "the secret is a JSON string",
		},
		{
			name:    "empty",
			secret:  ``,
			wantErr: "invalid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := ParseCredentials(tt.secret)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseCredentials: got error %v, want nil", err)
				}
				if got := creds.LoginURL(); got != tt.wantLogin {
					t.Errorf("LoginURL() = %q, want %q", got, tt.wantLogin)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseCredentials: got nil error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testClientSecret) || strings.Contains(err.Error(), "12345678") {
				t.Errorf("error = %q, want it without the secret's value", err)
			}
		})
	}
}

func TestCredentialsFormattingHidesSecret(t *testing.T) {
	creds := Credentials{ClientID: "c1", ClientSecret: testClientSecret, Region: "mypurecloud.com"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "credentials", creds)

	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", creds),
		"%+v": fmt.Sprintf("%+v", creds),
		//lint:ignore S1025 the test checks what the %s verb prints
		"%s":   fmt.Sprintf("%s", creds),
		"slog": logs.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, testClientSecret) {
				t.Errorf("output %q contains the client secret", out)
			}
			if !strings.Contains(out, "c1") {
				t.Errorf("output %q, want it to name client c1", out)
			}
		})
	}
}
