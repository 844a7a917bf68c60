package load

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/lambdarun"
	"github.com/journeyrelay/relay/infra/template"
)

// Result is the set of figures a scenario run measured.
type Result struct {
	Scenario Scenario
	Budget   float64
	Drained  bool // every accepted event settled before MaxDrain ended
	Steps    []string

	Sent, Accepted, Rejected, RetryableEnd int
	Resent                                 int // events sent again in whole-batch resends
	APIRequests                            int
	Delivered                              int // distinct accepted events the simulator accepted
	Duplicates                             int // acceptances beyond the first of accepted events
	UnknownOutcome                         int // duplicates after a response the relay never saw, or a kill
	DeadLettered                           int // accepted events in the dead-letter queue and never delivered
	DeadLetterReasons                      map[string]int
	Lost                                   int // accepted, never delivered nor dead-lettered
	QueuedAtEnd                            int // messages still in the event queue when the wait ended
	InFlightAtEnd                          int // of those, messages received and hidden
	PollerBatches, PollerErrors            int64
	Unsettled                              []string // receives never followed by a delete or visibility change
	LagP50, LagP99                         time.Duration

	GenesysRequests int64 // app, web and external-events requests, all statuses
	TokenRequests   int64
	RateLimited     int64 // 429s from the relay's simulator, token endpoint included
	GenesysStats    genesyssim.Stats

	// BacklogSeconds is the time the queue held at least
	// backlogBudgetSeconds of budget ready to deliver, and BacklogThroughput
	// the app and web events Genesys accepted per second during it.
	BacklogSeconds    float64
	BacklogThroughput float64

	// RateLimitedAfterFaults counts the 429s from the end of the last
	// outage or storm to the end of the run.
	RateLimitedAfterFaults int64

	Naive NaiveResult

	Calls     CallCounts
	Functions []FunctionUsage
	Cost      []CostLine
	MemoryKiB map[string]int64
}

// NaiveResult is the plain client's figures for the same events.
type NaiveResult struct {
	Sent, Delivered, Duplicates, Lost int
	Requests, RateLimited, Failures   int64
	Dropped                           int64
}

func (r *run) result(ctx context.Context, sent time.Time, drained bool) (*Result, error) {
	res := &Result{
		Scenario:     r.scenario,
		Budget:       r.opts.Budget,
		Drained:      drained,
		Sent:         r.ledger.Sent(),
		RetryableEnd: r.ledger.RetryableEnd,
		Resent:       r.ledger.Resent,
		APIRequests:  r.ledger.Requests,
		Rejected:     r.ledger.RejectedTotal(),
		GenesysStats: r.stack.Simulator.Stats(),
		Calls:        r.proxy.Counts(),
		MemoryKiB:    r.memory.Peaks(),
	}
	r.mu.Lock()
	res.Steps = slices.Clone(r.steps)
	kills := slices.Clone(r.kills)
	samples := slices.Clone(r.samples)
	r.mu.Unlock()

	accepted := r.ledger.Accepted()
	res.Accepted = len(accepted)
	index := newDeliveryIndex()
	index.update(r.stack.Simulator.Events())
	dead, reasons, err := r.deadLettered(ctx)
	if err != nil {
		return nil, err
	}
	res.DeadLetterReasons = reasons
	if depth, err := r.queueDepth(ctx); err == nil {
		res.QueuedAtEnd, res.InFlightAtEnd = depth.total(), depth.inFlight
	}
	res.Unsettled = r.proxy.Receipts.Unsettled()
	res.PollerBatches, res.PollerErrors = r.stack.Poller.Stats().Batches.Load(), r.stack.Poller.Stats().Errors.Load()
	res.tallyDeliveries(accepted, index, dead, kills)
	res.tallyGenesys()
	res.BacklogSeconds, res.BacklogThroughput = backlogThroughput(samples, index.all, backlogBudgetSeconds*r.opts.Budget)
	res.RateLimitedAfterFaults = rateLimitedAfter(samples, r.faultsEnd())
	res.Naive = r.naiveResult()

	if res.Functions, err = r.functionUsage(ctx); err != nil {
		return nil, err
	}
	res.Cost = Cost(ListPrices, res.Accepted, res.Calls, res.Functions, res.APIRequests)
	return res, nil
}

// unknownWindow is how long after Genesys accepted an event a kill of flush
// can leave the relay not knowing it: the delivery is marked right after the
// response, and a batch's settling takes a few seconds at most.
const unknownWindow = 10 * time.Second

