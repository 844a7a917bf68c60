package token

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// SecretSource returns the Genesys client secret's JSON. *secrets.Cache
// implements it, with its own caching and serving of stale values.
type SecretSource interface {
	Get(ctx context.Context) (string, error)
}

// IssuerOptions configures an Issuer. Zero fields take the defaults listed on each field.
type IssuerOptions struct {
	// RefreshMargin is how long before its expiry a token is replaced
	// (TOKEN_REFRESH_MARGIN). Default DefaultRefreshMargin.
	RefreshMargin time.Duration

	// FailureCooldown is how long a cached token is served after a failed
	// refresh before the next attempt. Default DefaultFailureCooldown.
	FailureCooldown time.Duration

	// HTTPClient sends the token requests. Default: a client with a 5s timeout.
	HTTPClient *http.Client

	// Retry bounds the retries of one fetch.
	Retry RetryOptions

	// Now is the clock. Default time.Now.
	Now func() time.Time

	// Logger receives fetches, retries and stale serving. Default: discard.
	Logger *slog.Logger

	// Metrics receives the counters named by the Metric constants. Default: discard.
	Metrics Counter
}

// Issuer obtains access tokens from the Genesys login host by the
// client-credentials grant and caches them. It is safe for concurrent use.
type Issuer struct {
	source  SecretSource
	client  *http.Client
	retry   RetryOptions
	now     func() time.Time
	logger  *slog.Logger
	metrics Counter
	cache   *cache
}

// NewIssuer returns an Issuer that reads the OAuth client from source on each fetch.
func NewIssuer(source SecretSource, opts IssuerOptions) *Issuer {
	opts = opts.withDefaults()
	i := &Issuer{
		source:  source,
		client:  opts.HTTPClient,
		retry:   opts.Retry,
		now:     opts.Now,
		logger:  opts.Logger,
		metrics: opts.Metrics,
	}
	i.cache = &cache{
		margin:       opts.RefreshMargin,
		cooldown:     opts.FailureCooldown,
		fetchTimeout: opts.Retry.MaxWait + time.Duration(opts.Retry.MaxAttempts)*opts.HTTPClient.Timeout,
		now:          opts.Now,
		logger:       opts.Logger,
		metrics:      opts.Metrics,
	}
	i.cache.fetch = func(ctx context.Context, _ string) (Token, error) {
		return i.fetch(ctx)
	}
	return i
}

func (o IssuerOptions) withDefaults() IssuerOptions {
	if o.RefreshMargin <= 0 {
		o.RefreshMargin = DefaultRefreshMargin
	}
	if o.FailureCooldown <= 0 {
		o.FailureCooldown = DefaultFailureCooldown
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = discardCounter{}
	}
	o.Retry = o.Retry.withDefaults()
	return o
}

// Current returns the cached token, fetching a new one when the cache is
// empty or within the refresh margin of the token's expiry. When that fetch
// fails, it serves the cached token until the token expires.
func (i *Issuer) Current(ctx context.Context) (Token, error) {
	return i.cache.get(ctx)
}

// RefreshRejected fetches a new token when the cached token's SHA-256 is
// rejectedSHA256 and returns the cached token otherwise, so that any number
// of reports of one rejected token cause one fetch. A rejected token is never
// served again.
func (i *Issuer) RefreshRejected(ctx context.Context, rejectedSHA256 string) (Token, error) {
	i.cache.reject(ctx, rejectedSHA256)
	return i.cache.get(ctx)
}

// Token returns the access token to send to Genesys.
func (i *Issuer) Token(ctx context.Context) (string, error) {
	tok, err := i.Current(ctx)
	return tok.Value, err
}

// Refresh returns a token other than rejected, fetching one only when
// rejected is still the cached token.
func (i *Issuer) Refresh(ctx context.Context, rejected string) (string, error) {
	tok, err := i.RefreshRejected(ctx, SHA256(rejected))
	return tok.Value, err
}

// fetch obtains a new token and counts the outcome.
func (i *Issuer) fetch(ctx context.Context) (Token, error) {
	tok, err := i.fetchToken(ctx)
	if err != nil {
		i.metrics.Add(MetricTokenFetchFailures, 1)
		i.logger.ErrorContext(ctx, "fetch access token failed", "error", err)
		return Token{}, err
	}
	i.metrics.Add(MetricTokenFetches, 1)
	return tok, nil
}

// fetchToken reads the OAuth client from the secret and requests a token, with retries.
func (i *Issuer) fetchToken(ctx context.Context) (Token, error) {
	secret, err := i.source.Get(ctx)
	if err != nil {
		return Token{}, fmt.Errorf("read Genesys client secret: %w", err)
	}
	creds, err := ParseCredentials(secret)
	if err != nil {
		return Token{}, err
	}
	tok, err := i.requestWithRetry(ctx, creds)
	if err != nil {
		return Token{}, fmt.Errorf("fetch token for client %s: %w", creds.ClientID, err)
	}
	return tok, nil
}
