package template

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/journeyrelay/relay/shared/delivery"
	"github.com/journeyrelay/relay/shared/telemetry"
)

const templatePath = "../../template.yaml"

// logGrants are what every function needs to write its own log group.
func logGrants(logGroup string) []Grant {
	return []Grant{
		{"logs:CreateLogStream", GetAtt(logGroup, "Arn")},
		{"logs:PutLogEvents", GetAtt(logGroup, "Arn")},
	}
}

// minimalGrants is the least privilege of each function.
var minimalGrants = map[string][]Grant{
	"IngestFunction": append(logGrants("IngestLogGroup"),
		Grant{"sqs:SendMessage", GetAtt("Queue", "Arn")},
		Grant{"dynamodb:UpdateItem", GetAtt("Table", "Arn")},
		Grant{"secretsmanager:GetSecretValue", Ref("AppKeysSecret")},
	),
	"FlushFunction": append(logGrants("FlushLogGroup"),
		Grant{"sqs:ReceiveMessage", GetAtt("Queue", "Arn")},
		Grant{"sqs:DeleteMessage", GetAtt("Queue", "Arn")},
		Grant{"sqs:ChangeMessageVisibility", GetAtt("Queue", "Arn")},
		Grant{"sqs:GetQueueAttributes", GetAtt("Queue", "Arn")},
		Grant{"sqs:SendMessage", GetAtt("DeadLetterQueue", "Arn")},
		Grant{"dynamodb:GetItem", GetAtt("Table", "Arn")},
		Grant{"dynamodb:PutItem", GetAtt("Table", "Arn")},
		Grant{"dynamodb:UpdateItem", GetAtt("Table", "Arn")},
		Grant{"dynamodb:DeleteItem", GetAtt("Table", "Arn")},
		Grant{"dynamodb:Query", GetAtt("Table", "Arn")},
		Grant{"lambda:InvokeFunction", GetAtt("TokenFunction", "Arn")},
	),
	"TokenFunction": append(logGrants("TokenLogGroup"),
		Grant{"secretsmanager:GetSecretValue", Ref("GenesysSecret")},
	),
}

// resourceVariables are the variables that name the relay's resources.
var resourceVariables = map[string]map[string]string{
	"IngestFunction": {
		"QUEUE_URL":          Ref("Queue"),
		"TABLE_NAME":         Ref("Table"),
		"APP_KEYS_SECRET_ID": Ref("AppKeysSecret"),
	},
	"FlushFunction": {
		"QUEUE_URL":             Ref("Queue"),
		"DEAD_LETTER_QUEUE_URL": Ref("DeadLetterQueue"),
		"TABLE_NAME":            Ref("Table"),
		"TOKEN_FUNCTION_NAME":   Ref("TokenFunction"),
		"GENESYS_DEPLOYMENT_ID": Ref("GenesysDeploymentId"),
	},
	"TokenFunction": {
		"GENESYS_SECRET_ID": Ref("GenesysSecret"),
	},
}

