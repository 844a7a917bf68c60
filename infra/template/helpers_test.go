package template

import (
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/cloudformation/sqs"
)

func function(t *testing.T, tpl *Template, id string) *serverless.Function {
	t.Helper()
	fn, err := tpl.GetServerlessFunctionWithName(id)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func queue(t *testing.T, tpl *Template, id string) *sqs.Queue {
	t.Helper()
	q, err := tpl.GetSQSQueueWithName(id)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func table(t *testing.T, tpl *Template) *dynamodb.Table {
	t.Helper()
	table, err := tpl.GetDynamoDBTableWithName("Table")
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// sqsEvent returns the raw properties of flush's SQS event source.
func sqsEvent(t *testing.T, tpl *Template) map[string]any {
	t.Helper()
	properties, ok := tpl.rawProperty("FlushFunction", "Events", "Queue", "Properties").(map[string]any)
	if !ok {
		t.Fatal("FlushFunction has no event named Queue")
	}
	return properties
}

// addStatement appends an Allow statement to the first inline policy of a role.
func addStatement(t *testing.T, tpl *Template, role, action, resource string) {
	t.Helper()
	r, err := tpl.GetIAMRoleWithName(role)
	if err != nil {
		t.Fatal(err)
	}
	document := r.Policies[0].PolicyDocument.(map[string]any)
	document["Statement"] = append(document["Statement"].([]any),
		map[string]any{"Effect": "Allow", "Action": action, "Resource": resource})
}
