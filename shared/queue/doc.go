// Package queue moves journey events through SQS: ingest sends one message
// per accepted event with Sender, and flush receives, settles and
// dead-letters them with the consumer.
//
// Message bodies are journey.Event JSON; every message carries the String
// attributes event_type, idempotency_key and received_at.
package queue
