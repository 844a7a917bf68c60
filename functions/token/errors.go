package main

import (
	"context"
	"fmt"

	"github.com/journeyrelay/relay/shared/token"
)

// InvalidRequestError is a request that breaks the token protocol. Lambda
// reports the type name as the function error's errorType.
type InvalidRequestError struct{ reason string }

func (e *InvalidRequestError) Error() string { return "invalid token request: " + e.reason }

// TokenUnavailableError is a failure to obtain a token.
type TokenUnavailableError struct{ err error }

func (e *TokenUnavailableError) Error() string { return "token unavailable: " + e.err.Error() }
func (e *TokenUnavailableError) Unwrap() error { return e.err }

// MisconfiguredError is the error of every invocation while the environment is invalid.
type MisconfiguredError struct{ err error }

func (e *MisconfiguredError) Error() string {
	return fmt.Sprintf("token function misconfigured: %v", e.err)
}

// misconfigured fails every invocation while the function's environment is
// invalid, so that a bad deployment shows up as function errors naming the
// variables rather than as a crash loop.
type misconfigured struct{ err error }

func (m misconfigured) Handle(context.Context, token.Request) (token.Response, error) {
	return token.Response{}, &MisconfiguredError{err: m.err}
}
