package main

import (
	"time"

	"github.com/journeyrelay/relay/shared/config"
	"github.com/journeyrelay/relay/shared/ingest"
	"github.com/journeyrelay/relay/shared/journey"
)

// maxEvents bounds one request. At about 1 KB per event, 500 events stay far
// below the body caps, so the cap on bytes rather than on count is what binds
// for typical events.
const maxEvents = 500

// Config is the ingest function's configuration, read once at start-up.
type Config struct {
	QueueURL        string        // QUEUE_URL
	TableName       string        // TABLE_NAME
	AppKeysSecretID string        // APP_KEYS_SECRET_ID
	SecretTTL       time.Duration // SECRET_TTL
	SecretMaxStale  time.Duration // SECRET_MAX_STALE
	SkewFlagTTL     time.Duration // SKEW_FLAG_TTL
	Service         ingest.Config // MAX_BODY_BYTES, MAX_DECODED_BYTES, MAX_MESSAGE_BYTES, SKEW_DEAD_BAND, MAX_EVENT_AGE
}

func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	env := config.NewEnv(lookup)
	cfg := Config{
		QueueURL:        env.Required("QUEUE_URL"),
		TableName:       env.Required("TABLE_NAME"),
		AppKeysSecretID: env.Required("APP_KEYS_SECRET_ID"),
		SecretTTL:       env.Duration("SECRET_TTL", 5*time.Minute, time.Second, 24*time.Hour),
		SecretMaxStale:  env.Duration("SECRET_MAX_STALE", time.Hour, 0, 7*24*time.Hour),
		SkewFlagTTL:     env.Duration("SKEW_FLAG_TTL", 7*24*time.Hour, time.Hour, 365*24*time.Hour),
		Service: ingest.Config{
			MaxBodyBytes:    env.Int("MAX_BODY_BYTES", ingest.DefaultMaxBodyBytes, 1024, ingest.DefaultMaxBodyBytes),
			MaxDecodedBytes: env.Int("MAX_DECODED_BYTES", ingest.DefaultMaxDecodedBytes, 1024, 64<<20),
			MaxMessageBytes: env.Int("MAX_MESSAGE_BYTES", 1<<20, 1024, 1<<20),
			Rules: journey.Options{
				DeadBand:    env.Duration("SKEW_DEAD_BAND", 30*time.Second, 0, time.Hour),
				MaxEventAge: env.Duration("MAX_EVENT_AGE", 50*time.Minute, time.Minute, time.Hour),
				MaxEvents:   maxEvents,
			},
		},
	}
	return cfg, env.Err()
}
