package config

import (
	"strings"
	"testing"
	"time"
)

func lookupFrom(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestEnvReadsValuesAndDefaults(t *testing.T) {
	env := NewEnv(lookupFrom(map[string]string{
		"QUEUE_URL": "http://127.0.0.1:4566/000000000000/events",
		"RATE":      "2.5",
		"WAIT":      "45s",
		"MODE":      "drain",
		"COUNT":     " 7 ",
		"ON":        "true",
	}))

	if got := env.Required("QUEUE_URL"); got != "http://127.0.0.1:4566/000000000000/events" {
		t.Errorf("Required: got %q", got)
	}
	if got := env.Float("RATE", 1, 0, 10); got != 2.5 {
		t.Errorf("Float: got %v, want 2.5", got)
	}
	if got := env.Duration("WAIT", time.Second, 0, time.Minute); got != 45*time.Second {
		t.Errorf("Duration: got %v, want 45s", got)
	}
	if got := env.OneOf("MODE", "sqs", "sqs", "drain"); got != "drain" {
		t.Errorf("OneOf: got %q, want drain", got)
	}
	if got := env.Int("COUNT", 1, 1, 10); got != 7 {
		t.Errorf("Int: got %d, want 7", got)
	}
	if got := env.Bool("ON", false); !got {
		t.Errorf("Bool: got false, want true")
	}
	if got := env.String("UNSET", "fallback"); got != "fallback" {
		t.Errorf("String default: got %q", got)
	}
	if err := env.Err(); err != nil {
		t.Errorf("Err: got %v, want nil", err)
	}
}

func TestEnvReportsEveryBadVariable(t *testing.T) {
	env := NewEnv(lookupFrom(map[string]string{
		"RATE": "fast",
		"WAIT": "2h",
		"MODE": "batch",
		"ON":   "yes please",
	}))
	env.Required("QUEUE_URL")
	env.Float("RATE", 1, 0, 10)
	env.Duration("WAIT", time.Second, 0, time.Minute)
	env.OneOf("MODE", "sqs", "sqs", "drain")
	env.Bool("ON", false)

	err := env.Err()
	if err == nil {
		t.Fatal("Err: got nil, want an error")
	}
	for _, want := range []string{
		"QUEUE_URL: missing",
		`RATE: invalid value "fast"; accepted values: a number from 0 to 10`,
		`WAIT: invalid value "2h"`,
		`MODE: invalid value "batch"; accepted values: sqs, drain`,
		`ON: invalid value "yes please"; accepted values: true, false`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
