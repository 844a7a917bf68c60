// Package load drives the local stack of infra/localstack with many simulated
// devices and injected faults, and measures what became of every event. It
// counts the events accepted, delivered, delivered twice, dead-lettered or
// lost, and measures the delivery lag, the requests and 429s Genesys saw, the
// AWS calls per event with their cost, and the peak memory of each process.
//
// Start with Scenarios and Run; cmd/relay-load is the command line. A run
// also sends the same events through Naive, a plain client that posts each
// event straight to a second simulator, so that the two can be compared.
//
// Every run is bounded: the devices send for the scenario's phases only, and
// the wait for delivery ends at Scenario.MaxDrain. All traffic goes to
// servers on 127.0.0.1 that the run starts itself.
package load
