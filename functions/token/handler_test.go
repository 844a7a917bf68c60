package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings of the error; empty means success
	}{
		{
			name: "defaults",
			env:  map[string]string{"GENESYS_SECRET_ID": "journey-relay/genesys-client"},
			want: Config{
				SecretID: "journey-relay/genesys-client", SecretTTL: 5 * time.Minute,
				SecretMaxStale: time.Hour, RefreshMargin: 60 * time.Second,
			},
		},
		{
			name: "every variable set",
			env: map[string]string{
				"GENESYS_SECRET_ID": "arn:secret", "SECRET_TTL": "1m",
				"SECRET_MAX_STALE": "2h", "TOKEN_REFRESH_MARGIN": "90s",
			},
			want: Config{SecretID: "arn:secret", SecretTTL: time.Minute, SecretMaxStale: 2 * time.Hour, RefreshMargin: 90 * time.Second},
		},
		{
			name:    "missing secret id and bad margin",
			env:     map[string]string{"TOKEN_REFRESH_MARGIN": "10m"},
			wantErr: []string{"GENESYS_SECRET_ID", "TOKEN_REFRESH_MARGIN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(func(name string) (string, bool) {
				v, ok := tt.env[name]
				return v, ok
			})
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("loadConfig: %v", err)
				}
				if got != tt.want {
					t.Errorf("loadConfig = %+v, want %+v", got, tt.want)
				}
				return
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want one naming %s", err, want)
				}
			}
		})
	}
}

func TestEventFixturesRoundTrip(t *testing.T) {
	for _, name := range []string{"token-request.json", "token-refresh.json"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("../../events/" + name)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var req token.Request
			if err := dec.Decode(&req); err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			if err := validate(req); err != nil {
				t.Errorf("validate: %v", err)
			}
			encoded, _ := json.Marshal(req)
			var original, again map[string]any
			_ = json.Unmarshal(raw, &original)
			_ = json.Unmarshal(encoded, &again)
			if len(original) != len(again) || original["force_refresh"] != again["force_refresh"] ||
				original["rejected_token_sha256"] != again["rejected_token_sha256"] {
				t.Errorf("re-encoded %s = %s, want the fixture's fields %v", name, encoded, original)
			}
		})
	}
}

// fakeIssuer returns a fixed token or error and records which method ran.
type fakeIssuer struct {
	tok      token.Token
	err      error
	rejected []string
}

func (f *fakeIssuer) Current(context.Context) (token.Token, error) { return f.tok, f.err }

func (f *fakeIssuer) RefreshRejected(_ context.Context, rejectedSHA256 string) (token.Token, error) {
	f.rejected = append(f.rejected, rejectedSHA256)
	return f.tok, f.err
}

func newTestHandler(issuer *fakeIssuer) (handler, *bytes.Buffer) {
	var out bytes.Buffer
	return handler{
		issuer:  issuer,
		metrics: telemetry.NewRecorder(&out, "token"),
		log:     telemetry.NewLogger(),
	}, &out
}

func TestHandlerResponses(t *testing.T) {
	expires := time.Date(2026, 12, 5, 15, 0, 0, 999, time.UTC)
	digest := token.SHA256("rejected")
	tests := []struct {
		name         string
		req          token.Request
		issuerErr    error
		want         token.Response
		wantRejected []string
		wantErrType  any
	}{
		{
			name: "cached token",
			req:  token.Request{},
			want: token.Response{AccessToken: "t-1", ExpiresAt: "2026-12-05T15:00:00Z"},
		},
		{
			name:         "forced refresh",
			req:          token.Request{ForceRefresh: true, RejectedTokenSHA256: digest},
			want:         token.Response{AccessToken: "t-1", ExpiresAt: "2026-12-05T15:00:00Z"},
			wantRejected: []string{digest},
		},
		{
			name:        "forced refresh without digest",
			req:         token.Request{ForceRefresh: true},
			wantErrType: new(*InvalidRequestError),
		},
		{
			name:        "forced refresh with a short digest",
			req:         token.Request{ForceRefresh: true, RejectedTokenSHA256: "abc123"},
			wantErrType: new(*InvalidRequestError),
		},
		{
			name:        "issuer failure",
			req:         token.Request{},
			issuerErr:   errors.New("token endpoint returned status 503"),
			wantErrType: new(*TokenUnavailableError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := &fakeIssuer{tok: token.Token{Value: "t-1", ExpiresAt: expires}, err: tt.issuerErr}
			h, _ := newTestHandler(issuer)

			got, err := h.Handle(context.Background(), tt.req)

			if tt.wantErrType != nil {
				if err == nil || !errors.As(err, tt.wantErrType) {
					t.Errorf("error = %v (%T), want %T", err, err, tt.wantErrType)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got != tt.want {
				t.Errorf("response = %+v, want %+v", got, tt.want)
			}
			if strings.Join(issuer.rejected, ",") != strings.Join(tt.wantRejected, ",") {
				t.Errorf("rejected digests = %v, want %v", issuer.rejected, tt.wantRejected)
			}
		})
	}
}

func TestHandlerFlushesMetricsPerInvocation(t *testing.T) {
	h, out := newTestHandler(&fakeIssuer{tok: token.Token{Value: "t-1", ExpiresAt: time.Now().Add(time.Hour)}})
	h.metrics.Add(token.MetricTokenFetches, 1) // as the Issuer does during a fetch

	if _, err := h.Handle(context.Background(), token.Request{}); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(out.String(), `"token_fetches":1`) {
		t.Errorf("EMF output = %q, want token_fetches 1", out)
	}
}

func TestMisconfiguredNamesVariable(t *testing.T) {
	_, err := loadConfig(func(string) (string, bool) { return "", false })

	_, handleErr := misconfigured{err: err}.Handle(context.Background(), token.Request{})

	var misconfiguredErr *MisconfiguredError
	if !errors.As(handleErr, &misconfiguredErr) {
		t.Fatalf("error = %v, want a MisconfiguredError", handleErr)
	}
	if !strings.Contains(handleErr.Error(), "GENESYS_SECRET_ID") {
		t.Errorf("error = %q, want it to name GENESYS_SECRET_ID", handleErr)
	}
}
