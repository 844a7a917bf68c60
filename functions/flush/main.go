// Command flush is the Lambda function that delivers queued journey events to
// Genesys Cloud. The SQS event source and an EventBridge schedule both invoke
// it. The delivery package documents how each event is delivered once.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

func main() {
	log := telemetry.NewLogger()
	metrics := telemetry.NewRecorder(os.Stdout, "flush")
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration; every invocation fails until it is fixed", "error", err)
		lambda.Start(failing{err: err}.Handle)
		return
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("cannot load AWS configuration; every invocation fails until it is fixed", "error", err)
		lambda.Start(failing{err: err}.Handle)
		return
	}

	db := dynamodb.NewFromConfig(awsCfg)
	consumer := queue.NewConsumer(sqs.NewFromConfig(awsCfg), cfg.QueueURL, cfg.DeadLetterQueueURL)
	deps := delivery.Deps{
		Sender: genesys.NewClient(genesys.Config{
			APIBaseURL:              cfg.APIBaseURL,
			DeploymentID:            cfg.DeploymentID,
			ExternalConfigurationID: cfg.ExternalConfigurationID,
			ExternalSourceID:        cfg.ExternalSourceID,
			Timeout:                 cfg.Timeout,
		}),
		Claims:      idempotency.NewStore(db, cfg.TableName, idempotency.Options{}),
		Breaker:     breaker.New(db, cfg.TableName, breaker.Config{Logger: log, OnStateChange: countTransitions(metrics)}),
		DeadLetters: consumer,
	}
	if cfg.TokenFunctionName != "" {
		deps.Tokens = token.NewClient(awslambda.NewFromConfig(awsCfg), cfg.TokenFunctionName,
			token.ClientOptions{Logger: log})
	}
	engine := delivery.New(deps, engineConfig(cfg, log, metrics))
	lambda.Start(handler{engine: engine, queue: consumer, metrics: metrics, log: log}.Handle)
}
