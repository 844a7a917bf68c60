// Command echofn is a small Lambda function for the local stack's tests. It
// returns an HTTP API event as the JSON body of its response, fails the SQS
// messages whose body is "fail", records every SQS message body it sees in
// the file named by ECHO_LOG, and returns an error for {"fail": true}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, err
	}
	switch {
	case shape["fail"] != nil:
		return nil, errors.New("failed on request")
	case shape["routeKey"] != nil:
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 201,
			Headers:    map[string]string{"Content-Type": "application/json", "X-Echo": "yes"},
			Body:       string(raw),
		}, nil
	case shape["Records"] != nil:
		return handleSQS(raw)
	default:
		return map[string]any{"echo": shape}, nil
	}
}

func handleSQS(raw json.RawMessage) (events.SQSEventResponse, error) {
	var event events.SQSEvent
	if err := json.Unmarshal(raw, &event); err != nil {
		return events.SQSEventResponse{}, err
	}
	var resp events.SQSEventResponse
	for _, record := range event.Records {
		if err := appendLog(record.Body + "\n"); err != nil {
			return resp, err
		}
		if record.Body == "fail" {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: record.MessageId})
		}
	}
	return resp, nil
}

func appendLog(line string) error {
	path := os.Getenv("ECHO_LOG")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line)
	return err
}

func main() {
	lambda.Start(handle)
}
