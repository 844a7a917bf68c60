package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/journeyrelay/relay/infra/localstack"
)

// serveDeliveryWait is how long the serve mode waits for delivery before it
// prints the summary. Delivery goes on after that while the stack serves.
const serveDeliveryWait = time.Minute

// replay sends the sample traffic and waits for delivery: up to -timeout
// with -once, up to serveDeliveryWait otherwise. It returns the report with
// any error that came after the replay, so that the summary can be printed.
func replay(ctx context.Context, stack *localstack.Stack, opts options) (*localstack.Report, error) {
	sessions, err := localstack.LoadTraffic(opts.traffic)
	if err != nil {
		return nil, err
	}
	replayer := &localstack.Replayer{APIURL: stack.APIURL, AppKey: stack.AppKey}
	report, err := replayer.Replay(ctx, sessions, time.Now())
	if err != nil {
		return nil, err
	}

	wait := serveDeliveryWait
	if opts.once {
		wait = opts.timeout
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return report, deliveryError(stack.AwaitDelivery(waitCtx, report), report, opts)
}

// deliveryError returns the error that ends the command after AwaitDelivery
// returned err. Slow delivery ends only -once, because the serve mode keeps
// the stack running and its summary reports delivery as still in progress.
func deliveryError(err error, report *localstack.Report, opts options) error {
	if !errors.Is(err, localstack.ErrDeliveryInProgress) {
		return err
	}
	if !opts.once {
		return nil
	}
	return fmt.Errorf("timed out after %v waiting for delivery, with %d accepted events not delivered yet; "+
		"raise -timeout, or add -v to see the functions' logs", opts.timeout, len(report.Undelivered))
}

// invoke runs one function with an event file and prints its response.
func invoke(ctx context.Context, stack *localstack.Stack, opts options, stdout, stderr io.Writer) error {
	if opts.runner == "sam" {
		return stack.InvokeWithSAM(ctx, opts.invoke, opts.event, stdout, stderr)
	}
	fn, ok := stack.Functions[opts.invoke]
	if !ok {
		return fmt.Errorf("unknown function %q: use ingest, flush or token", opts.invoke)
	}
	payload, err := os.ReadFile(opts.event)
	if err != nil {
		return fmt.Errorf("read the event: %w", err)
	}
	output, err := fn.Invoke(ctx, payload)
	fmt.Fprintf(stdout, "%s\n", output)
	return err
}

func printStack(w io.Writer, stack *localstack.Stack) {
	fmt.Fprintf(w, "HTTP API      %s/v1/events\n", stack.APIURL)
	fmt.Fprintf(w, "app key       %s (header X-Api-Key)\n", stack.AppKey)
	fmt.Fprintf(w, "AWS emulator  %s (SQS, DynamoDB, Secrets Manager)\n", stack.Emulator.URL)
	if stack.SimulatorURL != "" {
		fmt.Fprintf(w, "Genesys sim   %s (control API under /_sim/)\n", stack.SimulatorURL)
	}
	// The queue URL kumo returns names localhost:4566 whatever its port, so
	// the queue is printed by name.
	fmt.Fprintf(w, "SQS queue     %s at %s (dead-letter queue %s)\n\n",
		stack.Resources.Queue, stack.Emulator.URL, stack.Resources.DeadLetterQueue)
}

func curlExample(stack *localstack.Stack) string {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	body := fmt.Sprintf(`{"event_type":"APP","event_name":"app_opened","timestamp":"%s",`+
		`"user_id":"u-1","session_id":"s-1","screen_name":"Home",`+
		`"app":{"name":"Shop","namespace":"com.example.shop","version":"5.2.0","build_number":"5200"},`+
		`"device":{"category":"mobile","type":"iPhone15,2","os_family":"iOS","os_version":"18.1"}}`, now)
	return fmt.Sprintf("curl -s %s/v1/events -H 'Content-Type: application/json' -H 'X-Api-Key: %s' -d '%s'",
		stack.APIURL, stack.AppKey, body)
}
