package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// DefaultDeliveredTTL is how long a delivered record is kept by default.
	DefaultDeliveredTTL = 48 * time.Hour

	// MinDeliveredTTL is the shortest delivered-record lifetime NewStore accepts.
	// A message whose DeleteMessage failed after delivery reappears once its
	// visibility timeout ends, and SQS caps that timeout at 12 hours, so the
	// record must outlive it with room to spare.
	MinDeliveredTTL = 24 * time.Hour

	stateClaimed   = "claimed"
	stateDelivered = "delivered"

	// maxClaimAttempts bounds the retries when the item changes between a
	// failed conditional write and the read that explains the failure.
	maxClaimAttempts = 3
)

// DynamoDB is the subset of the DynamoDB client that Store calls.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Options are the settings of a Store.
type Options struct {
	// DeliveredTTL is how long a delivered record is kept: DefaultDeliveredTTL
	// when zero, raised to MinDeliveredTTL when shorter.
	DeliveredTTL time.Duration

	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// Store claims idempotency keys in one DynamoDB table. It is safe for
// concurrent use.
type Store struct {
	db           DynamoDB
	table        string
	deliveredTTL time.Duration
	now          func() time.Time
}

// NewStore returns a Store that keeps its items in table.
func NewStore(db DynamoDB, table string, opts Options) *Store {
	ttl := opts.DeliveredTTL
	if ttl == 0 {
		ttl = DefaultDeliveredTTL
	}
	ttl = max(ttl, MinDeliveredTTL)

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, deliveredTTL: ttl, now: now}
}

// ClaimState is the outcome of Claim.
type ClaimState int

const (
	// Claimed means the caller holds the key and may send the event.
	Claimed ClaimState = iota + 1

	// Delivered means the event was already delivered: settle its message
	// without sending it again.
	Delivered

	// HeldByOther means another owner holds a live claim: try again after
	// Claim.HeldUntil.
	HeldByOther
)

func (s ClaimState) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Delivered:
		return "delivered"
	case HeldByOther:
		return "held_by_other"
	}
	return "ClaimState(" + strconv.Itoa(int(s)) + ")"
}

// Claim is the result of Store.Claim.
type Claim struct {
	State ClaimState

	// HeldUntil is when the claim ends: the caller's own until for Claimed,
	// the other owner's for HeldByOther, and zero for Delivered.
	HeldUntil time.Time
}

// Claim takes key for owner until the given time with one conditional write.
// The write succeeds when the key is new, when its claim has expired, or when
// owner already holds it, so that a retried request whose first write landed
// still counts as the caller's own claim. Otherwise the existing item decides
// between Delivered and HeldByOther.
func (s *Store) Claim(ctx context.Context, key, owner string, until time.Time) (Claim, error) {
	if key == "" || owner == "" {
		return Claim{}, errors.New("claim: key and owner must not be empty")
	}
	now := s.now()
	if !until.After(now) {
		return Claim{}, fmt.Errorf("claim %s: until %s is not after now %s",
			key, until.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}

	for range maxClaimAttempts {
		err := s.putClaim(ctx, key, owner, now, until)
		if err == nil {
			return Claim{State: Claimed, HeldUntil: until}, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return Claim{}, fmt.Errorf("claim %s: %w", key, err)
		}

		item, err := s.explainFailure(ctx, key, failed)
		if err != nil {
			return Claim{}, fmt.Errorf("claim %s: %w", key, err)
		}
		if claim, ok := existingClaim(item, owner, now); ok {
			return claim, nil
		}
		// The item changed after the write failed (released, or its claim
		// expired): write again.
	}
	return Claim{}, fmt.Errorf("claim %s: item kept changing after %d attempts", key, maxClaimAttempts)
}

func (s *Store) putClaim(ctx context.Context, key, owner string, now, until time.Time) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"pk":               str(partitionKey(key)),
			"sk":               str(sortKey),
			"state":            str(stateClaimed),
			"owner":            str(owner),
			"claim_expires_at": millis(until),
			"expires_at":       seconds(until.Add(s.deliveredTTL)),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)" +
			" OR (#state = :claimed AND claim_expires_at < :now)" +
			" OR (#state = :claimed AND #owner = :owner)"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claimed": str(stateClaimed),
			":now":     millis(now),
			":owner":   str(owner),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

// explainFailure returns the item that made a conditional write fail: the
// copy DynamoDB returned with the error, or a consistent read of it.
func (s *Store) explainFailure(ctx context.Context, key string, failed *types.ConditionalCheckFailedException) (map[string]types.AttributeValue, error) {
	if failed.Item != nil {
		return failed.Item, nil
	}
	// NOTE: kumo v0.33.1 ignores ReturnValuesOnConditionCheckFailure, so
	// against the emulator every failed claim takes this extra read.
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            itemKey(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read item after failed write: %w", err)
	}
	return out.Item, nil
}

// existingClaim reports what an item that blocked a claim means for owner at
// now. It returns false when the item no longer blocks the claim.
func existingClaim(item map[string]types.AttributeValue, owner string, now time.Time) (Claim, bool) {
	if item == nil {
		return Claim{}, false
	}
	if stringAttr(item, "state") == stateDelivered {
		return Claim{State: Delivered}, true
	}
	heldUntil := millisAttr(item, "claim_expires_at")
	if stringAttr(item, "owner") == owner || heldUntil.UnixMilli() < now.UnixMilli() {
		return Claim{}, false
	}
	return Claim{State: HeldByOther, HeldUntil: heldUntil}, true
}

// MarkDelivered records that the event of key reached Genesys. It overwrites a
// claim held by another owner, because the event was delivered either way, and
// it keeps the first delivered_at when called again.
func (s *Store) MarkDelivered(ctx context.Context, key, owner string) error {
	now := s.now()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       itemKey(key),
		UpdateExpression: aws.String("SET #state = :delivered, #owner = :owner," +
			" delivered_at = if_not_exists(delivered_at, :now), expires_at = :expires" +
			" REMOVE claim_expires_at"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":delivered": str(stateDelivered),
			":owner":     str(owner),
			":now":       str(now.UTC().Format(timestampLayout)),
			":expires":   seconds(now.Add(s.deliveredTTL)),
		},
	})
	if err != nil {
		return fmt.Errorf("mark %s delivered: %w", key, err)
	}
	return nil
}

// Release deletes the claim on key if owner still holds it, so the next
// delivery attempt need not wait for the claim to expire. A key delivered or
// claimed by another owner is left alone and nil is returned.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      itemKey(key),
		ConditionExpression:      aws.String("#state = :claimed AND #owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claimed": str(stateClaimed),
			":owner":   str(owner),
		},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("release %s: %w", key, err)
	}
	return nil
}
