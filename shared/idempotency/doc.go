// Package idempotency records in DynamoDB which events have been delivered, so
// that an event Genesys accepted is not sent again when SQS delivers its
// message twice, and so that one flush instance at a time holds the right to
// send it.
//
// Start with NewStore and Store.Claim. A sender claims an event's idempotency
// key before it sends, marks the key delivered after Genesys accepts the event,
// and releases the claim when the send failed and the message goes back to the
// queue. Each key is one item, pk "idem#<key>" and sk "idem":
//
//   - state "claimed": owner holds the key until claim_expires_at (Unix ms).
//     A claim whose time has passed may be taken over by anyone, because its
//     owner is presumed dead.
//   - state "delivered": the event reached Genesys; every later claim returns
//     Delivered until the item's TTL (expires_at, Unix seconds) removes it.
//
// Every item carries expires_at, so DynamoDB's TTL eventually removes it.
package idempotency
