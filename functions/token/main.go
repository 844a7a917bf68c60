// Command token is the Lambda function that holds the Genesys OAuth access
// token for flush. It reads the OAuth client from Secrets Manager, fetches and
// caches the token, and returns it to each invocation.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/journeyrelay/relay/shared/sdkhttp"
	"github.com/journeyrelay/relay/shared/secrets"
	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

func main() {
	log := telemetry.NewLogger()
	metrics := telemetry.NewRecorder(os.Stdout, "token")
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration; every invocation fails until it is fixed", "error", err)
		lambda.Start(misconfigured{err: err}.Handle)
		return
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration failed; every invocation fails until it is fixed", "error", err)
		lambda.Start(misconfigured{err: err}.Handle)
		return
	}
	awsCfg.HTTPClient = sdkhttp.BufferBodies(awsCfg.HTTPClient)
	getter := countingGetter{next: secretsmanager.NewFromConfig(awsCfg), metrics: metrics}
	secret := secrets.NewCache(getter, cfg.SecretID,
		secrets.Options{TTL: cfg.SecretTTL, MaxStale: cfg.SecretMaxStale, Logger: log})
	issuer := token.NewIssuer(secret,
		token.IssuerOptions{RefreshMargin: cfg.RefreshMargin, Logger: log, Metrics: metrics})
	lambda.Start(handler{issuer: issuer, metrics: metrics, log: log}.Handle)
}
