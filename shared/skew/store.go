// Package skew records sessions whose device clock the relay corrected, so
// operators can see which devices send skewed times and how far off they are.
//
// Each session has one DynamoDB item, pk "skew#<session_id>", sk "skew",
// holding the reason, the latest offset in milliseconds, the first and last
// time it was seen, a count of flagged requests and a TTL.
package skew

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Updater is the DynamoDB call the store makes.
type Updater interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ Updater = (*dynamodb.Client)(nil)

// Flag is one flagged session in one request.
type Flag struct {
	SessionID string
	Reason    string        // "offset" or "future"
	Offset    time.Duration // the device clock offset, or how far ahead a future event was
	SeenAt    time.Time
}

// Store writes session flags to the relay's table.
type Store struct {
	db    Updater
	table string
	ttl   time.Duration
}

// NewStore returns a Store writing to table; flags expire ttl after they were last seen.
func NewStore(db Updater, table string, ttl time.Duration) *Store {
	return &Store{db: db, table: table, ttl: ttl}
}

// Record upserts the session's flag with one UpdateItem: it keeps first_seen,
// moves last_seen, offset and reason forward and adds one to count.
func (s *Store) Record(ctx context.Context, f Flag) error {
	seen := f.SeenAt.UTC().Format(time.RFC3339Nano)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "skew#" + f.SessionID},
			"sk": &types.AttributeValueMemberS{Value: "skew"},
		},
		UpdateExpression: aws.String("SET reason = :reason, offset_ms = :offset, last_seen = :seen, " +
			"first_seen = if_not_exists(first_seen, :seen), expires_at = :expires ADD #count :one"),
		ExpressionAttributeNames: map[string]string{"#count": "count"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":reason":  &types.AttributeValueMemberS{Value: f.Reason},
			":offset":  &types.AttributeValueMemberN{Value: strconv.FormatInt(f.Offset.Milliseconds(), 10)},
			":seen":    &types.AttributeValueMemberS{Value: seen},
			":expires": &types.AttributeValueMemberN{Value: strconv.FormatInt(f.SeenAt.Add(s.ttl).Unix(), 10)},
			":one":     &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if err != nil {
		return fmt.Errorf("record clock skew of session %s: %w", f.SessionID, err)
	}
	return nil
}
