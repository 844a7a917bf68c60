package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// maxInvokePayload is Lambda's 6 MB limit on a synchronous request payload.
const maxInvokePayload = 6 << 20

// InvokeRouter serves the Lambda Invoke API,
// POST /2015-03-31/functions/{name}/invocations, and routes each call by
// function name. An AWS SDK Lambda client pointed at it through
// AWS_ENDPOINT_URL_LAMBDA invokes the local functions as it would in AWS.
type InvokeRouter struct {
	Logger *slog.Logger

	mu        sync.RWMutex
	functions map[string]Invoker
	async     sync.WaitGroup
}

// Register routes calls for name, or for an ARN whose function name is name, to fn.
func (r *InvokeRouter) Register(name string, fn Invoker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.functions == nil {
		r.functions = map[string]Invoker{}
	}
	r.functions[name] = fn
}

// Handler returns the HTTP handler of the Invoke API.
func (r *InvokeRouter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", r.invoke)
	return mux
}

// Wait blocks until every asynchronous (Event) invocation has finished.
func (r *InvokeRouter) Wait() {
	r.async.Wait()
}

func (r *InvokeRouter) invoke(w http.ResponseWriter, req *http.Request) {
	name := functionName(req.PathValue("name"))
	r.mu.RLock()
	fn := r.functions[name]
	r.mu.RUnlock()
	if fn == nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}

	payload, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxInvokePayload))
	if err != nil {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			"Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}

	switch req.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		r.async.Add(1)
		go func() {
			defer r.async.Done()
			if _, err := fn.Invoke(context.WithoutCancel(req.Context()), payload); err != nil {
				r.logger().Error("asynchronous invocation failed", "function", name, "error", err)
			}
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}

	output, err := fn.Invoke(req.Context(), payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		output = fe.Payload
	case err != nil:
		r.logger().ErrorContext(req.Context(), "invocation failed", "function", name, "error", err)
		lambdaError(w, http.StatusBadGateway, "ServiceException", "the function did not respond: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(output)
}

func (r *InvokeRouter) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// functionName returns the function name of a name, a partial ARN
// (123456789012:function:name) or a full ARN, without a version or alias qualifier.
func functionName(value string) string {
	if _, after, ok := strings.Cut(value, "function:"); ok {
		value = after
	}
	name, _, _ := strings.Cut(value, ":")
	return name
}

// lambdaError writes an error as the Lambda API does, with its type in the
// X-Amzn-Errortype header that the AWS SDK reads.
func lambdaError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", errorType)
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"Type\":\"User\",\"message\":%q}\n", message)
}
