// Package genesys sends journey events to the Genesys Cloud Journey API and
// classifies each response into the caller's next step.
//
// Start with NewClient. Client.Send posts one APP event to the appevents
// endpoint or one WEB event to the webevents endpoint of a Messenger
// deployment; these take no access token. Client.SendExternal posts CUSTOM
// events as one external-events request, with an OAuth bearer token that the
// caller supplies.
//
// Every send returns a Result per event whose Outcome is the next step:
// Delivered, Retry (after RetryAfter when Genesys gave one), Permanent,
// Misconfigured or Unauthorized. Result.Uncertain marks a failure after
// which Genesys may still have the event, because Genesys offers no
// deduplication of journey events. The client itself never retries.
//
// AppEventBody, WebEventBody and ExternalEventsBody build the request bodies.
// Equal events give equal bytes, and an external event's id is derived from
// its idempotency key, so a resent event carries the same id.
//
// The client sends an access token only in the Authorization header and
// never puts it in a Result or an error.
package genesys
