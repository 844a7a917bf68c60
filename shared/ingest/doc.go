// Package ingest is the ingest function's service: it authenticates an app,
// decodes the body (base64, gzip) within fixed caps, validates the events with
// package journey, enqueues each accepted event as one SQS message, flags
// skewed sessions, and builds the response that tells the app which events
// were accepted, which were rejected and why, and which to send again.
//
// Start with Service.Handle. Request and Response are plain HTTP shapes; the
// function's main package translates API Gateway's payload 2.0 events to and
// from them. Every status code is chosen in one place, response.go, and no
// internal error text reaches a client.
package ingest
