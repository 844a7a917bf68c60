package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Invoker is the one Lambda call Client makes. *lambda.Client implements it.
type Invoker interface {
	Invoke(ctx context.Context, params *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Request is the token function's invocation payload.
type Request struct {
	// ForceRefresh requests a new token when RejectedTokenSHA256 is the
	// function's cached token.
	ForceRefresh        bool   `json:"force_refresh"`
	RejectedTokenSHA256 string `json:"rejected_token_sha256"`
}

// Response is the token function's result.
type Response struct {
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at"` // RFC 3339
}

// ClientOptions configures a Client. Zero fields take the defaults listed on each field.
type ClientOptions struct {
	// RefreshMargin is how long before its expiry a token is replaced. Default DefaultRefreshMargin.
	RefreshMargin time.Duration

	// FailureCooldown is how long a cached token is served after a failed
	// invocation before the next one. Default DefaultFailureCooldown.
	FailureCooldown time.Duration

	// InvokeTimeout bounds one invocation of the token function when the
	// caller's context has no earlier deadline. Default 15s.
	InvokeTimeout time.Duration

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives fetches and stale serving. Default: discard.
	Logger *slog.Logger
}

// Client obtains access tokens from the token function and caches them in
// the calling process. It is safe for concurrent use.
type Client struct {
	invoker  Invoker
	function string
	cache    *cache
}

// NewClient returns a Client that invokes the Lambda function named function.
func NewClient(invoker Invoker, function string, opts ClientOptions) *Client {
	opts = opts.withDefaults()
	c := &Client{invoker: invoker, function: function}
	c.cache = &cache{
		fetch:        c.invoke,
		margin:       opts.RefreshMargin,
		cooldown:     opts.FailureCooldown,
		fetchTimeout: opts.InvokeTimeout,
		now:          opts.Now,
		logger:       opts.Logger,
		metrics:      discardCounter{},
	}
	return c
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.RefreshMargin <= 0 {
		o.RefreshMargin = DefaultRefreshMargin
	}
	if o.FailureCooldown <= 0 {
		o.FailureCooldown = DefaultFailureCooldown
	}
	if o.InvokeTimeout <= 0 {
		o.InvokeTimeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Token returns the access token to send to Genesys.
func (c *Client) Token(ctx context.Context) (string, error) {
	tok, err := c.cache.get(ctx)
	return tok.Value, err
}

// Refresh returns a token other than rejected, the token Genesys returned 401 for.
// Only while rejected is still the cached token does it invoke the token
// function with force_refresh, so concurrent reports of one token cause one
// invocation.
func (c *Client) Refresh(ctx context.Context, rejected string) (string, error) {
	c.cache.reject(ctx, SHA256(rejected))
	tok, err := c.cache.get(ctx)
	return tok.Value, err
}

func (c *Client) invoke(ctx context.Context, rejectedSHA256 string) (Token, error) {
	payload, err := json.Marshal(Request{
		ForceRefresh:        rejectedSHA256 != "",
		RejectedTokenSHA256: rejectedSHA256,
	})
	if err != nil {
		return Token{}, fmt.Errorf("invoke token function %s: %w", c.function, err)
	}
	out, err := c.invoker.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(c.function),
		Payload:      payload,
	})
	if err != nil {
		return Token{}, fmt.Errorf("invoke token function %s: %w", c.function, err)
	}
	if out.FunctionError != nil {
		// The payload holds the function's error message, which is left out
		// here so that nothing it quotes reaches the caller's logs.
		return Token{}, fmt.Errorf("invoke token function %s: function error (%s); see the function's logs",
			c.function, aws.ToString(out.FunctionError))
	}
	return c.decode(out.Payload)
}

func (c *Client) decode(payload []byte) (Token, error) {
	var resp Response
	if err := json.Unmarshal(payload, &resp); err != nil {
		return Token{}, fmt.Errorf("decode token function %s response: invalid JSON", c.function)
	}
	if resp.AccessToken == "" {
		return Token{}, fmt.Errorf("decode token function %s response: access_token is missing", c.function)
	}
	expiresAt, err := time.Parse(time.RFC3339, resp.ExpiresAt)
	if err != nil {
		return Token{}, fmt.Errorf("decode token function %s response: expires_at %q is not an RFC 3339 time",
			c.function, resp.ExpiresAt)
	}
	if !expiresAt.After(c.cache.now()) {
		return Token{}, fmt.Errorf("decode token function %s response: %w", c.function, errExpired)
	}
	return Token{Value: resp.AccessToken, ExpiresAt: expiresAt}, nil
}

var errExpired = errors.New("the token has already expired")
