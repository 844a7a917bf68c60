package localstack

import (
	"context"
	"encoding/json"
	"fmt"
)

// FunctionError is an error a function returned instead of a result, in the
// JSON form the Lambda runtime reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	Payload []byte `json:"-"` // the error document as the runtime sent it
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// asFunctionError returns the function error that output describes, or nil.
// The runtime interface emulator returns a function error with status 200,
// like a result, so an object whose keys are errorType, errorMessage and
// optionally stackTrace is taken for one.
//
// NOTE: a function whose result has exactly those keys is misread as failed.
func asFunctionError(output []byte) *FunctionError {
	var fields map[string]json.RawMessage
	if json.Unmarshal(output, &fields) != nil || fields["errorType"] == nil || fields["errorMessage"] == nil {
		return nil
	}
	for name := range fields {
		if name != "errorType" && name != "errorMessage" && name != "stackTrace" {
			return nil
		}
	}
	fe := &FunctionError{Payload: output}
	_ = json.Unmarshal(output, fe)
	return fe
}

// Pool runs invocations of one function on several instances, each running
// one invocation at a time as a Lambda execution environment does. An
// invocation waits for a free instance, so the pool size is the function's
// concurrency.
type Pool struct {
	Name string
	free chan Invoker
}

// NewPool returns a pool of the given instances of the function name.
func NewPool(name string, instances ...Invoker) *Pool {
	p := &Pool{Name: name, free: make(chan Invoker, len(instances))}
	for _, instance := range instances {
		p.free <- instance
	}
	return p
}

// Invoke runs payload on a free instance. It returns a *FunctionError when
// the function returned an error.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var instance Invoker
	select {
	case instance = <-p.free:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: no free instance: %w", p.Name, ctx.Err())
	}
	defer func() { p.free <- instance }()

	output, err := instance.Invoke(ctx, payload)
	if err != nil {
		return output, fmt.Errorf("invoke %s: %w", p.Name, err)
	}
	if fe := asFunctionError(output); fe != nil {
		return output, fe
	}
	return output, nil
}
