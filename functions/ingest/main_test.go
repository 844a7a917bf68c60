package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/lambdarun"
	"github.com/journeyrelay/relay/shared/appkeys"
)

const localKey = "local-dev-key"

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBootstrapUnderEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	emu, res := awslocal.StartT(t)
	ctx := context.Background()
	if err := awslocal.PutSecret(ctx, emu.Config, res.AppKeysSecret, map[string]any{
		"keys": []map[string]string{{"id": "local", "sha256": appkeys.Hash(localKey)}},
	}); err != nil {
		t.Fatal(err)
	}
	env := append(emu.EndpointEnv(),
		"QUEUE_URL="+res.QueueURL,
		"TABLE_NAME="+res.Table,
		"APP_KEYS_SECRET_ID="+res.AppKeysSecret,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	)
	fn := lambdarun.StartT(t, "ingest", env...)

	tests := []struct {
		file     string
		status   int
		accepted int
		rejected int
	}{
		{"ingest-batch.json", 202, 4, 0},
		{"ingest-bare-event.json", 202, 1, 0},
		{"ingest-gzip-base64.json", 202, 4, 0},
		{"ingest-invalid-batch.json", 400, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			out, err := fn.Invoke(ctx, readEvent(t, tt.file))
			if err != nil {
				t.Fatalf("invoke: %v\nlogs:\n%s", err, fn.Logs())
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response is not an API Gateway response: %v: %s", err, out)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d: %s\nlogs:\n%s", resp.StatusCode, tt.status, resp.Body, fn.Logs())
			}
			var body struct {
				Accepted []json.RawMessage `json:"accepted"`
				Rejected []json.RawMessage `json:"rejected"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Accepted) != tt.accepted || len(body.Rejected) != tt.rejected {
				t.Errorf("accepted %d rejected %d, want %d and %d: %s", len(body.Accepted), len(body.Rejected), tt.accepted, tt.rejected, resp.Body)
			}
		})
	}
	if logs := fn.Logs(); strings.Contains(logs, localKey) {
		t.Error("the function logged the app key")
	} else if !strings.Contains(logs, `"requestId"`) || !strings.Contains(logs, `"key_id":"local"`) {
		t.Errorf("logs lack the request id or key id:\n%s", logs)
	}
}

func TestLoadConfigNamesBadVariables(t *testing.T) {
	_, err := loadConfig(func(name string) (string, bool) {
		if name == "SKEW_DEAD_BAND" {
			return "soon", true
		}
		return "", false
	})
	if err == nil {
		t.Fatal("got nil error")
	}
	for _, name := range []string{"QUEUE_URL", "TABLE_NAME", "APP_KEYS_SECRET_ID", "SKEW_DEAD_BAND"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestToRequestUsesGatewayReceiveTime(t *testing.T) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readEvent(t, "ingest-batch.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Headers["X-Api-Key"] = ev.Headers["x-api-key"]
	req := toRequest(ev, time.Now())
	if want := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC); !req.ReceivedAt.Equal(want) {
		t.Errorf("ReceivedAt: got %v, want %v", req.ReceivedAt, want)
	}
	if req.Method != "POST" || req.Path != "/v1/events" || req.Headers["x-api-key"] != localKey {
		t.Errorf("request: got %s %s key %q", req.Method, req.Path, req.Headers["x-api-key"])
	}
}
