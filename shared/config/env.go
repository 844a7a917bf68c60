// Package config reads a function's settings from environment variables
// once, at start-up, and reports every missing or invalid variable together.
//
// Each function declares its own Config struct and fills it through an Env:
//
//	env := config.NewEnv(os.LookupEnv)
//	cfg := Config{QueueURL: env.Required("QUEUE_URL")}
//	if err := env.Err(); err != nil { ... }
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env collects values and errors while a Config is being filled.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// NewEnv returns an Env that reads variables through lookup, usually os.LookupEnv.
func NewEnv(lookup func(string) (string, bool)) *Env {
	return &Env{lookup: lookup}
}

// Err returns every problem found so far, one line per variable, or nil.
func (e *Env) Err() error {
	return errors.Join(e.errs...)
}

// Invalid records that the variable's value conflicts with another setting,
// for checks that span several variables.
func (e *Env) Invalid(name, reason string) {
	e.fail(name, "%s", reason)
}

func (e *Env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("environment variable %s: "+format, append([]any{name}, args...)...))
}

func (e *Env) get(name string) (string, bool) {
	v, ok := e.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// Required returns the variable's value and records an error when it is unset or empty.
func (e *Env) Required(name string) string {
	v, ok := e.get(name)
	if !ok {
		e.fail(name, "missing; set it to a non-empty value")
	}
	return v
}

// String returns the variable's value, or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if v, ok := e.get(name); ok {
		return v
	}
	return def
}

// OneOf returns the variable's value, or def when unset, and records an error
// when the value is not one of allowed.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.fail(name, "invalid value %q; accepted values: %s", v, strings.Join(allowed, ", "))
	return def
}

// Int returns the variable as an integer in [lo, hi], or def when unset.
func (e *Env) Int(name string, def, lo, hi int) int {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.fail(name, "invalid value %q; accepted values: an integer from %d to %d", v, lo, hi)
		return def
	}
	return n
}

// Float returns the variable as a number in [lo, hi], or def when unset.
func (e *Env) Float(name string, def, lo, hi float64) float64 {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		e.fail(name, "invalid value %q; accepted values: a number from %g to %g", v, lo, hi)
		return def
	}
	return f
}

// Duration returns the variable as a Go duration ("30s", "5m") in [lo, hi], or def when unset.
func (e *Env) Duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		e.fail(name, "invalid value %q; accepted values: a duration such as \"30s\" from %s to %s", v, lo, hi)
		return def
	}
	return d
}

// Bool returns the variable as a boolean ("true" or "false"), or def when unset.
func (e *Env) Bool(name string, def bool) bool {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, "invalid value %q; accepted values: true, false", v)
		return def
	}
	return b
}
