package genesyssim

import (
	"encoding/json"
	"fmt"
	"time"
)

// Default values that New applies to zero fields of Config.
const (
	DefaultTokenLifetime          = 24 * time.Hour
	DefaultTokenRequestsPerMinute = 300
	DefaultMaxExternalEntities    = 100
	DefaultFutureTolerance        = 5 * time.Second
	DefaultRetention              = 100_000

	// MaxEventAge is how old a createdDate or dateCreated may be. Genesys rejects app and
	// web events older than one hour; the simulator applies the same rule to external events.
	MaxEventAge = time.Hour

	// PermissionExternalEventsAdd is the permission a client needs to post external events.
	PermissionExternalEventsAdd = "journey:externalEventsEvent:add"
)

// Config sets up a Server. Zero fields take the defaults listed on each field.
type Config struct {
	// Seed makes fault draws, latency draws and generated ids repeatable.
	Seed int64

	// Deployments lists the Messenger deployment ids that accept app and web events.
	// Any other id gets 404.
	Deployments []string

	// ExternalConfigurations lists the external-event configuration ids that exist.
	// Any other id gets 404.
	ExternalConfigurations []string

	// Clients lists the OAuth clients that may request tokens.
	Clients []Client

	// TokenLifetime is the lifetime of issued access tokens. Default 24h, the Genesys default.
	TokenLifetime time.Duration

	// DeploymentEventsPerSecond is the budget of app plus web event requests per
	// deployment, enforced with a token bucket. Zero means unlimited.
	DeploymentEventsPerSecond float64

	// TokenRequestsPerMinute is the budget of authenticated requests per access token in
	// each fixed one-minute window. Default 300, the Genesys default; negative means unlimited.
	TokenRequestsPerMinute int

	// TokenEndpointRequestsPerMinute is the budget of /oauth/token requests, shared by all
	// clients, in each fixed one-minute window. Zero means unlimited.
	TokenEndpointRequestsPerMinute int

	// MaxExternalEntities is the max number of entities in one external-events request.
	// Default 100.
	MaxExternalEntities int

	// FutureTolerance is how far in the future a createdDate or dateCreated may lie.
	// Default 5s.
	FutureTolerance time.Duration

	// Retention is the max number of accepted events kept for Events, and also bounds the
	// duplicate-detection and session tables. Default 100000. Counters are never dropped.
	Retention int

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Faults are active from the start, as if set with SetFaults right after New.
	Faults Faults
}

// Client is an OAuth client that may use the client-credentials grant.
type Client struct {
	ID          string   `json:"id"`
	Secret      string   `json:"secret"`
	Permissions []string `json:"permissions"` // for example PermissionExternalEventsAdd
}

func (c Config) withDefaults() Config {
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.TokenRequestsPerMinute == 0 {
		c.TokenRequestsPerMinute = DefaultTokenRequestsPerMinute
	}
	if c.MaxExternalEntities <= 0 {
		c.MaxExternalEntities = DefaultMaxExternalEntities
	}
	if c.FutureTolerance <= 0 {
		c.FutureTolerance = DefaultFutureTolerance
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Duration is a time.Duration that reads and writes JSON as a Go duration string ("5m", "250ms").
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a string in time.ParseDuration syntax.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("invalid duration %s: want a string such as \"5m\" or \"250ms\"", data)
	}

	parsed, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", text, err)
	}
	*d = Duration(parsed)
	return nil
}