// alarms are the metrics an operator must hear about. The breaker alarm
// uses the names flush emits, so renaming the metric breaks this test.
var alarms = []Alarm{
	{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName=" + GetAtt("DeadLetterQueue", "QueueName")},
	{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName=" + GetAtt("Queue", "QueueName")},
	{"AWS/Lambda", "Errors", "FunctionName=" + Ref("FlushFunction")},
	{telemetry.Namespace, delivery.MetricBreakerOpen, "Function=flush"},
}

func loadT(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(templatePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func contractT(t *testing.T) Contract {
	t.Helper()
	markdown, err := os.ReadFile("../../docs/contracts.md")
	if err != nil {
		t.Fatal(err)
	}
	contract, err := ParseContract(markdown)
	if err != nil {
		t.Fatal(err)
	}
	return contract
}

// invariants returns every check, named, with its expectations bound.
func invariants(t *testing.T) map[string]func(*Template) error {
	contract := contractT(t)
	return map[string]func(*Template) error{
		"event sources":      CheckEventSources,
		"visibility timeout": CheckVisibilityTimeout,
		"policies":           func(tpl *Template) error { return CheckPolicies(tpl, minimalGrants) },
		"environment": func(tpl *Template) error {
			return CheckEnvironment(tpl, contract, resourceVariables)
		},
		"message size":      CheckMessageSize,
		"flush concurrency": CheckFlushConcurrency,
		"runtime":           CheckRuntime,
		"api":               CheckAPI,
		"alarms":            func(tpl *Template) error { return CheckAlarms(tpl, alarms) },
		"table":             CheckTable,
		"redrive":           CheckRedrive,
	}
}

func TestTemplateKeepsInvariants(t *testing.T) {
	tpl := loadT(t)
	for name, check := range invariants(t) {
		t.Run(name, func(t *testing.T) {
			if err := check(tpl); err != nil {
				t.Errorf("template.yaml breaks the invariant:\n%v", err)
			}
		})
	}
}

// Each mutation breaks one invariant of a fresh copy of the template; the
// named check must then fail with a message containing want.
func TestChecksRejectMutations(t *testing.T) {
	checks := invariants(t)
	tests := []struct {
		name   string
		check  string
		mutate func(*testing.T, *Template)
		want   string
	}{
		{"no batch item failures", "event sources", func(t *testing.T, tpl *Template) {
			sqsEvent(t, tpl)["FunctionResponseTypes"] = []any{}
		}, "ReportBatchItemFailures"},
		{"one concurrent poller", "event sources", func(t *testing.T, tpl *Template) {
			sqsEvent(t, tpl)["ScalingConfig"] = map[string]any{"MaximumConcurrency": 1.0}
		}, "MaximumConcurrency"},
		{"no batching window", "event sources", func(t *testing.T, tpl *Template) {
			delete(sqsEvent(t, tpl), "MaximumBatchingWindowInSeconds")
		}, "MaximumBatchingWindowInSeconds"},
		{"short visibility timeout", "visibility timeout", func(t *testing.T, tpl *Template) {
			*queue(t, tpl, "Queue").VisibilityTimeout = 359
		}, "VisibilityTimeout 359"},
		{"longer flush timeout", "visibility timeout", func(t *testing.T, tpl *Template) {
			*function(t, tpl, "FlushFunction").Timeout = 61
		}, "Timeout of 61"},
		{"extra action", "policies", func(t *testing.T, tpl *Template) {
			addStatement(t, tpl, "IngestRole", "sqs:DeleteMessage", GetAtt("Queue", "Arn"))
		}, "extra [sqs:DeleteMessage on GetAtt:Queue.Arn]"},
		{"wildcard resource", "policies", func(t *testing.T, tpl *Template) {
			addStatement(t, tpl, "TokenRole", "secretsmanager:GetSecretValue", "*")
		}, "wildcard resource"},
		{"missing action", "policies", func(t *testing.T, tpl *Template) {
			role, err := tpl.GetIAMRoleWithName("TokenRole")
			if err != nil {
				t.Fatal(err)
			}
			role.Policies = nil
		}, "missing [logs:CreateLogStream"},
		{"managed policy", "policies", func(t *testing.T, tpl *Template) {
			role, err := tpl.GetIAMRoleWithName("FlushRole")
			if err != nil {
				t.Fatal(err)
			}
			role.ManagedPolicyArns = []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}
		}, "managed policies"},
		{"missing required variable", "environment", func(t *testing.T, tpl *Template) {
			delete(function(t, tpl, "FlushFunction").Environment.Variables, "DEAD_LETTER_QUEUE_URL")
		}, "required variable DEAD_LETTER_QUEUE_URL"},
		{"variable names wrong resource", "environment", func(t *testing.T, tpl *Template) {
			function(t, tpl, "IngestFunction").Environment.Variables["QUEUE_URL"] = Ref("DeadLetterQueue")
		}, "QUEUE_URL: got \"Ref:DeadLetterQueue\""},
		{"undefined variable", "environment", func(t *testing.T, tpl *Template) {
			function(t, tpl, "TokenFunction").Environment.Variables["GENESYS_SECRET"] = "x"
		}, "GENESYS_SECRET is not defined"},
		{"message size differs", "message size", func(t *testing.T, tpl *Template) {
			*queue(t, tpl, "Queue").MaximumMessageSize = 262144
		}, "want 262144"},
		{"reserved concurrency differs", "flush concurrency", func(t *testing.T, tpl *Template) {
			*function(t, tpl, "FlushFunction").ReservedConcurrentExecutions = 2
		}, "ReservedConcurrentExecutions: got 2, want 3"},
		{"runtime go1.x", "runtime", func(t *testing.T, tpl *Template) {
			*function(t, tpl, "TokenFunction").Runtime = "go1.x"
		}, "Runtime"},
		{"x86_64", "runtime", func(t *testing.T, tpl *Template) {
			function(t, tpl, "IngestFunction").Architectures = []string{"x86_64"}
		}, "Architectures"},
		{"no makefile build", "runtime", func(t *testing.T, tpl *Template) {
			delete(function(t, tpl, "FlushFunction").AWSCloudFormationMetadata, "BuildMethod")
		}, "BuildMethod"},
		{"text logs", "runtime", func(t *testing.T, tpl *Template) {
			tpl.rawProperty("FlushFunction", "LoggingConfig").(map[string]any)["LogFormat"] = "Text"
		}, "LogFormat"},
		{"no TTL", "table", func(t *testing.T, tpl *Template) {
			table(t, tpl).TimeToLiveSpecification = nil
		}, "TTL"},
		{"no point-in-time recovery", "table", func(t *testing.T, tpl *Template) {
			table(t, tpl).PointInTimeRecoverySpecification = nil
		}, "point-in-time recovery"},
		{"capacity on an on-demand table", "table", func(t *testing.T, tpl *Template) {
			table(t, tpl).ProvisionedThroughput = &dynamodb.Table_ProvisionedThroughput{ReadCapacityUnits: 5, WriteCapacityUnits: 5}
		}, "ProvisionedThroughput is set"},
		{"unknown billing mode", "table", func(t *testing.T, tpl *Template) {
			mode := "ON_DEMAND"
			table(t, tpl).BillingMode = &mode
		}, "want PAY_PER_REQUEST or PROVISIONED"},
		{"payload format 1.0", "api", func(t *testing.T, tpl *Template) {
			tpl.rawProperty("IngestFunction", "Events", "EventsRoute", "Properties").(map[string]any)["PayloadFormatVersion"] = "1.0"
		}, "PayloadFormatVersion"},
		{"no throttling", "api", func(t *testing.T, tpl *Template) {
			delete(tpl.rawProperty("HttpApi").(map[string]any), "DefaultRouteSettings")
		}, "ThrottlingBurstLimit"},
		{"no route", "api", func(t *testing.T, tpl *Template) {
			tpl.rawProperty("IngestFunction", "Events", "EventsRoute", "Properties").(map[string]any)["Path"] = "/events"
		}, "no HttpApi event"},
		{"catch-all route", "api", func(t *testing.T, tpl *Template) {
			tpl.rawProperty("IngestFunction", "Events").(map[string]any)["Proxy"] = map[string]any{
				"Type":       "HttpApi",
				"Properties": map[string]any{"ApiId": Ref("HttpApi"), "Method": "ANY", "Path": "/{proxy+}"},
			}
		}, `Path: got "/{proxy+}"`},
		{"POST route only", "api", func(t *testing.T, tpl *Template) {
			tpl.rawProperty("IngestFunction", "Events", "EventsRoute", "Properties").(map[string]any)["Method"] = "POST"
		}, `Method: got "POST", want "ANY"`},
		{"breaker alarm renamed", "alarms", func(t *testing.T, tpl *Template) {
			alarm, err := tpl.GetCloudWatchAlarmWithName("BreakerOpenAlarm")
			if err != nil {
				t.Fatal(err)
			}
			*alarm.MetricName = "BreakerOpen"
		}, "JourneyRelay breaker_open"},
		{"no redrive", "redrive", func(t *testing.T, tpl *Template) {
			queue(t, tpl, "Queue").RedrivePolicy = nil
		}, "deadLetterTargetArn"},
		{"short dead-letter retention", "redrive", func(t *testing.T, tpl *Template) {
			*queue(t, tpl, "DeadLetterQueue").MessageRetentionPeriod = 345600
		}, "MessageRetentionPeriod: got 345600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := loadT(t)
			tt.mutate(t, tpl)

			err := checks[tt.check](tpl)
			if err == nil {
				t.Fatalf("check %q passed the mutated template, want an error", tt.check)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadResolvesSecretCondition(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay/app-keys-AbCdEf"
	tpl, err := Load(templatePath, map[string]any{"AppKeysSecretArn": arn})
	if err != nil {
		t.Fatal(err)
	}
	got := function(t, tpl, "IngestFunction").Environment.Variables["APP_KEYS_SECRET_ID"]
	if got != arn {
		t.Errorf("APP_KEYS_SECRET_ID: got %q, want %q", got, arn)
	}
	if err := CheckPolicies(tpl, minimalGrants); err == nil || !strings.Contains(err.Error(), arn) {
		t.Errorf("CheckPolicies: got %v, want an error naming the granted secret %s", err, arn)
	}
}

func TestParseContract(t *testing.T) {
	contract := contractT(t)
	tests := []struct {
		function, variable string
		required           bool
	}{
		{"ingest", "QUEUE_URL", true},
		{"ingest", "SKEW_DEAD_BAND", false},
		{"flush", "DEAD_LETTER_QUEUE_URL", true},
		{"flush", "TOKEN_FUNCTION_NAME", true},
		{"flush", "GENESYS_EXTERNAL_CONFIGURATION_ID", false},
		{"token", "GENESYS_SECRET_ID", true},
		{"token", "SECRET_MAX_STALE", false},
	}
	for _, tt := range tests {
		t.Run(tt.function+" "+tt.variable, func(t *testing.T) {
			required, ok := contract[tt.function][tt.variable]
			if !ok {
				t.Fatalf("variable %s of %s not found", tt.variable, tt.function)
			}
			if required != tt.required {
				t.Errorf("required: got %v, want %v", required, tt.required)
			}
		})
	}
}

func TestParseContractWithoutTable(t *testing.T) {
	if _, err := ParseContract([]byte("# Contracts\n\nNo variables here.\n")); err == nil {
		t.Error("got no error, want one for a document without the variable table")
	}
}

func TestFlushSettings(t *testing.T) {
	got, err := loadT(t).FlushSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := FlushSettings{
		Timeout:           60 * time.Second,
		BatchSize:         100,
		BatchingWindow:    time.Second,
		MaxConcurrency:    2,
		VisibilityTimeout: 6 * time.Minute,
		MaxReceiveCount:   30,
		MaxMessageBytes:   1 << 20,
		Schedule:          time.Minute,
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		expression string
		want       time.Duration
		wantErr    bool
	}{
		{"rate(1 minute)", time.Minute, false},
		{"rate(5 minutes)", 5 * time.Minute, false},
		{"rate(2 hours)", 2 * time.Hour, false},
		{"rate(1 day)", 24 * time.Hour, false},
		{"cron(0 * * * ? *)", 0, true},
		{"rate(1 second)", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.expression, func(t *testing.T) {
			got, err := parseRate(tt.expression)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTableCapacityModes(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		wantErr   string // empty when the template must pass
	}{
		{name: "on-demand by default"},
		{name: "provisioned with the default capacity",
			overrides: map[string]any{"TableBillingMode": "PROVISIONED"}},
		{name: "provisioned under two writes per event",
			overrides: map[string]any{"TableBillingMode": "PROVISIONED", "TableWriteCapacity": 150},
			wantErr:   "WriteCapacityUnits: got 150, want at least 200"},
		{name: "provisioned capacity follows the budget",
			overrides: map[string]any{"TableBillingMode": "PROVISIONED", "GenesysEventsPerSecond": "200"},
			wantErr:   "WriteCapacityUnits: got 250, want at least 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Load(templatePath, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}

			err = CheckTable(tpl)

			if tt.wantErr == "" && err != nil {
				t.Errorf("CheckTable: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckTable: got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTableProvisionedThroughput(t *testing.T) {
	onDemand := loadT(t)
	provisioned, err := Load(templatePath, map[string]any{"TableBillingMode": "PROVISIONED"})
	if err != nil {
		t.Fatal(err)
	}

	if got := table(t, onDemand).ProvisionedThroughput; got != nil {
		t.Errorf("on-demand ProvisionedThroughput: got %+v, want none", got)
	}
	got := table(t, provisioned).ProvisionedThroughput
	if got == nil {
		t.Fatal("provisioned ProvisionedThroughput: got none")
	}
	if got.WriteCapacityUnits != 250 || got.ReadCapacityUnits != 25 {
		t.Errorf("provisioned capacity: got %d write and %d read units, want 250 and 25",
			got.WriteCapacityUnits, got.ReadCapacityUnits)
	}
}
