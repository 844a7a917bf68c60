// Package secrets caches a Secrets Manager secret in memory.
//
// A Lambda execution environment fetches each secret once per TTL, however
// many invocations request it at the same time. When a refresh fails
// (throttling, an outage) it keeps serving the last good value for up to
// MaxStale, so a short Secrets Manager problem does not fail requests.
// Secret values never appear in errors or logs.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/sync/singleflight"
)

// Getter is the Secrets Manager call the cache makes.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
		optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ Getter = (*secretsmanager.Client)(nil)

// Options tunes a Cache. Zero values take the defaults.
type Options struct {
	TTL      time.Duration    // how long a fetched value is used before a refresh; default 5m
	MaxStale time.Duration    // how long past TTL the last value is served while refreshes fail; default 1h
	Now      func() time.Time // clock; default time.Now
	Logger   *slog.Logger     // logger of failed refreshes; default slog.Default()
}

// Cache holds one secret's value.
type Cache struct {
	client   Getter
	secretID string
	opts     Options
	group    singleflight.Group

	mu        sync.Mutex
	value     string
	fetchedAt time.Time
	staleHits int
}

// NewCache returns a Cache for secretID, which may be a name or an ARN.
func NewCache(client Getter, secretID string, opts Options) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.MaxStale <= 0 {
		opts.MaxStale = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Cache{client: client, secretID: secretID, opts: opts}
}

// ErrEmpty is returned when the secret has no SecretString (a binary secret or an empty one).
var ErrEmpty = errors.New("secret has no string value")

// Get returns the secret's string value, fetching it when the cached value is
// older than TTL. When the fetch fails and the cached value is younger than
// TTL+MaxStale, Get logs the failure and returns the cached value.
func (c *Cache) Get(ctx context.Context) (string, error) {
	now := c.opts.Now()
	c.mu.Lock()
	value, fetchedAt := c.value, c.fetchedAt
	c.mu.Unlock()
	if !fetchedAt.IsZero() && now.Sub(fetchedAt) < c.opts.TTL {
		return value, nil
	}

	// One fetch for every caller that finds the value expired at the same time.
	fresh, err, _ := c.group.Do("get", func() (any, error) {
		return c.fetch(context.WithoutCancel(ctx))
	})
	if err == nil {
		return fresh.(string), nil
	}
	if !fetchedAt.IsZero() && now.Sub(fetchedAt) < c.opts.TTL+c.opts.MaxStale {
		c.mu.Lock()
		c.staleHits++
		c.mu.Unlock()
		c.opts.Logger.WarnContext(ctx, "secret refresh failed; serving the last good value",
			"secret_id", c.secretID, "age", now.Sub(fetchedAt).Round(time.Second).String(), "error", err)
		return value, nil
	}
	return "", err
}

// StaleServed returns how many times Get has served a value past its TTL.
func (c *Cache) StaleServed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.staleHits
}

func (c *Cache) fetch(ctx context.Context) (string, error) {
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.secretID)})
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", c.secretID, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("get secret %s: %w", c.secretID, ErrEmpty)
	}
	c.mu.Lock()
	c.value, c.fetchedAt = *out.SecretString, c.opts.Now()
	c.mu.Unlock()
	return *out.SecretString, nil
}
