package token

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/secrets"
)

// throttlingGetter passes calls to Secrets Manager, but returns a
// ThrottlingException while throttled is set.
type throttlingGetter struct {
	next      secrets.Getter
	throttled atomic.Bool
	calls     atomic.Int32
	failures  atomic.Int32
}

func (g *throttlingGetter) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
	optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls.Add(1)
	if g.throttled.Load() {
		g.failures.Add(1)
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}
	}
	return g.next.GetSecretValue(ctx, in, optFns...)
}

// stack is an Issuer reading its client from the AWS emulator's Secrets
// Manager and requesting tokens from the Genesys simulator.
type stack struct {
	issuer  *Issuer
	sim     *genesyssim.Server
	getter  *throttlingGetter
	secrets *secrets.Cache
	clock   *fakeClock
	metrics *countingMetrics
}

func startStack(t *testing.T, lifetime time.Duration) *stack {
	t.Helper()
	emu, res := awslocal.StartT(t)
	sim, simURL := genesyssim.Start(t, genesyssim.Config{
		Seed:          1,
		Clients:       []genesyssim.Client{{ID: "relay-client", Secret: testClientSecret}},
		TokenLifetime: lifetime,
	})
	err := awslocal.PutSecret(context.Background(), emu.Config, res.GenesysSecret, map[string]string{
		"client_id": "relay-client", "client_secret": testClientSecret, "login_base_url": simURL,
	})
	if err != nil {
		t.Fatal(err)
	}

	s := &stack{
		sim:     sim,
		getter:  &throttlingGetter{next: secretsmanager.NewFromConfig(emu.Config)},
		clock:   newFakeClock(),
		metrics: &countingMetrics{},
	}
	s.secrets = secrets.NewCache(s.getter, res.GenesysSecret, secrets.Options{
		TTL: 5 * time.Minute, MaxStale: time.Hour, Now: s.clock.Now, Logger: slog.New(slog.DiscardHandler),
	})
	s.issuer = NewIssuer(s.secrets, IssuerOptions{
		Now:     s.clock.Now,
		Metrics: s.metrics,
		Retry:   RetryOptions{BaseDelay: time.Millisecond, Jitter: time.Millisecond},
	})
	return s
}

func (s *stack) tokenRequests(status string) int64 {
	return s.sim.Stats().Requests[genesyssim.EndpointToken][status]
}

func TestIssuerServesLastGoodValuesAgainstEmulators(t *testing.T) {
	s := startStack(t, 10*time.Minute)
	first := mustCurrent(t, s.issuer)

	var second Token
	t.Run("secret throttling serves the last good secret", func(t *testing.T) {
		s.getter.throttled.Store(true)
		s.clock.Advance(9*time.Minute + 30*time.Second) // past the secret's TTL, inside the margin

		tok := mustCurrent(t, s.issuer)

		if tok.Value == first.Value {
			t.Errorf("token = %s, want a new one", tok)
		}
		second = tok
		if got := s.getter.failures.Load(); got != 1 {
			t.Errorf("throttled GetSecretValue calls = %d, want 1", got)
		}
		if got := s.secrets.StaleServed(); got != 1 {
			t.Errorf("secret served stale %d times, want 1", got)
		}
		if got := s.sim.Stats().TokensIssued; got != 2 {
			t.Errorf("tokens issued = %d, want 2", got)
		}
	})

	t.Run("token endpoint outage serves the cached token", func(t *testing.T) {
		s.getter.throttled.Store(false)
		s.sim.SetFaults(genesyssim.Faults{TokenFailure: &genesyssim.TokenFailure{Status: 503}})
		s.clock.Advance(9*time.Minute + 30*time.Second)

		tok := mustCurrent(t, s.issuer)

		if tok.Value != second.Value {
			t.Errorf("token = %s, want the cached %s", tok, second)
		}
		if got := s.tokenRequests("503"); got != 4 {
			t.Errorf("token requests answered 503 = %d, want 4 (every attempt)", got)
		}
		if got := s.metrics.Total(MetricStaleServed); got != 1 {
			t.Errorf("%s = %v, want 1", MetricStaleServed, got)
		}
	})
}

func TestIssuerFailsWhenSecretThrottledWithoutCopy(t *testing.T) {
	s := startStack(t, 10*time.Minute)
	s.getter.throttled.Store(true)

	_, err := s.issuer.Current(context.Background())

	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Errorf("error = %v, want a ThrottlingException", err)
	}
	if got := s.tokenRequests("200"); got != 0 {
		t.Errorf("token requests = %d, want 0", got)
	}
}

func TestIssuerOneTokenRequestForFiftyCallers(t *testing.T) {
	s := startStack(t, 10*time.Minute)
	mustCurrent(t, s.issuer)
	s.clock.Advance(10 * time.Minute) // the token expires now

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.issuer.Token(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)

	for err := range errs {
		t.Errorf("Token: %v", err)
	}
	if got := s.sim.Stats().TokensIssued; got != 2 {
		t.Errorf("tokens issued = %d, want 2 (one at start, one for all 50 callers)", got)
	}
}

func TestIssuerHonoursSimulatorRateLimitStorm(t *testing.T) {
	// NOTE: the subtests share one stack and run in turn because kumo v0.33.1
	// has a data race when two servers start at the same time.
	s := startStack(t, 10*time.Minute)
	for _, format := range []string{"seconds", "http-date"} {
		t.Run(format, func(t *testing.T) {
			s.sim.Reset()
			issuer := NewIssuer(s.secrets, IssuerOptions{}) // the real clock, to read an HTTP-date
			s.sim.SetFaults(genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{
				Count: 1, RetryAfterSeconds: 1, RetryAfterFormat: format,
				Endpoints: []string{genesyssim.EndpointToken},
			}})

			if _, err := issuer.Current(context.Background()); err != nil {
				t.Fatalf("Current: %v", err)
			}
			if got := s.tokenRequests("429"); got != 1 {
				t.Errorf("token requests answered 429 = %d, want 1", got)
			}
			if got := s.sim.Stats().TokensIssued; got != 1 {
				t.Errorf("tokens issued = %d, want 1", got)
			}
		})
	}
}