func (res *Result) tallyDeliveries(accepted map[string]time.Time, index *deliveryIndex, dead map[string]bool, kills []time.Time) {
	var lags []time.Duration
	for id, sentAt := range accepted {
		receipts := index.receipts[id]
		if len(receipts) == 0 {
			if dead[id] {
				res.DeadLettered++
			} else {
				res.Lost++
			}
			continue
		}
		res.Delivered++
		lags = append(lags, receipts[0].at.Sub(sentAt))
		if extra := len(receipts) - 1; extra > 0 {
			res.Duplicates += extra
			if receipts[0].slow || killedWithin(kills, receipts[0].at, unknownWindow) {
				res.UnknownOutcome += extra
			}
		}
	}
	res.LagP50, res.LagP99 = percentile(lags, 50), percentile(lags, 99)
}

func killedWithin(kills []time.Time, at time.Time, window time.Duration) bool {
	for _, k := range kills {
		if !k.Before(at) && k.Sub(at) <= window {
			return true
		}
	}
	return false
}

func (res *Result) tallyGenesys() {
	for endpoint, statuses := range res.GenesysStats.Requests {
		for _, n := range statuses {
			if endpoint == "token" {
				res.TokenRequests += n
			} else {
				res.GenesysRequests += n
			}
		}
	}
	res.RateLimited = res.GenesysStats.RateLimited
}

// faultsEnd returns when the last outage or 429 storm of the scenario ends,
// or the zero time when it has none.
func (r *run) faultsEnd() time.Time {
	var end time.Time
	for _, step := range r.scenario.Steps {
		if step.Faults == nil {
			continue
		}
		at := r.start.Add(step.At)
		if o := step.Faults.Outage; o != nil {
			end = at.Add(time.Duration(o.For))
		}
		if s := step.Faults.RateLimitStorm; s != nil {
			end = at.Add(time.Duration(s.For))
		}
	}
	return end
}

// backlogBudgetSeconds is how many seconds of budget must stand ready in the
// queue for it to count as a backlog. The event source takes batches of 100
// within a one-second window, so in normal flow up to about two seconds of
// budget wait between its receives.
const backlogBudgetSeconds = 3

// backlogThroughput returns the seconds during which the queue held
// threshold messages or more ready, and the app and web events accepted per
// second in them.
func backlogThroughput(samples []sample, receipts []receipt, threshold float64) (float64, float64) {
	var seconds float64
	var delivered int
	for i := 0; i+1 < len(samples); i++ {
		from, to := samples[i], samples[i+1]
		if float64(from.visible) < threshold || float64(to.visible) < threshold {
			continue
		}
		seconds += to.at.Sub(from.at).Seconds()
		for _, rc := range receipts {
			if rc.endpoint != "externalevents" && !rc.at.Before(from.at) && rc.at.Before(to.at) {
				delivered++
			}
		}
	}
	if seconds == 0 {
		return 0, 0
	}
	return seconds, float64(delivered) / seconds
}

// rateLimitedAfter returns the 429s counted after end, or 0 when end is zero.
func rateLimitedAfter(samples []sample, end time.Time) int64 {
	if end.IsZero() || len(samples) == 0 {
		return 0
	}
	last := samples[len(samples)-1].rateLimited
	for _, s := range samples {
		if !s.at.Before(end) {
			return last - s.rateLimited
		}
	}
	return 0
}

func (r *run) naiveResult() NaiveResult {
	index := newDeliveryIndex()
	index.update(r.naiveSim.Events())
	out := NaiveResult{
		Sent:        int(r.naive.Sent.Load()),
		Requests:    r.naive.Requests.Load(),
		RateLimited: r.naive.RateLimited.Load(),
		Failures:    r.naive.Failures.Load(),
		Dropped:     r.naive.Dropped.Load(),
	}
	for _, receipts := range index.receipts {
		out.Delivered++
		out.Duplicates += len(receipts) - 1
	}
	out.Lost = out.Sent - out.Delivered
	return out
}

// functionUsage returns each function's invocations with its MemorySize
// from template.yaml.
func (r *run) functionUsage(ctx context.Context) ([]FunctionUsage, error) {
	root := r.opts.Root
	if root == "" {
		var err error
		if root, err = lambdarun.ModuleRoot(ctx); err != nil {
			return nil, err
		}
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"), map[string]any{"GenesysDeploymentId": "load"})
	if err != nil {
		return nil, err
	}
	var out []FunctionUsage
	for _, name := range []string{"ingest", "flush", "token"} {
		fn, err := tpl.GetServerlessFunctionWithName(logicalIDs[name])
		if err != nil {
			return nil, err
		}
		usage := FunctionUsage{Name: name, MemoryMB: 128, InvocationStats: r.logs[name].Stats()}
		if fn.MemorySize != nil {
			usage.MemoryMB = *fn.MemorySize
		}
		out = append(out, usage)
	}
	return out, nil
}

var logicalIDs = map[string]string{"ingest": "IngestFunction", "flush": "FlushFunction", "token": "TokenFunction"}

func percentile(values []time.Duration, p int) time.Duration {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)*p/100]
}

