package template

import (
	"errors"
	"fmt"
	"strconv"
)

// CheckEnvironment checks each function's environment against the contract.
// Every required variable must be set, and every variable set must be one the
// contract defines for that function. The variables in want, keyed by logical
// id and then name, must have exactly the given values, such as Ref("Queue").
func CheckEnvironment(t *Template, contract Contract, want map[string]map[string]string) error {
	var errs []error
	functions := t.GetAllServerlessFunctionResources()
	for _, id := range sortedKeys(functions) {
		defined := contract[Functions[id]]
		var variables map[string]string
		if env := functions[id].Environment; env != nil {
			variables = env.Variables
		}

		for _, name := range sortedKeys(defined) {
			if _, ok := variables[name]; defined[name] && !ok {
				errs = append(errs, fmt.Errorf("%s: required variable %s is not set", id, name))
			}
		}
		for _, name := range sortedKeys(variables) {
			if _, ok := defined[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: variable %s is not defined for %s in docs/contracts.md", id, name, Functions[id]))
			}
		}
		for _, name := range sortedKeys(want[id]) {
			if got, ok := variables[name]; !ok || got != want[id][name] {
				errs = append(errs, fmt.Errorf("%s: %s: got %q, want %q", id, name, got, want[id][name]))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckMessageSize checks that ingest's MAX_MESSAGE_BYTES equals the
// MaximumMessageSize of the queue its QUEUE_URL names, so that ingest never
// enqueues a message SQS rejects nor rejects one SQS would take.
func CheckMessageSize(t *Template) error {
	variables, err := t.environment("IngestFunction")
	if err != nil {
		return err
	}
	queueName, ok := cutMarker(variables["QUEUE_URL"], "Ref:", "")
	if !ok {
		return fmt.Errorf("IngestFunction: QUEUE_URL must name a queue of the template, got %q", variables["QUEUE_URL"])
	}
	queue, err := t.GetSQSQueueWithName(queueName)
	if err != nil {
		return err
	}

	limit := valueOr(queue.MaximumMessageSize, defaultMaxMessageBytes)
	if got := variables["MAX_MESSAGE_BYTES"]; got != strconv.Itoa(limit) {
		return fmt.Errorf("IngestFunction: MAX_MESSAGE_BYTES: got %q, want %d, the MaximumMessageSize of %s", got, limit, queueName)
	}
	return nil
}

// CheckFlushConcurrency checks that flush's reserved concurrency and
// FLUSH_MAX_INSTANCES both equal its SQS event source's maximum concurrency
// plus one for the schedule, because flush splits the Genesys budgets into
// FLUSH_MAX_INSTANCES equal shares.
func CheckFlushConcurrency(t *Template) error {
	fn, err := t.GetServerlessFunctionWithName("FlushFunction")
	if err != nil {
		return err
	}
	variables, err := t.environment("FlushFunction")
	if err != nil {
		return err
	}
	var sqsConcurrency int
	for _, source := range t.sqsEventSources() {
		if source.function == "FlushFunction" {
			concurrency, _ := lookup(source.raw, "ScalingConfig", "MaximumConcurrency").(float64)
			sqsConcurrency += int(concurrency)
		}
	}

	want := strconv.Itoa(sqsConcurrency + 1)
	var errs []error
	if got := variables["FLUSH_MAX_INSTANCES"]; got != want {
		errs = append(errs, fmt.Errorf("FlushFunction: FLUSH_MAX_INSTANCES: got %q, want %s", got, want))
	}
	if got := valueOr(fn.ReservedConcurrentExecutions, 0); strconv.Itoa(got) != want {
		errs = append(errs, fmt.Errorf("FlushFunction: ReservedConcurrentExecutions: got %d, want %s", got, want))
	}
	return errors.Join(errs...)
}

func (t *Template) environment(id string) (map[string]string, error) {
	fn, err := t.GetServerlessFunctionWithName(id)
	if err != nil {
		return nil, err
	}
	if fn.Environment == nil {
		return map[string]string{}, nil
	}
	return fn.Environment.Variables, nil
}
