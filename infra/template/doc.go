// Package template loads the relay's AWS SAM template (template.yaml) and
// checks the invariants the deployment depends on. These are partial batch
// responses on every SQS event source and a visibility timeout of at least six
// times flush's timeout. Each role is least-privilege, and each function's
// environment is as docs/contracts.md lists it. The functions have the
// runtime and build settings SAM needs, the table has TTL and point-in-time
// recovery, and the queue redrives to a dead-letter queue. The HTTP API
// route sends every method of /v1/events to ingest with payload format 2.0,
// throttling and access logs, and alarms watch the dead-letter queue, the
// queue's age, flush errors and the breaker.
//
// Start with Load, then Check. The tests run Check against template.yaml and
// against mutated copies, so that a wrong template fails `make test`.
//
// Load resolves parameters to their defaults and conditions to their values
// with github.com/awslabs/goformation/v7, but it keeps references to
// resources as markers, because goformation drops them: `!Ref Queue` becomes
// Ref("Queue") and `!GetAtt Queue.Arn` becomes GetAtt("Queue", "Arn").
package template
