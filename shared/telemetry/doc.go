// Package telemetry provides the functions' structured logger and their
// CloudWatch Embedded Metric Format (EMF) counters.
//
// Logs are log/slog records from aws-lambda-go's lambdacontext handler, so each
// line carries the invocation's request id and honours the function's log
// format and level. Metrics are collected per invocation in a Recorder and
// written as one EMF JSON line by Flush; CloudWatch turns the line into metrics
// without any API call from the function.
package telemetry
