package main

import (
	"fmt"
	"time"

	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/config"
)

// Config is the flush function's configuration, read once at start-up.
type Config struct {
	QueueURL                string        // QUEUE_URL
	DeadLetterQueueURL      string        // DEAD_LETTER_QUEUE_URL
	TableName               string        // TABLE_NAME
	TokenFunctionName       string        // TOKEN_FUNCTION_NAME
	APIBaseURL              string        // GENESYS_API_BASE_URL, else https://api.<GENESYS_REGION>
	DeploymentID            string        // GENESYS_DEPLOYMENT_ID
	ExternalConfigurationID string        // GENESYS_EXTERNAL_CONFIGURATION_ID
	ExternalSourceID        string        // GENESYS_EXTERNAL_SOURCE_ID
	EventsPerSecond         float64       // GENESYS_EVENTS_PER_SECOND
	RequestsPerMinute       float64       // GENESYS_REQUESTS_PER_MINUTE
	Timeout                 time.Duration // GENESYS_TIMEOUT
	MaxInstances            int           // FLUSH_MAX_INSTANCES
	BreakerOpenDelay        time.Duration // BREAKER_OPEN_DELAY
	BreakerMaxOpenDelay     time.Duration // BREAKER_MAX_OPEN_DELAY
}

func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	env := config.NewEnv(lookup)
	region := env.String("GENESYS_REGION", "mypurecloud.com")
	cfg := Config{
		QueueURL:                env.Required("QUEUE_URL"),
		DeadLetterQueueURL:      env.Required("DEAD_LETTER_QUEUE_URL"),
		TableName:               env.Required("TABLE_NAME"),
		APIBaseURL:              env.String("GENESYS_API_BASE_URL", "https://api."+region),
		DeploymentID:            env.Required("GENESYS_DEPLOYMENT_ID"),
		ExternalConfigurationID: env.String("GENESYS_EXTERNAL_CONFIGURATION_ID", ""),
		ExternalSourceID:        env.String("GENESYS_EXTERNAL_SOURCE_ID", ""),
		EventsPerSecond:         env.Float("GENESYS_EVENTS_PER_SECOND", 100, 0.01, 100000),
		RequestsPerMinute:       env.Float("GENESYS_REQUESTS_PER_MINUTE", 300, 1, 100000),
		Timeout:                 env.Duration("GENESYS_TIMEOUT", 5*time.Second, 100*time.Millisecond, time.Minute),
		MaxInstances:            env.Int("FLUSH_MAX_INSTANCES", 3, 1, 1000),
		BreakerOpenDelay:        env.Duration("BREAKER_OPEN_DELAY", breaker.DefaultOpenDelay, time.Second, time.Hour),
		BreakerMaxOpenDelay:     env.Duration("BREAKER_MAX_OPEN_DELAY", breaker.DefaultMaxOpenDelay, time.Second, time.Hour),
	}
	if cfg.BreakerMaxOpenDelay < cfg.BreakerOpenDelay {
		env.Invalid("BREAKER_MAX_OPEN_DELAY", fmt.Sprintf(
			"%s is shorter than BREAKER_OPEN_DELAY %s; set it to at least that (its default is %s)",
			cfg.BreakerMaxOpenDelay, cfg.BreakerOpenDelay, breaker.DefaultMaxOpenDelay))
	}
	if cfg.ExternalConfigurationID != "" {
		cfg.TokenFunctionName = env.Required("TOKEN_FUNCTION_NAME")
	} else {
		cfg.TokenFunctionName = env.String("TOKEN_FUNCTION_NAME", "")
	}
	return cfg, env.Err()
}
