// Command ingest is the Lambda function behind POST /v1/events: it validates
// the journey events mobile apps send and queues each accepted one for flush.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/journeyrelay/relay/shared/appkeys"
	"github.com/journeyrelay/relay/shared/ingest"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/sdkhttp"
	"github.com/journeyrelay/relay/shared/secrets"
	"github.com/journeyrelay/relay/shared/skew"
	"github.com/journeyrelay/relay/shared/telemetry"
)

func main() {
	log := telemetry.NewLogger()
	metrics := telemetry.NewRecorder(os.Stdout, "ingest")
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration; every request gets 503 until it is fixed", "error", err)
		lambda.Start(misconfigured{metrics: metrics}.Handle)
		return
	}

	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("cannot load AWS configuration; every request gets 503 until it is fixed", "error", err)
		lambda.Start(misconfigured{metrics: metrics}.Handle)
		return
	}
	awsCfg.HTTPClient = sdkhttp.BufferBodies(awsCfg.HTTPClient)
	keys := secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.AppKeysSecretID,
		secrets.Options{TTL: cfg.SecretTTL, MaxStale: cfg.SecretMaxStale, Logger: log})
	service := ingest.NewService(cfg.Service,
		appkeys.NewAuthenticator(keys),
		queue.NewSender(sqs.NewFromConfig(awsCfg), cfg.QueueURL, 4),
		skew.NewStore(dynamodb.NewFromConfig(awsCfg), cfg.TableName, cfg.SkewFlagTTL),
		metrics, log)
	lambda.Start(handler{service: service, metrics: metrics}.Handle)
}
