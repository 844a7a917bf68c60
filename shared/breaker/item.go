package breaker

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

// itemTTL is how long the shared item outlives its last write. Every
// transition rewrites it, so only a breaker left alone this long disappears,
// and a missing item reads as closed.
const itemTTL = 7 * 24 * time.Hour

// DynamoDB is the subset of the DynamoDB client that Breaker calls.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// shared is the breaker state of the shared item.
type shared struct {
	State        State
	OpenUntil    time.Time
	ProbeOwner   string
	ProbeExpires time.Time
	OpenedCount  int // openings in a row since the breaker last closed
}

var (
	// errConflict reports that a conditional write lost to another instance.
	// The write returns the item as it is now alongside it.
	errConflict = errors.New("shared item changed")

	// errConflictUnread reports a lost conditional write after which the item
	// could not be read.
	errConflictUnread = errors.New("shared item changed and could not be read")
)

// store reads and writes the shared item.
type store struct {
	db    DynamoDB
	table string
}

func (s store) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "breaker#genesys"},
		"sk": &types.AttributeValueMemberS{Value: "breaker"},
	}
}

// read returns the shared state with a consistent read. A missing item reads as closed.
func (s store) read(ctx context.Context) (shared, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return shared{}, fmt.Errorf("read breaker state: %w", err)
	}
	return decode(out.Item), nil
}

// update writes next if condition holds and returns the item after the
// write. When the condition fails it returns the current item and errConflict.
func (s store) update(ctx context.Context, next shared, now time.Time, condition string, values map[string]types.AttributeValue) (shared, error) {
	expr, exprValues := encode(next, now)
	for k, v := range values {
		exprValues[k] = v
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 s.key(),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String(condition),
		ExpressionAttributeNames:            map[string]string{"#state": "state"},
		ExpressionAttributeValues:           exprValues,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed) && failed.Item != nil:
		return decode(failed.Item), errConflict
	case errors.As(err, &failed):
		// NOTE: kumo v0.33.1 ignores ReturnValuesOnConditionCheckFailure, so
		// against the emulator a lost write costs this extra read.
		current, err := s.read(ctx)
		if err != nil {
			return shared{}, fmt.Errorf("%w: %w", errConflictUnread, err)
		}
		return current, errConflict
	case err != nil:
		return shared{}, fmt.Errorf("write breaker state %s: %w", next.State, err)
	}
	return decode(out.Attributes), nil
}

// encode returns the update expression that stores next, and its values.
func encode(next shared, now time.Time) (string, map[string]types.AttributeValue) {
	values := map[string]types.AttributeValue{
		":state":   str(next.State.String()),
		":expires": number(now.Add(itemTTL).Unix()),
	}
	set := "SET #state = :state, expires_at = :expires"
	var remove []string

	// A probe keeps the count of the opening it ends.
	if next.State != HalfOpen {
		set += ", opened_count = :opened"
		values[":opened"] = number(int64(next.OpenedCount))
	}

	if next.State == Open {
		set += ", open_until = :open_until"
		values[":open_until"] = number(next.OpenUntil.UnixMilli())
	} else {
		remove = append(remove, "open_until")
	}
	if next.State == HalfOpen {
		set += ", probe_owner = :probe_owner, probe_expires_at = :probe_expires"
		values[":probe_owner"] = str(next.ProbeOwner)
		values[":probe_expires"] = number(next.ProbeExpires.UnixMilli())
	} else {
		remove = append(remove, "probe_owner", "probe_expires_at")
	}

	expr := set
	for i, name := range remove {
		if i == 0 {
			expr += " REMOVE "
		} else {
			expr += ", "
		}
		expr += name
	}
	return expr, values
}

func decode(item map[string]types.AttributeValue) shared {
	var s shared
	if v, ok := item["state"].(*types.AttributeValueMemberS); ok {
		s.State = parseState(v.Value)
	}
	if v, ok := item["probe_owner"].(*types.AttributeValueMemberS); ok {
		s.ProbeOwner = v.Value
	}
	s.OpenUntil = millisAttr(item, "open_until")
	s.ProbeExpires = millisAttr(item, "probe_expires_at")
	s.OpenedCount = int(numberAttr(item, "opened_count"))
	return s
}

// numberAttr returns the integer attribute name, or 0 when it is missing or malformed.
func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v.Value, 10, 64)
	return n
}

// millisAttr returns the Unix-millisecond attribute name as a time, or the
// zero time when it is missing.
func millisAttr(item map[string]types.AttributeValue, name string) time.Time {
	ms := numberAttr(item, name)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func str(s string) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: s}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
