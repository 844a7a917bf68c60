package template

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// Functions maps the logical ids of the relay's functions to the names
// docs/contracts.md uses for them.
var Functions = map[string]string{
	"IngestFunction": "ingest",
	"FlushFunction":  "flush",
	"TokenFunction":  "token",
}

// VisibilityTimeoutFactor is how many times the function timeout an SQS event
// source's queue must keep a received message invisible, as AWS advises.
const VisibilityTimeoutFactor = 6

// Default values AWS applies when a template leaves the property out.
const (
	defaultFunctionTimeout   = 3  // seconds, AWS::Lambda::Function Timeout
	defaultVisibilityTimeout = 30 // seconds, AWS::SQS::Queue VisibilityTimeout
	defaultMaxMessageBytes   = 262144
	deadLetterRetention      = 1209600 // seconds: 14 days, the SQS maximum
)

// CheckEventSources checks that every SQS event source reports batch item
// failures and sets its batch size, batching window and maximum concurrency.
func CheckEventSources(t *Template) error {
	var errs []error
	for _, source := range t.sqsEventSources() {
		where := source.function + "." + source.event
		types, _ := source.raw["FunctionResponseTypes"].([]any)
		if !slices.Contains(types, any("ReportBatchItemFailures")) {
			errs = append(errs, fmt.Errorf("%s: FunctionResponseTypes must include ReportBatchItemFailures, got %v", where, types))
		}
		for _, name := range []string{"BatchSize", "MaximumBatchingWindowInSeconds"} {
			if _, ok := source.raw[name].(float64); !ok {
				errs = append(errs, fmt.Errorf("%s: %s is missing", where, name))
			}
		}
		if concurrency, _ := lookup(source.raw, "ScalingConfig", "MaximumConcurrency").(float64); concurrency < 2 {
			errs = append(errs, fmt.Errorf("%s: ScalingConfig.MaximumConcurrency must be at least 2, got %v", where, concurrency))
		}
	}
	return errors.Join(errs...)
}

// CheckVisibilityTimeout checks that each queue read by an SQS event source
// has a visibility timeout of at least VisibilityTimeoutFactor times the
// timeout of the function that reads it.
func CheckVisibilityTimeout(t *Template) error {
	var errs []error
	for _, source := range t.sqsEventSources() {
		queue, err := t.GetSQSQueueWithName(source.queue)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", source.function, source.event, err))
			continue
		}
		visibility := valueOr(queue.VisibilityTimeout, defaultVisibilityTimeout)
		timeout := valueOr(source.fn.Timeout, defaultFunctionTimeout)
		if visibility < VisibilityTimeoutFactor*timeout {
			errs = append(errs, fmt.Errorf("%s: VisibilityTimeout %d s is less than %d times %s's Timeout of %d s",
				source.queue, visibility, VisibilityTimeoutFactor, source.function, timeout))
		}
	}
	return errors.Join(errs...)
}

// CheckRuntime checks that the template defines exactly the functions in
// Functions and that each one runs a makefile-built bootstrap on
// provided.al2023, arm64, with JSON logs.
func CheckRuntime(t *Template) error {
	var errs []error
	functions := t.GetAllServerlessFunctionResources()
	for id := range Functions {
		if functions[id] == nil {
			errs = append(errs, fmt.Errorf("%s: function is missing", id))
		}
	}
	for _, id := range sortedKeys(functions) {
		fn := functions[id]
		if Functions[id] == "" {
			errs = append(errs, fmt.Errorf("%s is not a known function, so add it to template.Functions and docs/contracts.md", id))
		}
		errs = append(errs,
			expect(id, "Runtime", valueOr(fn.Runtime, ""), "provided.al2023"),
			expect(id, "Architectures", strings.Join(fn.Architectures, ","), "arm64"),
			expect(id, "Handler", valueOr(fn.Handler, ""), "bootstrap"),
			expect(id, "Metadata.BuildMethod", fmt.Sprint(fn.AWSCloudFormationMetadata["BuildMethod"]), "makefile"),
			expect(id, "LoggingConfig.LogFormat", fmt.Sprint(t.rawProperty(id, "LoggingConfig", "LogFormat")), "JSON"),
		)
	}
	return errors.Join(errs...)
}

