package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/journeyrelay/relay/shared/secrets"
	"github.com/journeyrelay/relay/shared/token"
)

// metricSecretRefreshFailures counts failed GetSecretValue calls.
const metricSecretRefreshFailures = "secret_refresh_failures"

// countingGetter counts failed GetSecretValue calls as secret_refresh_failures.
type countingGetter struct {
	next    secrets.Getter
	metrics token.Counter
}

var _ secrets.Getter = countingGetter{}

func (g countingGetter) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
	optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	out, err := g.next.GetSecretValue(ctx, in, optFns...)
	if err != nil && !errors.Is(err, context.Canceled) {
		g.metrics.Add(metricSecretRefreshFailures, 1)
	}
	return out, err
}
