package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/lambdarun"
	"github.com/journeyrelay/relay/shared/token"
)

const (
	testClientID     = "relay-client"
	testClientSecret = "s3cret-Value-5d81"
)

// startFunction runs the token bootstrap under the runtime interface emulator
// against the AWS emulator and the Genesys simulator.
func startFunction(t *testing.T) (*lambdarun.Function, *genesyssim.Server) {
	t.Helper()
	emu, res := awslocal.StartT(t)
	sim, simURL := genesyssim.Start(t, genesyssim.Config{
		Seed:          1,
		Clients:       []genesyssim.Client{{ID: testClientID, Secret: testClientSecret}},
		TokenLifetime: time.Hour,
	})
	err := awslocal.PutSecret(context.Background(), emu.Config, res.GenesysSecret, map[string]string{
		"client_id": testClientID, "client_secret": testClientSecret, "login_base_url": simURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	env := append(emu.EndpointEnv(), "GENESYS_SECRET_ID="+res.GenesysSecret, "AWS_LAMBDA_LOG_FORMAT=JSON")
	return lambdarun.StartT(t, "token", env...), sim
}

func invoke(t *testing.T, f *lambdarun.Function, payload []byte) token.Response {
	t.Helper()
	body, err := f.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp token.Response
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		t.Fatalf("invoke: got %s, want a token response\nlogs:\n%s", body, f.Logs())
	}
	return resp
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFunctionUnderEmulator(t *testing.T) {
	f, sim := startFunction(t)
	before := time.Now()

	first := invoke(t, f, readEvent(t, "token-request.json"))

	expiresAt, err := time.Parse(time.RFC3339, first.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at = %q, want an RFC 3339 time", first.ExpiresAt)
	}
	if lo, hi := before.Add(time.Hour-time.Second), time.Now().Add(time.Hour); expiresAt.Before(lo) || expiresAt.After(hi) {
		t.Errorf("expires_at = %s, want from %s to %s", expiresAt, lo, hi)
	}

	t.Run("cached token for a second request", func(t *testing.T) {
		again := invoke(t, f, readEvent(t, "token-request.json"))
		if again.AccessToken != first.AccessToken {
			t.Error("access_token changed, want the cached token")
		}
	})

	t.Run("report of another token keeps the cache", func(t *testing.T) {
		again := invoke(t, f, readEvent(t, "token-refresh.json"))
		if again.AccessToken != first.AccessToken {
			t.Error("access_token changed, want the cached token")
		}
	})

	var second token.Response
	t.Run("report of the cached token refreshes it", func(t *testing.T) {
		payload, _ := json.Marshal(token.Request{ForceRefresh: true, RejectedTokenSHA256: token.SHA256(first.AccessToken)})
		second = invoke(t, f, payload)
		if second.AccessToken == first.AccessToken {
			t.Error("access_token unchanged, want a new token")
		}
	})

	if got := sim.Stats().TokensIssued; got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
	logs := f.Logs()
	if !strings.Contains(logs, `"token_fetches":1`) {
		t.Errorf("logs lack the token_fetches metric:\n%s", logs)
	}
	for name, leak := range map[string]string{
		"client secret": testClientSecret, "first token": first.AccessToken, "second token": second.AccessToken,
	} {
		if leak != "" && strings.Contains(logs, leak) {
			t.Errorf("logs contain the %s:\n%s", name, logs)
		}
	}
}

func TestFunctionMisconfiguredFailsInvocation(t *testing.T) {
	emu, _ := awslocal.StartT(t)
	f := lambdarun.StartT(t, "token", emu.EndpointEnv()...)

	body, _ := f.Invoke(context.Background(), readEvent(t, "token-request.json"))

	var failure struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &failure); err != nil {
		t.Fatalf("response = %s, want a function error", body)
	}
	if failure.ErrorType != "MisconfiguredError" {
		t.Errorf("errorType = %q, want MisconfiguredError", failure.ErrorType)
	}
	if !strings.Contains(failure.ErrorMessage, "GENESYS_SECRET_ID") {
		t.Errorf("errorMessage = %q, want it to name GENESYS_SECRET_ID", failure.ErrorMessage)
	}

	// A second invocation fails the same way instead of finding a crashed runtime.
	again, _ := f.Invoke(context.Background(), readEvent(t, "token-request.json"))
	if !strings.Contains(string(again), "MisconfiguredError") {
		t.Errorf("second response = %s, want MisconfiguredError again", again)
	}
}
