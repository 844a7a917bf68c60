// Package rateshare keeps one lease item per delivering flush instance in
// the relay's DynamoDB table, so that each instance can count the others
// and take an equal share of the Genesys rate budget.
//
// Start with New and Leases.Register. Every lease lives in the partition
// pk "rateshare#flush" with the instance's id as its sort key. An instance
// registers its lease until the invocation's deadline when it starts
// delivering, deletes it with Release when the invocation ends, and counts
// the live leases with Live, which is one strongly consistent Query of the
// partition. A lease stops counting at its lease_until time, so the lease
// of a crashed invocation stops counting at its deadline even before
// DynamoDB's TTL removes the item through expires_at.
package rateshare
