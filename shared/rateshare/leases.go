package rateshare

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Partition is the pk of every lease item.
const Partition = "rateshare#flush"

// expiryMargin is how long a lease item outlives its lease_until before
// DynamoDB's TTL may remove it. Live ignores an expired lease either way.
const expiryMargin = time.Hour

// DynamoDB is the subset of the DynamoDB client that Leases calls.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Options are the settings of Leases.
type Options struct {
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// Leases registers, releases and counts the leases of flush invocations in
// one table. It is safe for concurrent use.
type Leases struct {
	db    DynamoDB
	table string
	now   func() time.Time
}

// New returns Leases that keep their items in table.
func New(db DynamoDB, table string, opts Options) *Leases {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Leases{db: db, table: table, now: now}
}

// Register writes the lease of instance id, live until until. Writing it
// again replaces it, so a retried request does no harm.
func (l *Leases) Register(ctx context.Context, id string, until time.Time) error {
	item := key(id)
	item["lease_until"] = number(until.UnixMilli())
	item["expires_at"] = number(until.Add(expiryMargin).Unix())
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item:      item,
	})
	if err != nil {
		return fmt.Errorf("register rate-share lease %s: %w", id, err)
	}
	return nil
}

// Release deletes the lease of instance id. Deleting a missing lease succeeds.
func (l *Leases) Release(ctx context.Context, id string) error {
	_, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(l.table),
		Key:       key(id),
	})
	if err != nil {
		return fmt.Errorf("release rate-share lease %s: %w", id, err)
	}
	return nil
}

// Live returns the number of leases whose lease_until is after now. It reads
// with strong consistency, so a lease registered before the call is counted.
func (l *Leases) Live(ctx context.Context) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(l.table),
		KeyConditionExpression: aws.String("pk = :pk"),
		FilterExpression:       aws.String("lease_until > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: Partition},
			":now": number(l.now().UnixMilli()),
		},
		Select:         types.SelectCount,
		ConsistentRead: aws.Bool(true),
	}
	live := 0
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count rate-share leases: %w", err)
		}
		live += int(out.Count)
		// A page ends after 1 MB of items read, which only a partition full
		// of expired leases would reach.
		if len(out.LastEvaluatedKey) == 0 {
			return live, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: Partition},
		"sk": &types.AttributeValueMemberS{Value: id},
	}
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
