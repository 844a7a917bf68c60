package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/localstack"
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

// -invoke must not need port 3000, which `make run` may be serving on.
func TestParseFlagsAddr(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"serve default", nil, "127.0.0.1:3000"},
		{"invoke default", []string{"-invoke", "ingest", "-event", "events/x.json"}, "127.0.0.1:0"},
		{"invoke with addr", []string{"-invoke", "ingest", "-event", "events/x.json", "-addr", "127.0.0.1:3001"}, "127.0.0.1:3001"},
		{"once with addr", []string{"-once", "-addr", "127.0.0.1:0"}, "127.0.0.1:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parseFlags(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if opts.addr != tt.want {
				t.Errorf("addr: got %q, want %q", opts.addr, tt.want)
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

func TestDeliveryError(t *testing.T) {
	inProgress := fmt.Errorf("%w: 3 accepted events not delivered yet", localstack.ErrDeliveryInProgress)
	queueFailed := errors.New("read the depth of the queue: connection refused")
	report := &localstack.Report{Undelivered: []string{"a at t1", "b at t2", "c at t3"}}

	t.Run("serve mode keeps serving", func(t *testing.T) {
		if err := deliveryError(inProgress, report, options{}); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("once mode fails with the timeout", func(t *testing.T) {
		err := deliveryError(inProgress, report, options{once: true, timeout: 2 * time.Minute})
		if err == nil {
			t.Fatal("got nil, want an error")
		}
		for _, want := range []string{"timed out after 2m0s", "3 accepted events", "raise -timeout"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("got %q, want it to contain %q", err, want)
			}
		}
	})
	t.Run("queue error ends both modes", func(t *testing.T) {
		for _, once := range []bool{false, true} {
			if err := deliveryError(queueFailed, report, options{once: once}); !errors.Is(err, queueFailed) {
				t.Errorf("once %v: got %v, want the queue error", once, err)
			}
		}
	})
	t.Run("complete delivery", func(t *testing.T) {
		if err := deliveryError(nil, report, options{once: true}); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

// The queue URL kumo returns names localhost:4566, not the emulator's port.
func TestPrintStackNamesEmulatorEndpoint(t *testing.T) {
	names := awslocal.DefaultNames()
	stack := &localstack.Stack{
		APIURL:    "http://127.0.0.1:3000",
		Emulator:  &awslocal.Emulator{URL: "http://127.0.0.1:41234"},
		Resources: awslocal.Resources{Names: names, QueueURL: "http://localhost:4566/000000000000/journey-events"},
	}
	var out strings.Builder

	printStack(&out, stack)

	if strings.Contains(out.String(), "localhost:4566") {
		t.Errorf("output names localhost:4566:\n%s", out.String())
	}
	if want := "journey-events at http://127.0.0.1:41234"; !strings.Contains(out.String(), want) {
		t.Errorf("output:\n%s\nwant it to contain %q", out.String(), want)
	}
}
