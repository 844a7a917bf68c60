package main

import (
	"strings"
	"testing"
	"time"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func requiredEnv() map[string]string {
	return map[string]string{
		"QUEUE_URL":             "http://127.0.0.1:4566/000000000000/journey-events",
		"DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:4566/000000000000/journey-events-dlq",
		"TABLE_NAME":            "journey-relay",
		"GENESYS_DEPLOYMENT_ID": "dep-1",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(lookupFrom(requiredEnv()))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.APIBaseURL != "https://api.mypurecloud.com" {
		t.Errorf("API base URL: got %q, want https://api.mypurecloud.com", cfg.APIBaseURL)
	}
	if cfg.EventsPerSecond != 100 || cfg.RequestsPerMinute != 300 || cfg.MaxInstances != 3 {
		t.Errorf("budgets: got %v/s, %v/min, %d instances, want 100, 300, 3",
			cfg.EventsPerSecond, cfg.RequestsPerMinute, cfg.MaxInstances)
	}
	if cfg.Timeout != 5*time.Second {
		t.Errorf("timeout: got %v, want 5s", cfg.Timeout)
	}
	if cfg.BreakerOpenDelay != 30*time.Second || cfg.BreakerMaxOpenDelay != 5*time.Minute {
		t.Errorf("breaker delays: got %v and %v, want 30s and 5m", cfg.BreakerOpenDelay, cfg.BreakerMaxOpenDelay)
	}
	if cfg.ExternalConfigurationID != "" || cfg.TokenFunctionName != "" {
		t.Errorf("external events: got configuration %q and token function %q, want both empty",
			cfg.ExternalConfigurationID, cfg.TokenFunctionName)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		change   map[string]string
		remove   string
		wantVars []string
	}{
		{name: "missing queue", remove: "QUEUE_URL", wantVars: []string{"QUEUE_URL"}},
		{name: "missing deployment", remove: "GENESYS_DEPLOYMENT_ID", wantVars: []string{"GENESYS_DEPLOYMENT_ID"}},
		{name: "external events without token function",
			change:   map[string]string{"GENESYS_EXTERNAL_CONFIGURATION_ID": "cfg-1"},
			wantVars: []string{"TOKEN_FUNCTION_NAME"}},
		{name: "invalid numbers",
			change:   map[string]string{"GENESYS_EVENTS_PER_SECOND": "fast", "FLUSH_MAX_INSTANCES": "0"},
			wantVars: []string{"GENESYS_EVENTS_PER_SECOND", "FLUSH_MAX_INSTANCES"}},
		{name: "breaker delay out of range",
			change:   map[string]string{"BREAKER_OPEN_DELAY": "500ms"},
			wantVars: []string{"BREAKER_OPEN_DELAY"}},
		{name: "breaker cap under the first delay",
			change:   map[string]string{"BREAKER_OPEN_DELAY": "2m", "BREAKER_MAX_OPEN_DELAY": "1m"},
			wantVars: []string{"BREAKER_MAX_OPEN_DELAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := requiredEnv()
			delete(env, tt.remove)
			for k, v := range tt.change {
				env[k] = v
			}

			_, err := loadConfig(lookupFrom(env))

			if err == nil {
				t.Fatalf("got nil error, want one naming %v", tt.wantVars)
			}
			for _, name := range tt.wantVars {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
}

func TestLoadConfigRegionSetsBaseURL(t *testing.T) {
	env := requiredEnv()
	env["GENESYS_REGION"] = "mypurecloud.ie"

	cfg, err := loadConfig(lookupFrom(env))

	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.APIBaseURL != "https://api.mypurecloud.ie" {
		t.Errorf("API base URL: got %q, want https://api.mypurecloud.ie", cfg.APIBaseURL)
	}
}
