// Package breaker is a circuit breaker for the calls to Genesys whose state is
// shared by every flush instance through one DynamoDB item, pk
// "breaker#genesys" and sk "breaker".
//
// Start with New and Breaker.Acquire. Acquire returns an *OpenError while the
// breaker is open, and otherwise a release function that the caller invokes
// once with the outcome of its request.
//
// Inside one instance a failsafe-go circuit breaker counts failures in a row.
// When the count reaches Config.FailureThreshold, its state listener records
// the change and the Breaker writes "open" to the shared item, so every
// instance stops sending within one Config.SyncInterval. Once the open delay
// has passed, one instance wins the half-open probe with a conditional write.
// The probe's success closes the breaker for all instances, and its failure
// reopens it with the delay doubled, up to Config.MaxOpenDelay. A probe whose
// owner never reports back may be taken over after Config.ProbeTimeout.
//
// DynamoDB is advisory: when a read or write fails, the Breaker logs it and
// goes on with the state it last saw, so an unreachable table never stops
// delivery for longer than one open delay.
package breaker
