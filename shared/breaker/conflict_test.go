package breaker_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/journeyrelay/relay/shared/breaker"
)

// conflictingDB serves an open item whose delay has passed, and fails every
// write with a conditional check failure that carries the current item, as
// DynamoDB does for ReturnValuesOnConditionCheckFailure.
type conflictingDB struct {
	openUntil, probeExpires time.Time
	reads                   int
}

func (c *conflictingDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.reads++
	return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{
		"state":        &types.AttributeValueMemberS{Value: "open"},
		"open_until":   &types.AttributeValueMemberN{Value: strconv.FormatInt(c.openUntil.UnixMilli(), 10)},
		"opened_count": &types.AttributeValueMemberN{Value: "1"},
	}}, nil
}

func (c *conflictingDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, &types.ConditionalCheckFailedException{Item: map[string]types.AttributeValue{
		"state":            &types.AttributeValueMemberS{Value: "half_open"},
		"probe_owner":      &types.AttributeValueMemberS{Value: "other"},
		"probe_expires_at": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.probeExpires.UnixMilli(), 10)},
		"opened_count":     &types.AttributeValueMemberN{Value: "1"},
	}}
}

func TestBreakerUsesReturnedItem(t *testing.T) {
	db := &conflictingDB{openUntil: start.Add(-time.Second), probeExpires: start.Add(probeTimeout)}
	b := breaker.New(db, "table", breaker.Config{Owner: "me", Now: func() time.Time { return start }})

	_, err := b.Acquire(context.Background())
	var open *breaker.OpenError
	if !errors.As(err, &open) {
		t.Fatalf("Acquire: got %v, want an OpenError", err)
	}
	if !open.Until.Equal(db.probeExpires) {
		t.Errorf("OpenError.Until: got %v, want %v", open.Until, db.probeExpires)
	}
	if got := b.State(); got != breaker.HalfOpen {
		t.Errorf("State: got %v, want %v", got, breaker.HalfOpen)
	}
	if db.reads != 1 {
		t.Errorf("reads: got %d, want 1 (the sync only)", db.reads)
	}
}
