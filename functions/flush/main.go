// Command flush is the Lambda function that delivers queued journey events to
// Genesys Cloud. The SQS event source and an EventBridge schedule both invoke
// it. The delivery package documents how each event is delivered once.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/sdkhttp"
	"github.com/journeyrelay/relay/shared/telemetry"
)

func main() {
	log := telemetry.NewLogger()
	metrics := telemetry.NewRecorder(os.Stdout, "flush")
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration, so every invocation fails until it is fixed", "error", err)
		lambda.Start(failing{err: err}.Handle)
		return
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("loading the AWS configuration failed, so every invocation fails until it is fixed", "error", err)
		lambda.Start(failing{err: err}.Handle)
		return
	}
	awsCfg.HTTPClient = sdkhttp.BufferBodies(awsCfg.HTTPClient)

	consumer := queue.NewConsumer(sqs.NewFromConfig(awsCfg), cfg.QueueURL, cfg.DeadLetterQueueURL)
	engine := delivery.New(newDeps(cfg, awsCfg, consumer, log, metrics), engineConfig(cfg, log, metrics))
	lambda.Start(handler{engine: engine, queue: consumer, metrics: metrics, log: log}.Handle)
}
