package skew

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/journeyrelay/relay/infra/awslocal"
)

func TestRecordUpsertsSessionFlag(t *testing.T) {
	emu, res := awslocal.StartT(t)
	db := dynamodb.NewFromConfig(emu.Config)
	store := NewStore(db, res.Table, 7*24*time.Hour)
	ctx := context.Background()
	first := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

	if err := store.Record(ctx, Flag{SessionID: "s-1", Reason: "offset", Offset: 3 * time.Minute, SeenAt: first}); err != nil {
		t.Fatal(err)
	}
	later := first.Add(10 * time.Minute)
	if err := store.Record(ctx, Flag{SessionID: "s-1", Reason: "offset", Offset: 181 * time.Second, SeenAt: later}); err != nil {
		t.Fatal(err)
	}

	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(res.Table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "skew#s-1"},
			"sk": &types.AttributeValueMemberS{Value: "skew"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"reason":     "offset",
		"offset_ms":  "181000",
		"first_seen": "2026-12-04T15:00:00Z",
		"last_seen":  "2026-12-04T15:10:00Z",
		"count":      "2",
		"expires_at": "1797001800", // 2026-12-11T15:10:00Z, a week after last_seen
	}
	for name, value := range want {
		if got := attributeText(out.Item[name]); got != value {
			t.Errorf("%s: got %q, want %q", name, got, value)
		}
	}
}

func attributeText(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}