// CheckTable checks every DynamoDB table: string keys pk and sk, TTL on
// expires_at and point-in-time recovery. Billing is on-demand, or provisioned
// with write capacity for at least two writes (a claim and a delivered mark)
// per event of flush's GENESYS_EVENTS_PER_SECOND.
func CheckTable(t *Template) error {
	var errs []error
	tables := t.GetAllDynamoDBTableResources()
	if len(tables) == 0 {
		return errors.New("no DynamoDB table")
	}
	flushEnv, err := t.environment("FlushFunction")
	if err != nil {
		return err
	}
	eventsPerSecond, err := strconv.ParseFloat(flushEnv["GENESYS_EVENTS_PER_SECOND"], 64)
	if err != nil {
		return fmt.Errorf("FlushFunction: GENESYS_EVENTS_PER_SECOND: %w", err)
	}
	for _, id := range sortedKeys(tables) {
		table := tables[id]
		var keys []string
		for _, key := range table.KeySchema {
			keys = append(keys, key.AttributeName+" "+key.KeyType)
		}
		var attributes []string
		for _, attribute := range table.AttributeDefinitions {
			attributes = append(attributes, attribute.AttributeName+" "+attribute.AttributeType)
		}
		errs = append(errs,
			expect(id, "KeySchema", strings.Join(keys, ", "), "pk HASH, sk RANGE"),
			expect(id, "AttributeDefinitions", strings.Join(attributes, ", "), "pk S, sk S"),
			checkCapacity(id, valueOr(table.BillingMode, ""), table.ProvisionedThroughput, eventsPerSecond))

		ttl := table.TimeToLiveSpecification
		if ttl == nil || !ttl.Enabled || valueOr(ttl.AttributeName, "") != "expires_at" {
			errs = append(errs, fmt.Errorf("%s: TTL must be enabled on expires_at", id))
		}
		pitr := table.PointInTimeRecoverySpecification
		if pitr == nil || !valueOr(pitr.PointInTimeRecoveryEnabled, false) {
			errs = append(errs, fmt.Errorf("%s: point-in-time recovery must be enabled", id))
		}
	}
	return errors.Join(errs...)
}

// checkCapacity checks a table's billing mode and, when it is provisioned,
// that its write capacity covers two writes per event of the rate budget.
func checkCapacity(id, mode string, throughput *dynamodb.Table_ProvisionedThroughput, eventsPerSecond float64) error {
	switch mode {
	case "PAY_PER_REQUEST":
		if throughput != nil {
			return fmt.Errorf("%s: ProvisionedThroughput is set although BillingMode is PAY_PER_REQUEST", id)
		}
		return nil
	case "PROVISIONED":
		if throughput == nil {
			return fmt.Errorf("%s: BillingMode PROVISIONED requires ProvisionedThroughput, which is missing", id)
		}
		if want := 2 * eventsPerSecond; float64(throughput.WriteCapacityUnits) < want {
			return fmt.Errorf("%s: WriteCapacityUnits: got %d, want at least %g, two per event of GENESYS_EVENTS_PER_SECOND",
				id, throughput.WriteCapacityUnits, want)
		}
		return nil
	default:
		return fmt.Errorf("%s: BillingMode: got %q, want PAY_PER_REQUEST or PROVISIONED", id, mode)
	}
}

// CheckRedrive checks that each queue read by an SQS event source redrives
// to a dead-letter queue of the template that keeps messages for 14 days.
func CheckRedrive(t *Template) error {
	var errs []error
	for _, source := range t.sqsEventSources() {
		queue, err := t.GetSQSQueueWithName(source.queue)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		target, _ := lookup(queue.RedrivePolicy, "deadLetterTargetArn").(string)
		deadLetter, ok := cutMarker(target, "GetAtt:", ".Arn")
		if !ok {
			errs = append(errs, fmt.Errorf("%s: RedrivePolicy.deadLetterTargetArn must be the Arn of a queue in the template, got %q", source.queue, target))
			continue
		}
		if count, _ := lookup(queue.RedrivePolicy, "maxReceiveCount").(float64); count < 1 {
			errs = append(errs, fmt.Errorf("%s: RedrivePolicy.maxReceiveCount must be at least 1, got %v", source.queue, count))
		}
		dlq, err := t.GetSQSQueueWithName(deadLetter)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: dead-letter queue: %w", source.queue, err))
			continue
		}
		if got := valueOr(dlq.MessageRetentionPeriod, 0); got != deadLetterRetention {
			errs = append(errs, fmt.Errorf("%s: MessageRetentionPeriod: got %d, want %d", deadLetter, got, deadLetterRetention))
		}
	}
	return errors.Join(errs...)
}

// sqsEventSource is one SQS event of one function.
type sqsEventSource struct {
	function, event, queue string
	fn                     *serverless.Function
	raw                    map[string]any // the event's Properties, with what goformation drops
}

// sqsEventSources returns the SQS event sources of every function, sorted.
func (t *Template) sqsEventSources() []sqsEventSource {
	var sources []sqsEventSource
	functions := t.GetAllServerlessFunctionResources()
	for _, id := range sortedKeys(functions) {
		fn := functions[id]
		for _, name := range sortedKeys(fn.Events) {
			if fn.Events[name].Type != "SQS" {
				continue
			}
			raw, _ := t.rawProperty(id, "Events", name, "Properties").(map[string]any)
			arn, _ := raw["Queue"].(string)
			queue, _ := cutMarker(arn, "GetAtt:", ".Arn")
			sources = append(sources, sqsEventSource{function: id, event: name, queue: queue, fn: fn, raw: raw})
		}
	}
	return sources
}

// rawProperty returns a property of a resource from the generic template.
func (t *Template) rawProperty(resource string, path ...string) any {
	return lookup(t.Raw, append([]string{"Resources", resource, "Properties"}, path...)...)
}

func expect(resource, property, got, want string) error {
	if got == want {
		return nil
	}
	return fmt.Errorf("%s: %s: got %q, want %q", resource, property, got, want)
}

func valueOr[T any](p *T, fallback T) T {
	if p == nil {
		return fallback
	}
	return *p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
