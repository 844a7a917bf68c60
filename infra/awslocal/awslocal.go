// Package awslocal runs the AWS services the relay uses on 127.0.0.1 through
// github.com/sivchari/kumo, an in-process emulator that speaks the real AWS
// protocols. It creates the relay's resources in it the way template.yaml
// does in AWS: the event queue with its dead-letter queue and redrive policy,
// the DynamoDB table with TTL, and the two secrets.
//
// Tests call StartT; the local stack calls Start and Provision.
package awslocal

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/sivchari/kumo"

	"github.com/journeyrelay/relay/shared/sdkhttp"
)

// Region is the region every emulated resource lives in.
const Region = "us-east-1"

// Names are the resource names, as template.yaml names them in AWS.
type Names struct {
	Queue             string
	DeadLetterQueue   string
	Table             string
	AppKeysSecret     string
	GenesysSecret     string
	MaxReceiveCount   int           // receives before SQS moves a message to the dead-letter queue
	VisibilityTimeout time.Duration // the queue's default visibility timeout
	MaxMessageBytes   int           // the queue's MaximumMessageSize
}

// DefaultNames returns the names and queue settings the local stack and tests use.
func DefaultNames() Names {
	return Names{
		Queue:             "journey-events",
		DeadLetterQueue:   "journey-events-dlq",
		Table:             "journey-relay",
		AppKeysSecret:     "journey-relay/app-keys",
		GenesysSecret:     "journey-relay/genesys-client",
		MaxReceiveCount:   30,
		VisibilityTimeout: 6 * time.Minute,
		MaxMessageBytes:   1 << 20,
	}
}

// Resources are the queues, table and secrets Provision created, with their URLs and ARNs.
type Resources struct {
	Names
	QueueURL           string
	QueueARN           string
	DeadLetterQueueURL string
	DeadLetterQueueARN string
}

// Emulator is a running kumo server.
type Emulator struct {
	URL    string
	Config aws.Config // static test credentials, Region, and the emulator as base endpoint
	server *kumo.Server
}

// Start runs kumo on a random loopback port.
func Start(ctx context.Context) (*Emulator, error) {
	srv := kumo.NewServer()
	cfg, err := ClientConfig(ctx, srv.URL)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Emulator{URL: srv.URL, Config: cfg, server: srv}, nil
}

// Close stops the emulator.
func (e *Emulator) Close() {
	e.server.Close()
}

// ClientConfig returns an aws.Config for the emulator at url: static
// credentials, Region, and url as the base endpoint of every service.
func ClientConfig(ctx context.Context, url string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(url),
	)
	if err != nil {
		return cfg, err
	}
	cfg.HTTPClient = sdkhttp.BufferBodies(cfg.HTTPClient)
	return cfg, nil
}

// provisioned numbers the resource sets made in this process. kumo keeps its
// state in package variables shared by every server in a process, so each
// test gets resource names of its own.
var provisioned atomic.Int64

// StartT runs kumo for one test and provisions resources under names no other
// test in the process uses.
func StartT(t testing.TB) (*Emulator, Resources) {
	t.Helper()
	ctx := context.Background()
	emu, err := Start(ctx)
	if err != nil {
		t.Fatalf("start the AWS emulator: %v", err)
	}
	t.Cleanup(emu.Close)
	names := DefaultNames()
	suffix := fmt.Sprintf("-%d", provisioned.Add(1))
	names.Queue += suffix
	names.DeadLetterQueue += suffix
	names.Table += suffix
	names.AppKeysSecret += suffix
	names.GenesysSecret += suffix
	res, err := Provision(ctx, emu.Config, names)
	if err != nil {
		t.Fatalf("provision the AWS emulator: %v", err)
	}
	return emu, res
}

// Provision creates the queues, the table and empty secrets named by names.
func Provision(ctx context.Context, cfg aws.Config, names Names) (Resources, error) {
	res := Resources{Names: names}
	q := sqs.NewFromConfig(cfg)

	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(names.DeadLetterQueue),
		Attributes: map[string]string{"MessageRetentionPeriod": "1209600"},
	})
	if err != nil {
		return res, fmt.Errorf("create queue %s: %w", names.DeadLetterQueue, err)
	}
	res.DeadLetterQueueURL = aws.ToString(dlq.QueueUrl)
	if res.DeadLetterQueueARN, err = queueARN(ctx, q, res.DeadLetterQueueURL); err != nil {
		return res, err
	}

	redrive, _ := json.Marshal(map[string]any{
		"deadLetterTargetArn": res.DeadLetterQueueARN,
		"maxReceiveCount":     strconv.Itoa(names.MaxReceiveCount),
	})
	main, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(names.Queue),
		Attributes: map[string]string{
			"RedrivePolicy":          string(redrive),
			"VisibilityTimeout":      strconv.Itoa(int(names.VisibilityTimeout.Seconds())),
			"MaximumMessageSize":     strconv.Itoa(names.MaxMessageBytes),
			"MessageRetentionPeriod": "345600",
		},
	})
	if err != nil {
		return res, fmt.Errorf("create queue %s: %w", names.Queue, err)
	}
	res.QueueURL = aws.ToString(main.QueueUrl)
	if res.QueueARN, err = queueARN(ctx, q, res.QueueURL); err != nil {
		return res, err
	}

	if err := createTable(ctx, dynamodb.NewFromConfig(cfg), names.Table); err != nil {
		return res, err
	}

	sm := secretsmanager.NewFromConfig(cfg)
	for _, name := range []string{names.AppKeysSecret, names.GenesysSecret} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name:         aws.String(name),
			SecretString: aws.String("{}"),
		}); err != nil {
			return res, fmt.Errorf("create secret %s: %w", name, err)
		}
	}
	return res, nil
}

func queueARN(ctx context.Context, q *sqs.Client, url string) (string, error) {
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("get the ARN of %s: %w", url, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func createTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
			AttributeName: aws.String("expires_at"),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", name, err)
	}
	return nil
}

// PutSecret stores value, marshalled to JSON, as the secret's current version.
func PutSecret(ctx context.Context, cfg aws.Config, name string, value any) error {
	body, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("marshal secret %s: %w", name, err)
	}
	_, err = secretsmanager.NewFromConfig(cfg).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(name),
		SecretString: aws.String(string(body)),
	})
	if err != nil {
		return fmt.Errorf("put secret %s: %w", name, err)
	}
	return nil
}

// EndpointEnv returns the environment a function process needs to reach the
// emulator: the standard AWS_ENDPOINT_URL and static credentials.
func (e *Emulator) EndpointEnv() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + e.URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	}
}
