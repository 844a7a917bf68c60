// Command relay-load drives the local stack with many simulated devices and
// injected faults and prints what became of every event, side by side with a
// plain client that posts each event straight to Genesys.
//
//	relay-load -scenario steady      # one scenario
//	relay-load -scenario all         # the whole fault matrix, about 20 minutes
//	relay-load -coldstart            # init times and binary sizes of the functions
//
// Every run stops by itself and sends traffic only to servers it starts on
// 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/journeyrelay/relay/infra/load"
)

type options struct {
	scenario  string
	coldStart bool
	coldRuns  int
	load      load.Options
	timeout   time.Duration
	quiet     bool

	functionLogs string
}

func parseFlags(args []string) (options, error) {
	var o options
	flags := flag.NewFlagSet("relay-load", flag.ContinueOnError)
	flags.StringVar(&o.scenario, "scenario", "steady", "scenario to run: steady, burst, outage, storm, crash, retries, token, or all")
	flags.BoolVar(&o.coldStart, "coldstart", false, "measure the functions' init times and binary sizes instead of running a scenario")
	flags.IntVar(&o.coldRuns, "coldstart-runs", 7, "with -coldstart, cold starts measured per function")
	flags.Float64Var(&o.load.Budget, "budget", load.DefaultBudget, "Genesys budget of app and web events per second, for flush and the simulators")
	flags.IntVar(&o.load.Devices, "devices", load.DefaultDevices, "simulated devices")
	flags.IntVar(&o.load.BatchSize, "batch", load.DefaultBatchSize, "events per request")
	flags.Uint64Var(&o.load.Seed, "seed", 1, "seed of the generated events")
	flags.Float64Var(&o.load.TimeScale, "time-scale", 1, "multiply phase durations and fault offsets by this, for short trial runs")
	flags.DurationVar(&o.timeout, "timeout", 40*time.Minute, "stop everything after this long")
	flags.BoolVar(&o.quiet, "q", false, "print no progress lines")
	flags.StringVar(&o.functionLogs, "function-logs", "", "file to write the functions' output to")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	if o.scenario != "all" {
		if _, err := load.FindScenario(o.scenario); err != nil {
			return o, err
		}
	}
	if o.coldRuns < 1 {
		return o, fmt.Errorf("invalid -coldstart-runs %d: must be at least 1", o.coldRuns)
	}
	return o, nil
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()

	if err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "relay-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts options, stdout, stderr io.Writer) error {
	if !opts.quiet {
		opts.load.Progress = stderr
	}
	if opts.functionLogs != "" {
		f, err := os.Create(opts.functionLogs)
		if err != nil {
			return fmt.Errorf("create the function log: %w", err)
		}
		defer f.Close()
		opts.load.FunctionLogs = f
	}
	if opts.coldStart {
		report, err := load.MeasureColdStarts(ctx, opts.load.Root, opts.coldRuns)
		if err != nil {
			return err
		}
		report.Print(stdout)
		return nil
	}

	scenarios := load.Scenarios()
	if opts.scenario != "all" {
		s, _ := load.FindScenario(opts.scenario)
		scenarios = []load.Scenario{s}
	}
	fmt.Fprintf(stdout, "relay-load %s: %d devices, %d events per request, budget %.0f events/s, started %s\n\n",
		opts.scenario, opts.load.Devices, opts.load.BatchSize, opts.load.Budget, time.Now().UTC().Format(time.RFC3339))
	for _, scenario := range scenarios {
		result, err := load.Run(ctx, scenario, opts.load)
		if err != nil {
			return err
		}
		result.Print(stdout)
		fmt.Fprintln(stdout)
	}
	return nil
}
