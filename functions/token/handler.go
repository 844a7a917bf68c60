package main

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

// issuer is the part of *token.Issuer that the handler calls.
type issuer interface {
	Current(ctx context.Context) (token.Token, error)
	RefreshRejected(ctx context.Context, rejectedSHA256 string) (token.Token, error)
}

var _ issuer = (*token.Issuer)(nil)

// handler translates the token protocol's request and response to Issuer calls.
type handler struct {
	issuer  issuer
	metrics *telemetry.Recorder
	log     *slog.Logger
}

// returnReserve is the part of an invocation's time kept back from fetching,
// so that the handler can still return a cached token or an error before Lambda
// ends the invocation.
const returnReserve = 500 * time.Millisecond

func (h handler) Handle(ctx context.Context, req token.Request) (token.Response, error) {
	defer h.metrics.Flush()
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-returnReserve))
		defer cancel()
	}
	if err := validate(req); err != nil {
		h.log.WarnContext(ctx, "invalid token request", "error", err)
		return token.Response{}, err
	}

	var tok token.Token
	var err error
	if req.ForceRefresh {
		tok, err = h.issuer.RefreshRejected(ctx, req.RejectedTokenSHA256)
	} else {
		tok, err = h.issuer.Current(ctx)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "get access token failed", "error", err, "force_refresh", req.ForceRefresh)
		return token.Response{}, &TokenUnavailableError{err: err}
	}
	return token.Response{AccessToken: tok.Value, ExpiresAt: tok.ExpiresAt.UTC().Format(time.RFC3339)}, nil
}

func validate(req token.Request) error {
	if !req.ForceRefresh {
		return nil
	}
	digest, err := hex.DecodeString(req.RejectedTokenSHA256)
	if err != nil || len(digest) != 32 {
		return &InvalidRequestError{reason: "force_refresh needs rejected_token_sha256, the hex SHA-256 of the rejected token"}
	}
	return nil
}
