package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/journeyrelay/relay/shared/telemetry"
)

// getterFunc is a secrets.Getter backed by a function.
type getterFunc func() (*secretsmanager.GetSecretValueOutput, error)

func (f getterFunc) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput,
	...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f()
}

func TestCountingGetterCountsFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want float64
	}{
		{"success", nil, 0},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, 1},
		{"canceled by the caller", fmt.Errorf("get secret: %w", context.Canceled), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := telemetry.NewRecorder(io.Discard, "token")
			getter := countingGetter{
				next:    getterFunc(func() (*secretsmanager.GetSecretValueOutput, error) { return nil, tt.err }),
				metrics: metrics,
			}

			_, err := getter.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{})

			if !errors.Is(err, tt.err) {
				t.Errorf("error = %v, want %v", err, tt.err)
			}
			if got := metrics.Total(metricSecretRefreshFailures); got != tt.want {
				t.Errorf("%s = %v, want %v", metricSecretRefreshFailures, got, tt.want)
			}
		})
	}
}
