package token

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// DefaultRefreshMargin is how long before its expiry a cached token is
// replaced. The Genesys Go SDK uses the same margin for client-credentials tokens.
const DefaultRefreshMargin = 60 * time.Second

// DefaultFailureCooldown is how long a token is served from the cache after a
// failed refresh before the next refresh is attempted.
const DefaultFailureCooldown = 5 * time.Second

// Names of the counters that Issuer adds to its Counter.
const (
	MetricTokenFetches       = "token_fetches"        // tokens obtained from the token endpoint
	MetricTokenFetchFailures = "token_fetch_failures" // refreshes that failed after every retry
	MetricStaleServed        = "stale_served"         // cached tokens served because a refresh failed
)

// Token is an access token and the time it expires.
// Its String and LogValue methods leave the value out, so printing a Token
// with %v or %s, or logging it with slog, does not reveal it.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// SHA256 returns the hex SHA-256 of the token's value: the form in which
// callers report a rejected token to the token function.
func (t Token) SHA256() string {
	return SHA256(t.Value)
}

// String returns a redacted description that identifies the token without revealing it.
func (t Token) String() string {
	return "token " + shortID(t.Value) + " expiring " + t.ExpiresAt.UTC().Format(time.RFC3339)
}

// LogValue returns the token's short id and expiry for slog.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", shortID(t.Value)),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// SHA256 returns the hex SHA-256 of an access token.
func SHA256(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// shortID returns the first 8 hex digits of the token's SHA-256, enough to
// match log lines of the token and flush functions without revealing the token.
func shortID(value string) string {
	return SHA256(value)[:8]
}

// Counter receives the Issuer's metrics. *telemetry.Recorder implements it.
type Counter interface {
	Add(name string, n float64)
}

type discardCounter struct{}

func (discardCounter) Add(string, float64) {}
