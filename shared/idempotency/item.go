package idempotency

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	sortKey = "idem"

	// timestampLayout is RFC 3339 in UTC with milliseconds, as delivered_at is stored.
	timestampLayout = "2006-01-02T15:04:05.000Z"
)

func partitionKey(key string) string {
	return "idem#" + key
}

func itemKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": str(partitionKey(key)),
		"sk": str(sortKey),
	}
}

func str(s string) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: s}
}

func millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

// seconds rounds t up to whole Unix seconds, so an item never expires early.
func seconds(t time.Time) types.AttributeValue {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(s, 10)}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// millisAttr returns the Unix-millisecond number attribute name as a time, or
// the zero time when it is missing or malformed.
func millisAttr(item map[string]types.AttributeValue, name string) time.Time {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
