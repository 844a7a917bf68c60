package main

import (
	"slices"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
)

func TestParseOptions(t *testing.T) {
	t.Setenv("GENESYS_SIM_RETENTION", "50")
	opts, err := parseOptions([]string{
		"-addr", "127.0.0.1:0", "-seed", "9", "-deployments", "d1, d2",
		"-clients", "a:s,b:t:journey:session:view|x", "-token-lifetime", "5m",
		"-faults", `{"outage":{"for":"1m"}}`,
	})
	if err != nil {
		t.Fatalf("parseOptions: %v", err)
	}

	cfg := opts.cfg
	if cfg.Seed != 9 || cfg.Retention != 50 || cfg.TokenLifetime != 5*time.Minute {
		t.Errorf("got seed %d retention %d lifetime %s, want 9, 50, 5m", cfg.Seed, cfg.Retention, cfg.TokenLifetime)
	}
	if !slices.Equal(cfg.Deployments, []string{"d1", "d2"}) {
		t.Errorf("deployments: got %v, want [d1 d2]", cfg.Deployments)
	}
	if len(cfg.Clients) != 2 ||
		!slices.Equal(cfg.Clients[0].Permissions, []string{genesyssim.PermissionExternalEventsAdd}) ||
		!slices.Equal(cfg.Clients[1].Permissions, []string{"journey:session:view", "x"}) {
		t.Errorf("clients: got %+v, want a with the default permission and b with two", cfg.Clients)
	}
	if cfg.Faults.Outage == nil {
		t.Error("faults: got no outage, want the one from -faults")
	}
}

func TestParseOptionsInvalid(t *testing.T) {
	for name, args := range map[string][]string{
		"client without secret": {"-clients", "a"},
		"invalid faults":        {"-faults", `{"errors":{"status":200}}`},
		"faults not JSON":       {"-faults", `{`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseOptions(args); err == nil {
				t.Error("got no error")
			}
		})
	}
}