// Print writes the result as a plain-text report.
func (res *Result) Print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	p("== %s: %s", res.Scenario.Name, res.Scenario.Description)
	if c := strings.TrimPrefix(res.Scenario.Compression, "; "); c != "" {
		p("time compression: %s", c)
	}
	for _, step := range res.Steps {
		p("step %s", step)
	}

	p("budget                 %.0f events/s (flush and simulator)", res.Budget)
	p("sent                   %d events in %d requests (%d events resent whole)", res.Sent, res.APIRequests, res.Resent)
	p("accepted               %d", res.Accepted)
	p("rejected               %d, still retryable after the last attempt %d", res.Rejected, res.RetryableEnd)
	p("delivered              %d", res.Delivered)
	p("duplicates             %d (%d with an outcome the relay could not know)", res.Duplicates, res.UnknownOutcome)
	p("dead-lettered          %d %v", res.DeadLettered, res.DeadLetterReasons)
	p("lost                   %d (accepted, neither delivered nor dead-lettered; %d messages still in the queue, %d of them hidden)",
		res.Lost, res.QueuedAtEnd, res.InFlightAtEnd)
	p("SQS event source       %d invocations, %d failed as a whole", res.PollerBatches, res.PollerErrors)
	for _, receipt := range res.Unsettled {
		p("never settled          %s", receipt)
	}
	p("settled before limit   %v", res.Drained)
	p("Genesys requests       %d events endpoints, %d token; 429s %d", res.GenesysRequests, res.TokenRequests, res.RateLimited)
	p("requests per delivered %.3f", ratio(float64(res.GenesysRequests), float64(res.Delivered)))
	if g := res.GenesysStats; g.SlowResponses > 0 {
		p("slow responses         %d held past the timeout, %d unseen by the relay, %d of their events sent again",
			g.SlowResponses, g.UnseenEvents, g.UnseenEventsResent)
	}
	p("delivery lag           p50 %v, p99 %v (simulator receive time minus device send time)",
		res.LagP50.Round(time.Millisecond), res.LagP99.Round(time.Millisecond))
	if res.BacklogSeconds > 0 {
		p("throughput in backlog  %.1f events/s over %.0f s = %.3f of the budget",
			res.BacklogThroughput, res.BacklogSeconds, res.BacklogThroughput/res.Budget)
	} else {
		p("throughput in backlog  no backlog of %d seconds of budget or more", backlogBudgetSeconds)
	}
	if !res.faultFree() {
		p("429s after the faults  %d", res.RateLimitedAfterFaults)
	}

	n := res.Naive
	p("plain client           sent %d, delivered %d, duplicates %d, lost %d, requests %d (%.3f per delivered), 429s %d, failures %d, dropped %d",
		n.Sent, n.Delivered, n.Duplicates, n.Lost, n.Requests, ratio(float64(n.Requests), float64(n.Delivered)),
		n.RateLimited, n.Failures, n.Dropped)

	p("AWS calls (counting proxy in front of kumo):")
	for _, call := range res.Calls.Sorted() {
		p("  %-40s %8d  %.3f per 1,000 events", call, res.Calls.Calls[call], ratio(float64(res.Calls.Calls[call])*1000, float64(res.Accepted)))
	}
	p("  DynamoDB units: %.0f WRU, %.1f RRU; throttled by the proxy: %d", res.Calls.WriteUnits, res.Calls.ReadUnits, res.Calls.Throttled)
	for _, f := range res.Functions {
		p("lambda %-7s %6d invocations, %8.1f s total duration, %.2f GB-s, %d log bytes",
			f.Name, f.Invocations, f.Duration.Seconds(), f.GBSeconds(), f.LogBytes)
	}

	p("cost per million events (list prices as of %s; verify before relying on them):", ListPrices.PricesAsOf)
	PrintCost(w, res.Cost)

	p("peak RSS (VmHWM):")
	for _, role := range slices.Sorted(maps.Keys(res.MemoryKiB)) {
		p("  %-40s %7.1f MiB", role, float64(res.MemoryKiB[role])/1024)
	}
}

func (res *Result) faultFree() bool {
	for _, step := range res.Scenario.Steps {
		if step.Faults != nil && (step.Faults.Outage != nil || step.Faults.RateLimitStorm != nil) {
			return false
		}
	}
	return true
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
