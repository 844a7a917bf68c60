// Command relay-local runs the relay on 127.0.0.1 with no cloud account: the
// AWS services in kumo, the Genesys Cloud simulator and the three functions
// under the Lambda runtime interface emulator, wired as template.yaml wires
// them in AWS. It replays the sample traffic in events/traffic, prints a
// summary and keeps serving the HTTP API until interrupted.
//
//	relay-local                  # replay, then serve on 127.0.0.1:3000
//	relay-local -once            # replay, wait for delivery, exit 1 on a lost or doubled event
//	relay-local -invoke ingest -event events/ingest-batch.json
//
// With GENESYS_REGION and GENESYS_DEPLOYMENT_ID set, plus GENESYS_CLIENT_ID and
// GENESYS_CLIENT_SECRET (and optionally GENESYS_EXTERNAL_CONFIGURATION_ID and
// GENESYS_EXTERNAL_SOURCE_ID), it delivers to that Genesys Cloud organization
// instead of starting the simulator.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/journeyrelay/relay/infra/localstack"
)

type options struct {
	addr     string
	once     bool
	traffic  string
	schedule time.Duration
	timeout  time.Duration
	invoke   string
	event    string
	runner   string
	verbose  bool
}

func parseFlags(args []string) (options, error) {
	var o options
	flags := flag.NewFlagSet("relay-local", flag.ContinueOnError)
	flags.StringVar(&o.addr, "addr", "127.0.0.1:3000",
		"address of the local HTTP API (host:port); with -invoke the default is a random free port")
	flags.BoolVar(&o.once, "once", false, "replay the sample traffic, wait for delivery and exit; exit status 1 if an accepted event was lost, delivered twice or dead-lettered")
	flags.StringVar(&o.traffic, "traffic", "events/traffic", "directory of sample traffic to replay; empty replays nothing")
	flags.DurationVar(&o.schedule, "schedule", 0, "period of the flush schedule (default: the template's rate)")
	flags.DurationVar(&o.timeout, "timeout", 2*time.Minute, "with -once, how long to wait for delivery")
	flags.StringVar(&o.invoke, "invoke", "", "invoke one function (ingest, flush or token) with -event and exit")
	flags.StringVar(&o.event, "event", "", "with -invoke, the JSON event file to send")
	flags.StringVar(&o.runner, "runner", "rie", "with -invoke: rie (runtime interface emulator) or sam (sam local invoke, needs Docker)")
	flags.BoolVar(&o.verbose, "v", false, "print the functions' logs")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	// -invoke calls a function directly, so it leaves port 3000 to a
	// `make run` that may be serving at the same time.
	if o.invoke != "" && !isSet(flags, "addr") {
		o.addr = "127.0.0.1:0"
	}
	if o.invoke != "" && o.event == "" {
		return o, fmt.Errorf("-invoke %s needs -event FILE", o.invoke)
	}
	if o.runner != "rie" && o.runner != "sam" {
		return o, fmt.Errorf("invalid -runner %q: use rie or sam", o.runner)
	}
	return o, nil
}

// isSet reports whether the command line set the flag name.
func isSet(flags *flag.FlagSet, name string) bool {
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "relay-local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts options, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := localstack.Config{
		APIAddr:             opts.addr,
		SchedulePeriod:      opts.schedule,
		Logger:              logger,
		WithoutEventSources: opts.invoke != "",
	}
	if opts.verbose {
		cfg.FunctionOutput = stderr
	}
	genesys, err := realGenesys(os.LookupEnv)
	if err != nil {
		return err
	}
	cfg.Genesys = genesys

	logger.Info("starting the local stack; the first start builds the functions")
	stack, err := localstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer stack.Close()

	if opts.invoke != "" {
		return invoke(ctx, stack, opts, stdout, stderr)
	}
	printStack(stdout, stack)
	if opts.traffic != "" {
		report, err := replay(ctx, stack, opts)
		if report != nil {
			report.Print(stdout)
		}
		if err != nil {
			return err
		}
		if opts.once {
			return report.Verify()
		}
	}

	fmt.Fprintf(stdout, "\nserving until interrupted; try:\n  %s\n", curlExample(stack))
	<-ctx.Done()
	return nil
}
