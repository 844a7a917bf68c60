package token

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// fetchFunc obtains a new token. rejectedSHA256 is the SHA-256 of the cached
// token when a caller reported it rejected, else "".
type fetchFunc func(ctx context.Context, rejectedSHA256 string) (Token, error)

// cache holds one token and replaces it through fetch, one fetch at a time.
// Issuer and Client are built on it.
type cache struct {
	fetch        fetchFunc
	margin       time.Duration
	cooldown     time.Duration
	fetchTimeout time.Duration
	now          func() time.Time
	logger       *slog.Logger
	metrics      Counter

	group singleflight.Group

	mu      sync.Mutex
	current *entry
}

type entry struct {
	token     Token
	sha256    string
	refreshAt time.Time // when the next caller starts a fetch; never after token.ExpiresAt
	rejected  bool      // a caller reported that Genesys returned 401 for this token
}

// get returns the cached token, or waits for a fetch when the cache is empty,
// due for a refresh or contains a rejected token.
func (c *cache) get(ctx context.Context) (Token, error) {
	if tok, ok := c.fresh(); ok {
		return tok, nil
	}
	if err := ctx.Err(); err != nil {
		return Token{}, fmt.Errorf("get token: %w", err)
	}
	result := c.group.DoChan("token", func() (any, error) {
		return c.refresh(ctx)
	})
	select {
	case r := <-result:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, fmt.Errorf("wait for token: %w", ctx.Err())
	}
}

// reject marks the cached token as rejected when its SHA-256 is rejectedSHA256,
// so that the next get fetches a new one. A token already replaced is left alone.
func (c *cache) reject(ctx context.Context, rejectedSHA256 string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil || c.current.sha256 != rejectedSHA256 || c.current.rejected {
		return
	}
	c.current.rejected = true
	c.logger.InfoContext(ctx, "access token rejected by Genesys; fetching a new one", "token", c.current.token)
}

func (c *cache) fresh() (Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.current
	if e == nil || e.rejected || !c.now().Before(e.refreshAt) {
		return Token{}, false
	}
	return e.token, true
}

// refresh runs inside the single flight. It fetches with a context detached
// from the first caller's cancellation, because later callers share the
// result, but it keeps that caller's deadline, such as the end of a Lambda
// invocation, when it comes before fetchTimeout.
func (c *cache) refresh(callerCtx context.Context) (Token, error) {
	if tok, ok := c.fresh(); ok {
		return tok, nil // a flight that ended just before this one replaced the token
	}
	deadline := time.Now().Add(c.fetchTimeout)
	if callerDeadline, ok := callerCtx.Deadline(); ok && callerDeadline.Before(deadline) {
		deadline = callerDeadline
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(callerCtx), deadline)
	defer cancel()

	previous := c.snapshot()
	rejected := ""
	if previous != nil && previous.rejected {
		rejected = previous.sha256
	}
	tok, err := c.fetch(ctx, rejected)
	if err == nil {
		c.store(tok)
		c.logger.InfoContext(ctx, "fetched access token", "token", tok)
		return tok, nil
	}

	if stale, ok := c.serveStale(previous); ok {
		c.metrics.Add(MetricStaleServed, 1)
		c.logger.WarnContext(ctx, "token refresh failed; serving the cached token until its expiry",
			"error", err, "token", stale, "retry_in", c.cooldown)
		return stale, nil
	}
	return Token{}, err
}

func (c *cache) snapshot() *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil {
		return nil
	}
	copied := *c.current
	return &copied
}

func (c *cache) store(tok Token) {
	now := c.now()
	refreshAt := tok.ExpiresAt.Add(-c.margin)
	if !refreshAt.After(now) {
		// A token that arrives inside the margin, such as one the token function
		// served from its cache during an outage, is used for a cooldown.
		refreshAt = minTime(now.Add(c.cooldown), tok.ExpiresAt)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = &entry{token: tok, sha256: tok.SHA256(), refreshAt: refreshAt}
}

// serveStale returns the previous token when it is neither rejected nor
// expired, and holds off the next fetch for the cooldown.
func (c *cache) serveStale(previous *entry) (Token, bool) {
	now := c.now()
	if previous == nil || previous.rejected || !now.Before(previous.token.ExpiresAt) {
		return Token{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil || c.current.sha256 != previous.sha256 || c.current.rejected {
		return Token{}, false
	}
	c.current.refreshAt = minTime(now.Add(c.cooldown), previous.token.ExpiresAt)
	return c.current.token, true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
