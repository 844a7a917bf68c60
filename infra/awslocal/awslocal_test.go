package awslocal

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestProvisionCreatesResources(t *testing.T) {
	emu, res := StartT(t)
	ctx := context.Background()

	attrs, err := sqs.NewFromConfig(emu.Config).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(res.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	redrive := attrs.Attributes["RedrivePolicy"]
	if !strings.Contains(redrive, res.DeadLetterQueueARN) {
		t.Errorf("RedrivePolicy %q does not name the dead-letter queue %s", redrive, res.DeadLetterQueueARN)
	}
	if got := attrs.Attributes["VisibilityTimeout"]; got != "360" {
		t.Errorf("VisibilityTimeout: got %s, want 360", got)
	}

	ttl, err := dynamodb.NewFromConfig(emu.Config).DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{
		TableName: aws.String(res.Table),
	})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expires_at" {
		t.Errorf("TTL attribute: got %q, want expires_at", got)
	}

	if err := PutSecret(ctx, emu.Config, res.AppKeysSecret, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	got, err := secretsmanager.NewFromConfig(emu.Config).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(res.AppKeysSecret),
	})
	if err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	if aws.ToString(got.SecretString) != `{"k":"v"}` {
		t.Errorf("secret: got %q", aws.ToString(got.SecretString))
	}
}
