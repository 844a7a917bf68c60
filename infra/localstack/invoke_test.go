package localstack

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/journeyrelay/relay/infra/awslocal"
)

// lambdaClient returns an AWS SDK Lambda client that sends to the router.
func lambdaClient(t *testing.T, router *InvokeRouter) *lambda.Client {
	t.Helper()
	server := httptest.NewServer(router.Handler())
	t.Cleanup(server.Close)
	cfg, err := awslocal.ClientConfig(context.Background(), server.URL)
	if err != nil {
		t.Fatal(err)
	}
	return lambda.NewFromConfig(cfg)
}

func TestInvokeRouterRoutesByName(t *testing.T) {
	token := &fakeFunction{output: []byte(`{"access_token":"t"}`)}
	other := &fakeFunction{output: []byte(`{}`)}
	router := &InvokeRouter{}
	router.Register("token", token)
	router.Register("other", other)
	client := lambdaClient(t, router)

	names := []string{
		"token",
		"token:live",
		"123456789012:function:token",
		"arn:aws:lambda:us-east-1:123456789012:function:token",
		"arn:aws:lambda:us-east-1:123456789012:function:token:$LATEST",
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
				FunctionName: aws.String(name),
				Payload:      []byte(`{"force_refresh":false}`),
			})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if got := string(out.Payload); got != `{"access_token":"t"}` {
				t.Errorf("payload: got %s, want the token function's output", got)
			}
			if out.FunctionError != nil {
				t.Errorf("FunctionError: got %q, want none", *out.FunctionError)
			}
		})
	}
	if got := len(token.calls()); got != len(names) {
		t.Errorf("token invocations: got %d, want %d", got, len(names))
	}
	if got := len(other.calls()); got != 0 {
		t.Errorf("other invocations: got %d, want 0", got)
	}
}

func TestInvokeRouterReportsFunctionError(t *testing.T) {
	router := &InvokeRouter{}
	router.Register("token", NewPool("token", startEcho(t)))
	client := lambdaClient(t, router)

	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String("token"),
		Payload:      []byte(`{"fail":true}`),
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if got := aws.ToString(out.FunctionError); got != "Unhandled" {
		t.Errorf("FunctionError: got %q, want Unhandled", got)
	}
	if got := string(out.Payload); got != `{"errorMessage":"failed on request","errorType":"errorString"}` {
		t.Errorf("payload: got %s, want the runtime's error document", got)
	}
}

func TestInvokeRouterUnknownFunction(t *testing.T) {
	client := lambdaClient(t, &InvokeRouter{})

	_, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("missing")})

	var notFound *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("error: got %v, want ResourceNotFoundException", err)
	}
}

func TestInvokeRouterEventInvocation(t *testing.T) {
	fn := &fakeFunction{output: []byte(`{}`)}
	router := &InvokeRouter{}
	router.Register("flush", fn)
	client := lambdaClient(t, router)

	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName:   aws.String("flush"),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        []byte(`{"a":1}`),
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	router.Wait()

	if out.StatusCode != 202 {
		t.Errorf("status: got %d, want 202", out.StatusCode)
	}
	if calls := fn.calls(); len(calls) != 1 || string(calls[0]) != `{"a":1}` {
		t.Errorf("invocations: got %q, want one with the payload", calls)
	}
}

func TestFunctionName(t *testing.T) {
	tests := map[string]string{
		"flush":                       "flush",
		"flush:prod":                  "flush",
		"123456789012:function:flush": "flush",
		"arn:aws:lambda:eu-west-1:1:function:flush:7": "flush",
	}
	for input, want := range tests {
		if got := functionName(input); got != want {
			t.Errorf("functionName(%q): got %q, want %q", input, got, want)
		}
	}
}
