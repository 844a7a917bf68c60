package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueDepth is the message count of a queue by state.
type queueDepth struct {
	visible, inFlight, delayed int
}

func (d queueDepth) total() int {
	return d.visible + d.inFlight + d.delayed
}

// queueDepth reads the event queue's depth straight from the emulator, so
// that the read is not counted as the relay's.
func (r *run) queueDepth(ctx context.Context) (queueDepth, error) {
	return readDepth(ctx, sqs.NewFromConfig(r.rawAWS), r.stack.Resources.QueueURL)
}

// dlqDepth returns the number of messages in the dead-letter queue.
func (r *run) dlqDepth(ctx context.Context) (int, error) {
	depth, err := readDepth(ctx, sqs.NewFromConfig(r.rawAWS), r.stack.Resources.DeadLetterQueueURL)
	return depth.total(), err
}

func readDepth(ctx context.Context, client *sqs.Client, url string) (queueDepth, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return queueDepth{}, fmt.Errorf("read the depth of %s: %w", url, err)
	}
	number := func(name sqstypes.QueueAttributeName) int {
		n, _ := strconv.Atoi(out.Attributes[string(name)])
		return n
	}
	return queueDepth{
		visible:  number(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
		inFlight: number(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		delayed:  number(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

// deadLettered receives every message of the dead-letter queue and returns
// the load ids of the events in them, with the count of messages per reason.
func (r *run) deadLettered(ctx context.Context) (map[string]bool, map[string]int, error) {
	client := sqs.NewFromConfig(r.rawAWS)
	ids, reasons := map[string]bool{}, map[string]int{}
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(r.stack.Resources.DeadLetterQueueURL),
			MaxNumberOfMessages:   10,
			MessageAttributeNames: []string{"All"},
			VisibilityTimeout:     600,
		})
		if err != nil {
			return ids, reasons, fmt.Errorf("read the dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			return ids, reasons, nil
		}
		for _, m := range out.Messages {
			var body struct {
				Properties map[string]any `json:"properties"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &body)
			if id, ok := body.Properties[LoadIDProperty].(string); ok {
				ids[id] = true
			}
			// Flush names its reason in dead_letter_reason; a message SQS moved
			// after maxReceiveCount receives has none.
			reason := "maxReceiveCount"
			if value, ok := m.MessageAttributes["dead_letter_reason"]; ok {
				reason = aws.ToString(value.StringValue)
			}
			reasons[reason]++
		}
	}
}
