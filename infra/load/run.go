package load

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/localstack"
)

// Defaults that Run applies to zero fields of Options.
const (
	// DefaultBudget is the template's GENESYS_EVENTS_PER_SECOND.
	DefaultBudget    = 100
	DefaultDevices   = 200
	DefaultBatchSize = 50

	// genesysTimeout is flush's GENESYS_TIMEOUT in template.yaml, used as
	// the plain client's request timeout too.
	genesysTimeout = 5 * time.Second
)

// Options sets up a run. Zero fields take the defaults above.
type Options struct {
	Root      string  // the module's directory; found with `go env GOMOD` when empty
	Budget    float64 // Genesys budget of app and web events per second, for flush and the simulators
	Devices   int
	BatchSize int // events per request
	Seed      uint64
	Progress  io.Writer // progress lines; discarded when nil

	// FunctionLogs, when set, also receives every function's output.
	FunctionLogs io.Writer

	// TimeScale multiplies the scenario's phase durations and step offsets,
	// for short trial runs. Default 1.
	TimeScale float64
}

func (o Options) withDefaults() Options {
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.Devices <= 0 {
		o.Devices = DefaultDevices
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// run is the state of one scenario run.
type run struct {
	scenario Scenario
	opts     Options

	stack    *localstack.Stack
	proxy    *CountingProxy
	rawAWS   aws.Config // the emulator itself, for the run's own calls, which are not counted
	logs     map[string]*InvocationLog
	naiveSim *genesyssim.Server
	naive    *Naive
	ledger   *Ledger
	memory   MemoryTracker
	closers  []func()

	mu      sync.Mutex
	start   time.Time
	samples []sample
	kills   []time.Time
	steps   []string
}

// sample is the state of the relay at one instant.
type sample struct {
	at          time.Time
	visible     int   // messages ready in the queue
	inFlight    int   // messages received and not yet deleted or returned
	rateLimited int64 // 429s the relay's simulator has sent so far
}

// Run starts the local stack and a second simulator for the plain client,
// drives the scenario, waits for delivery up to Scenario.MaxDrain, and
// returns the figures.
func Run(ctx context.Context, scenario Scenario, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	scenario = scenario.scaled(opts.TimeScale)
	r := &run{scenario: scenario, opts: opts, ledger: NewLedger()}
	defer r.close()
	if err := r.startStack(ctx); err != nil {
		return nil, err
	}
	if err := r.startNaive(); err != nil {
		return nil, err
	}
	r.progress("started the stack; running %s for %v", scenario.Name, r.sendDuration())

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	naiveCtx, stopNaive := context.WithCancel(ctx)
	defer stopNaive()
	r.naive.Start(naiveCtx)

	r.count(true)
	r.start = time.Now()
	var workers sync.WaitGroup
	workers.Go(func() { r.sampleUntil(runCtx) })
	workers.Go(func() { r.applySteps(runCtx) })

	driver := r.driver()
	err := driver.Run(ctx, r.phases(), func(p Phase) { r.progress("phase %s: %.0f events/s for %v", p.Name, p.EventsPerSecond, p.Duration) })
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", scenario.Name, err)
	}
	sent := time.Now()
	r.progress("sent %d events; waiting up to %v for delivery", r.ledger.Sent(), scenario.MaxDrain)
	drained := r.awaitDelivery(ctx, sent.Add(scenario.MaxDrain))
	r.count(false)
	stopNaive()
	r.naive.Wait()
	stopRun()
	workers.Wait()

	return r.result(ctx, sent, drained)
}

func (r *run) sendDuration() time.Duration {
	var d time.Duration
	for _, p := range r.scenario.Phases {
		d += p.Duration
	}
	return d
}

// phases returns the scenario's phases with rates in events per second.
func (r *run) phases() []Phase {
	var out []Phase
	for _, p := range r.scenario.Phases {
		p.EventsPerSecond *= r.opts.Budget
		out = append(out, p)
	}
	return out
}

func (r *run) startStack(ctx context.Context) error {
	r.logs = map[string]*InvocationLog{"ingest": {}, "flush": {}, "token": {}}
	outputs := map[string]io.Writer{}
	for name, log := range r.logs {
		outputs[name] = log
		if r.opts.FunctionLogs != nil {
			outputs[name] = io.MultiWriter(log, r.opts.FunctionLogs)
		}
	}
	names := awslocal.DefaultNames()
	// kumo keeps its state per process, so each run gets resources of its own.
	suffix := fmt.Sprintf("-%s-%d", r.scenario.Name, time.Now().UnixNano())
	names.Queue += suffix
	names.DeadLetterQueue += suffix
	names.Table += suffix
	names.AppKeysSecret += suffix
	names.GenesysSecret += suffix

	budget := strconv.FormatFloat(r.opts.Budget, 'f', -1, 64)
	stack, err := localstack.Start(ctx, localstack.Config{
		Root:                     r.opts.Root,
		Names:                    names,
		APIAddr:                  "127.0.0.1:0",
		SimulatorEventsPerSecond: r.opts.Budget,
		FunctionEnv:              map[string][]string{"flush": append([]string{"GENESYS_EVENTS_PER_SECOND=" + budget}, r.scenario.FlushEnv...)},
		FunctionOutputs:          outputs,
		AWSEndpoint:              r.startProxy,
		Logger:                   slog.New(slog.NewTextHandler(r.opts.Progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("start the local stack: %w", err)
	}
	r.stack = stack
	r.closers = append(r.closers, stack.Close)
	return nil
}

// startProxy puts the counting proxy in front of the emulator at target.
func (r *run) startProxy(target string) (string, error) {
	proxy, err := StartCountingProxy(target)
	if err != nil {
		return "", err
	}
	r.proxy = proxy
	proxy.Receipts = &ReceiptTracker{}
	r.closers = append(r.closers, proxy.Close)
	if r.rawAWS, err = awslocal.ClientConfig(context.Background(), target); err != nil {
		return "", err
	}
	if share := r.scenario.SecretThrottle; share > 0 {
		secretRead := APICall{Service: "SecretsManager", Operation: "GetSecretValue"}
		proxy.Throttle = func(call APICall) bool {
			return call == secretRead && rand.Float64() < share
		}
	}
	return proxy.URL, nil
}

// startNaive starts the plain client's simulator, with the same budget as
// the relay's, on 127.0.0.1.
func (r *run) startNaive() error {
	r.naiveSim = genesyssim.New(genesyssim.Config{
		Seed:                      2,
		Deployments:               []string{localstack.LocalDeploymentID},
		DeploymentEventsPerSecond: r.opts.Budget,
	})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the plain client's simulator: %w", err)
	}
	server := &http.Server{Handler: r.naiveSim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	r.closers = append(r.closers, func() { r.naiveSim.Close(); _ = server.Close() })

	r.naive = &Naive{
		BaseURL:      "http://" + listener.Addr().String(),
		DeploymentID: localstack.LocalDeploymentID,
		Client: &http.Client{Timeout: genesysTimeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: 256,
		}},
	}
	return nil
}

func (r *run) driver() *Driver {
	devices := make([]*Device, r.opts.Devices)
	for i := range devices {
		devices[i] = NewDevice(i, r.opts.Seed)
		devices[i].CustomShare = r.scenario.CustomShare
	}
	return &Driver{
		APIURL:      r.stack.APIURL,
		AppKey:      r.stack.AppKey,
		Devices:     devices,
		BatchSize:   r.opts.BatchSize,
		ResendShare: r.scenario.ResendShare,
		Naive:       r.naive,
		Client:      &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		Ledger:      r.ledger,
		Seed:        r.opts.Seed,
	}
}

func (r *run) count(on bool) {
	r.proxy.Count(on)
	for _, log := range r.logs {
		log.Count(on)
	}
}

// applySteps changes the faults at each step's offset.
func (r *run) applySteps(ctx context.Context) {
	for i, step := range r.scenario.Steps {
		if !sleepCtx(ctx, time.Until(r.start.Add(step.At))) {
			return
		}
		if step.Faults != nil {
			r.stack.Simulator.SetFaults(*step.Faults)
			r.naiveSim.SetFaults(*step.Faults)
		}
		note := step.Name
		if step.Kill != "" {
			pid, err := killProcess(step.Kill, i)
			note = fmt.Sprintf("%s %s %d", step.Name, step.Kill, pid)
			if err != nil {
				note = fmt.Sprintf("%s: %v", step.Name, err)
			} else {
				r.mu.Lock()
				r.kills = append(r.kills, time.Now())
				r.mu.Unlock()
			}
		}
		r.mu.Lock()
		r.steps = append(r.steps, fmt.Sprintf("%5.1fs %s", time.Since(r.start).Seconds(), note))
		r.mu.Unlock()
		r.progress("step at %v: %s", step.At, note)
	}
}

// sampleUntil records the queue depth, the relay simulator's 429s and the
// processes' memory every second.
func (r *run) sampleUntil(ctx context.Context) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		r.memory.Sample()
		depth, err := r.queueDepth(ctx)
		if err == nil {
			s := sample{at: time.Now(), visible: depth.visible, inFlight: depth.inFlight + depth.delayed,
				rateLimited: r.stack.Simulator.Stats().RateLimited}
			r.mu.Lock()
			r.samples = append(r.samples, s)
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// awaitDelivery waits until every accepted event has reached the simulator
// or the dead-letter queue, the queue is empty and the plain client has sent
// everything, or until deadline. It reports whether everything settled.
func (r *run) awaitDelivery(ctx context.Context, deadline time.Time) bool {
	index := newDeliveryIndex()
	naiveIndex := newDeliveryIndex()
	for {
		index.update(r.stack.Simulator.Events())
		naiveIndex.update(r.naiveSim.Events())
		accepted := r.ledger.Accepted()
		depth, err := r.queueDepth(ctx)
		dead, _ := r.dlqDepth(ctx)
		relayDone := err == nil && depth.total() == 0 && index.distinctOf(accepted)+dead >= len(accepted)
		naiveDone := naiveIndex.distinct() >= int(r.naive.Sent.Load()-r.naive.Dropped.Load())
		if relayDone && naiveDone {
			return true
		}
		if time.Now().After(deadline) || !sleepCtx(ctx, 2*time.Second) {
			r.progress("stopped waiting: relay settled %v, plain client done %v", relayDone, naiveDone)
			return false
		}
	}
}

func (r *run) progress(format string, args ...any) {
	fmt.Fprintf(r.opts.Progress, "%s %-8s %s\n", time.Now().UTC().Format("15:04:05"), r.scenario.Name, fmt.Sprintf(format, args...))
}

func (r *run) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}
