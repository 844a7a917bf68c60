// Package journey defines a journey event as the relay queues it and checks
// what mobile apps send against the API's schema.
//
// Start with Parse: it takes a request body (a batch envelope or one bare
// event), validates every event, fills batch-wide fields from the envelope's
// context, corrects device clock skew, derives idempotency keys and returns
// the accepted events with every violation found, each naming the event's
// index, the field, a stable code and what to fix. Event is the queue
// message body that flush reads back.
//
// Invariants: an accepted event's Timestamp is UTC with milliseconds, the form
// Genesys accepts; every string it holds is valid UTF-8 made of characters SQS
// accepts; its IdempotencyKey depends only on what the client sent, never on
// the time of receipt.
package journey
