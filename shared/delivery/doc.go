// Package delivery is the flush function's engine. It delivers queued journey
// events to Genesys Cloud once each, whichever trigger received them; the
// exceptions are the rare duplicates described below.
//
// Start with New and Engine.Deliver. The caller hands over received messages
// and gets one Outcome per message: Settled (delete it), Retry (leave it
// hidden for Outcome.Visibility) or DeadLettered (the engine has already
// copied it to the dead-letter queue with its reason; delete it). Each event
// goes through these steps:
//
//  1. Decode the body; one that is not a journey event is dead-lettered as malformed.
//  2. An event older than Genesys's one-hour window is dead-lettered as expired.
//     The age is checked again before every request.
//  3. Claim the idempotency key until the invocation's deadline. An event
//     already delivered is settled without a request; one claimed by another
//     flush comes back when that claim ends.
//  4. Wait for the rate limiter, then ask the circuit breaker. While the
//     breaker is open nothing is sent and the message comes back after
//     max(the breaker's reopening time, the receive-count backoff).
//  5. Send: APP and WEB one request each, several at once; CUSTOM in batched
//     external-events requests with the access token, refreshed once on 401.
//  6. Act on the answer. 2xx: mark delivered at once, then settle. Other 4xx:
//     dead-letter as rejected with the status, code and an excerpt of the
//     body. 403/404: count misconfigured, report a breaker failure, and
//     return the message with a delay. 429, 5xx, timeouts: wait in-process
//     and send again, up to Config.MaxAttempts requests, while the wait ends
//     before the deadline less Config.WaitMargin. Otherwise release the claim
//     and return the message with a visibility of the Retry-After (capped at
//     Config.MaxRetryAfter) or the backoff. A 429 pauses every sender of the
//     instance until its Retry-After ends.
//
// A send whose outcome is unknown (timeout or reset after the request left)
// counts as a possible duplicate and is sent again, because losing an event is
// worse than a rare duplicate. A crash between Genesys's 2xx and the delivered
// record is the other source of a duplicate, so the record is written right
// after the 2xx. The claim stays held across in-process waits and is released
// only when the message goes back to the queue.
//
// # Rate budget across instances
//
// Genesys publishes no limit for app and web events, so the relay keeps to
// GENESYS_EVENTS_PER_SECOND (Config.EventsPerSecond) across every flush
// instance, and external events keep to GENESYS_REQUESTS_PER_MINUTE per token.
// Each lane has a smooth failsafe-go rate limiter at the instance's share.
//
// The share follows the flush instances that are delivering, through leases
// in the relay's DynamoDB table (Deps.Leases, package rateshare). Each
// instance has one lease. The first Deliver of an invocation writes it until
// the invocation's deadline, and the end of the invocation deletes it. A
// lease that outlived its invocation would hold a share that no one uses
// whenever Lambda routes the next batch to another instance. The invocation
// counts the live leases before it
// sends and every Config.ShareRefresh while it runs, and takes budget /
// max(1, live leases), but never less than budget / Config.Instances
// (FLUSH_MAX_INSTANCES, which the function's reserved concurrency enforces).
// A failsafe-go limiter has a fixed rate, so a new share replaces the lane's
// limiter, and the 429 pause of the lane is kept.
//
// The sum of the shares stays within the budget except for short overlaps.
// After an instance joins, the others keep their larger share until their
// next count, at most Config.ShareRefresh later. A sender already waiting on
// a replaced limiter keeps its permit time. When the lease cannot be written
// or the leases cannot be counted, the invocation takes budget /
// Config.Instances, counts a rate_share_fallback metric, logs the failure
// once, and writes the lease again at its next count. While the write keeps
// failing, the other instances do not count this one, so the sum can exceed
// the budget by that share. The metric shows when that happens. Without Deps.Leases
// every instance keeps the fixed share. A Lambda instance runs one
// invocation at a time and the Engine lives as long as the process, so an
// instance's limiter spans its invocations. A 429 with Retry-After pauses
// every sender of that instance until the delay ends.
//
// # Surviving an outage without dead letters
//
// The queue's redrive policy moves a message to the dead-letter queue after
// maxReceiveCount receives (30 in template.yaml). A message returned during
// an outage is hidden for RetryBase·2^(receives-1), capped at RetryMax, or
// until the breaker lets a probe through when that is later. With the
// defaults of 30 s and 15 min, the delays are 30, 60, 120, 240, 480 and then
// 900 s, so receives 1 to 8 cover 30+60+120+240+480+3·900 = 3630 s, just over
// an hour, and 30 receives cover 930+25·900 = 23430 s, about 6.5 hours. An
// outage of an hour therefore uses about 9 of the 30 receives. Genesys's own
// one-hour rule still applies: an event that is more than an hour old when
// Genesys comes back is dead-lettered as expired, not sent.
package delivery
