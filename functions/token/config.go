package main

import (
	"time"

	"github.com/journeyrelay/relay/shared/config"
	"github.com/journeyrelay/relay/shared/token"
)

// Config is the token function's configuration, read once at start-up.
type Config struct {
	SecretID       string        // GENESYS_SECRET_ID
	SecretTTL      time.Duration // SECRET_TTL
	SecretMaxStale time.Duration // SECRET_MAX_STALE
	RefreshMargin  time.Duration // TOKEN_REFRESH_MARGIN
}

func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	env := config.NewEnv(lookup)
	cfg := Config{
		SecretID:       env.Required("GENESYS_SECRET_ID"),
		SecretTTL:      env.Duration("SECRET_TTL", 5*time.Minute, time.Second, 24*time.Hour),
		SecretMaxStale: env.Duration("SECRET_MAX_STALE", time.Hour, 0, 7*24*time.Hour),
		// Genesys token lifetimes start at 5 minutes, so a margin must stay below that.
		RefreshMargin: env.Duration("TOKEN_REFRESH_MARGIN", token.DefaultRefreshMargin, time.Second, 4*time.Minute),
	}
	return cfg, env.Err()
}
