package idempotency_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/journeyrelay/relay/shared/idempotency"
)

// failingPut fails every PutItem with a conditional check failure that
// carries the old item, as DynamoDB does for ReturnValuesOnConditionCheckFailure.
type failingPut struct {
	old    map[string]types.AttributeValue
	putErr error
	gets   int
}

func (f *failingPut) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.putErr != nil {
		return nil, f.putErr
	}
	return nil, &types.ConditionalCheckFailedException{Message: new("The conditional request failed"), Item: f.old}
}

func (f *failingPut) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets++
	return &dynamodb.GetItemOutput{}, nil
}

func (f *failingPut) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("unexpected UpdateItem")
}

func (f *failingPut) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errors.New("unexpected DeleteItem")
}

func TestClaimUsesReturnedItem(t *testing.T) {
	heldUntil := start.Add(time.Minute)
	tests := []struct {
		name string
		old  map[string]types.AttributeValue
		want idempotency.Claim
	}{
		{
			name: "delivered",
			old:  map[string]types.AttributeValue{"state": &types.AttributeValueMemberS{Value: "delivered"}},
			want: idempotency.Claim{State: idempotency.Delivered},
		},
		{
			name: "claimed by other",
			old: map[string]types.AttributeValue{
				"state":            &types.AttributeValueMemberS{Value: "claimed"},
				"owner":            &types.AttributeValueMemberS{Value: "other"},
				"claim_expires_at": &types.AttributeValueMemberN{Value: strconv.FormatInt(heldUntil.UnixMilli(), 10)},
			},
			want: idempotency.Claim{State: idempotency.HeldByOther, HeldUntil: heldUntil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &failingPut{old: tt.old}
			store := idempotency.NewStore(db, "table", idempotency.Options{Now: func() time.Time { return start }})

			got, err := store.Claim(context.Background(), "k", "me", start.Add(time.Minute))
			if err != nil {
				t.Fatalf("Claim: %v", err)
			}
			if got.State != tt.want.State {
				t.Errorf("State: got %v, want %v", got.State, tt.want.State)
			}
			if !got.HeldUntil.Equal(tt.want.HeldUntil) {
				t.Errorf("HeldUntil: got %v, want %v", got.HeldUntil, tt.want.HeldUntil)
			}
			if db.gets != 0 {
				t.Errorf("GetItem calls: got %d, want 0", db.gets)
			}
		})
	}
}

func TestClaimWrapsError(t *testing.T) {
	cause := errors.New("connection reset")
	store := idempotency.NewStore(&failingPut{putErr: cause}, "table", idempotency.Options{})

	_, err := store.Claim(context.Background(), "k", "me", time.Now().Add(time.Minute))
	if !errors.Is(err, cause) {
		t.Errorf("Claim error: got %v, want it to wrap %v", err, cause)
	}
}
