// Package localstack runs the relay on 127.0.0.1 wired as it is in AWS, with
// no cloud account: kumo for SQS, DynamoDB and Secrets Manager, the Genesys
// Cloud simulator, and the three function bootstraps under the Lambda runtime
// interface emulator.
//
// The pieces that stand in for AWS services also work on their own. HTTPAPI
// is an API Gateway HTTP API route with payload format 2.0, and InvokeRouter
// is the Lambda Invoke API. Poller is an SQS event source mapping with
// partial batch responses, and Schedule is an EventBridge schedule rule.
// Pool gives a function the concurrency of several execution environments.
package localstack
