package main

import (
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"once", []string{"-once", "-addr", "127.0.0.1:0"}, false},
		{"invoke with event", []string{"-invoke", "ingest", "-event", "events/x.json"}, false},
		{"invoke without event", []string{"-invoke", "ingest"}, true},
		{"unknown runner", []string{"-invoke", "flush", "-event", "e.json", "-runner", "docker"}, true},
		{"unknown flag", []string{"-port", "3000"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Errorf("error: got %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestRealGenesys(t *testing.T) {
	full := map[string]string{
		"GENESYS_REGION":        "mypurecloud.ie",
		"GENESYS_DEPLOYMENT_ID": "d-1",
		"GENESYS_CLIENT_ID":     "c",
		"GENESYS_CLIENT_SECRET": "s",
	}
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			value, ok := env[name]
			return value, ok
		}
	}

	t.Run("unset selects the simulator", func(t *testing.T) {
		g, err := realGenesys(lookup(map[string]string{"GENESYS_CLIENT_ID": "c"}))
		if g != nil || err != nil {
			t.Errorf("got %+v, %v, want nil and no error", g, err)
		}
	})
	t.Run("complete settings", func(t *testing.T) {
		g, err := realGenesys(lookup(full))
		if err != nil {
			t.Fatal(err)
		}
		if g.Region != "mypurecloud.ie" || g.DeploymentID != "d-1" {
			t.Errorf("got region %q and deployment %q, want mypurecloud.ie and d-1", g.Region, g.DeploymentID)
		}
	})
	t.Run("missing client secret", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		delete(env, "GENESYS_CLIENT_SECRET")
		if _, err := realGenesys(lookup(env)); err == nil {
			t.Error("got no error, want one naming GENESYS_CLIENT_SECRET")
		}
	})
}
