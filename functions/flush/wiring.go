package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/rateshare"
	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

// The adapters main wires into the engine.
var (
	_ delivery.Sender       = (*genesys.Client)(nil)
	_ delivery.Claims       = (*idempotency.Store)(nil)
	_ delivery.Breaker      = (*breaker.Breaker)(nil)
	_ delivery.Tokens       = (*token.Client)(nil)
	_ delivery.DeadLetterer = (*queue.Consumer)(nil)
	_ delivery.Metrics      = (*telemetry.Recorder)(nil)
	_ delivery.Leases       = (*rateshare.Leases)(nil)
	_ Deliverer             = (*delivery.Engine)(nil)
)

// newDeps builds the engine's adapters from the configuration and the AWS clients.
func newDeps(cfg Config, awsCfg aws.Config, consumer *queue.Consumer, log *slog.Logger, metrics delivery.Metrics) delivery.Deps {
	db := dynamodb.NewFromConfig(awsCfg)
	deps := delivery.Deps{
		Sender: genesys.NewClient(genesys.Config{
			APIBaseURL:              cfg.APIBaseURL,
			DeploymentID:            cfg.DeploymentID,
			ExternalConfigurationID: cfg.ExternalConfigurationID,
			ExternalSourceID:        cfg.ExternalSourceID,
			Timeout:                 cfg.Timeout,
		}),
		Claims: idempotency.NewStore(db, cfg.TableName, idempotency.Options{}),
		Breaker: breaker.New(db, cfg.TableName, breaker.Config{
			OpenDelay:     cfg.BreakerOpenDelay,
			MaxOpenDelay:  cfg.BreakerMaxOpenDelay,
			Logger:        log,
			OnStateChange: countTransitions(metrics),
		}),
		DeadLetters: consumer,
		Leases:      rateshare.New(db, cfg.TableName, rateshare.Options{}),
	}
	if cfg.TokenFunctionName != "" {
		deps.Tokens = token.NewClient(lambda.NewFromConfig(awsCfg), cfg.TokenFunctionName,
			token.ClientOptions{Logger: log})
	}
	return deps
}

func engineConfig(cfg Config, log *slog.Logger, metrics delivery.Metrics) delivery.Config {
	return delivery.Config{
		EventsPerSecond:   cfg.EventsPerSecond,
		RequestsPerMinute: cfg.RequestsPerMinute,
		Instances:         cfg.MaxInstances,
		ExternalEnabled:   cfg.ExternalConfigurationID != "",
		Logger:            log,
		Metrics:           metrics,
	}
}

// countTransitions turns the breaker's state changes into the breaker_open
// and breaker_close counters.
func countTransitions(metrics delivery.Metrics) func(from, to breaker.State) {
	return func(_, to breaker.State) {
		switch to {
		case breaker.Open:
			metrics.Add(delivery.MetricBreakerOpen, 1)
		case breaker.Closed:
			metrics.Add(delivery.MetricBreakerClose, 1)
		}
	}
}

// failing fails every invocation with the start-up error, so that a bad
// configuration shows in the function's error metric and logs. SQS keeps the
// messages of a failed batch until its redrive policy moves them to the
// dead-letter queue.
type failing struct {
	err error
}

func (f failing) Handle(context.Context, json.RawMessage) (any, error) {
	return nil, fmt.Errorf("flush is not configured: %w", f.err)
}
