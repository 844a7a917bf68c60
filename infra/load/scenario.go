package load

import (
	"fmt"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
)

// Scenario is one bounded load run with its faults.
type Scenario struct {
	Name        string
	Description string
	Phases      []Phase // rates are shares of the budget, scaled by Run
	Steps       []Step  // faults, by offset from the start of the first phase

	CustomShare float64 // share of CUSTOM events
	ResendShare float64 // share of batches the client resends whole

	// SecretThrottle is the probability that the counting proxy rejects a
	// Secrets Manager GetSecretValue call with ThrottlingException.
	SecretThrottle float64

	// FlushEnv adds environment variables (KEY=value) to the flush function,
	// such as breaker delays shortened in the same ratio as the scenario.
	FlushEnv []string

	// MaxDrain bounds the wait for delivery after the last phase.
	MaxDrain time.Duration

	// Compression describes how the scenario shortens the situation it models.
	Compression string
}

// Step is one change of faults during a run.
type Step struct {
	At   time.Duration
	Name string

	// Faults, when not nil, replaces the faults of both simulators; an empty
	// Faults clears them.
	Faults *genesyssim.Faults

	// Kill, when set, is the role of a process to kill with SIGKILL, such
	// as "flush bootstrap".
	Kill string
}

// budgetShare returns a phase at share times the budget.
func budgetShare(name string, d time.Duration, share float64) Phase {
	return Phase{Name: name, Duration: d, EventsPerSecond: share}
}

func seconds(n int) genesyssim.Duration {
	return genesyssim.Duration(time.Duration(n) * time.Second)
}

// Scenarios returns the fault matrix, in the order `-scenario all` runs it.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name:        "steady",
			Description: "many devices at 0.6 of the budget",
			Phases:      []Phase{budgetShare("steady", 120*time.Second, 0.6)},
			MaxDrain:    90 * time.Second,
			Compression: "several minutes of steady traffic shortened to 2 minutes",
		},
		{
			Name:        "burst",
			Description: "ten times the budget, then 0.6 of it",
			Phases: []Phase{
				budgetShare("burst", 6*time.Second, 10),
				budgetShare("steady", 90*time.Second, 0.6),
			},
			MaxDrain:    150 * time.Second,
			Compression: "a 30 s burst shortened to 6 s (one fifth); the steady phase lasts long enough to drain most of the backlog",
		},
		{
			Name:        "outage",
			Description: "Genesys answers 503 to everything for 60 s mid-run",
			Phases:      []Phase{budgetShare("steady", 120*time.Second, 0.5)},
			Steps: []Step{
				{At: 20 * time.Second, Name: "outage 503 for 60s", Faults: &genesyssim.Faults{
					Outage: &genesyssim.Outage{For: seconds(60)}}},
			},
			// One fifth of the breaker's default 30 s first delay and 5 min cap.
			FlushEnv:    []string{"BREAKER_OPEN_DELAY=6s", "BREAKER_MAX_OPEN_DELAY=1m"},
			MaxDrain:    240 * time.Second,
			Compression: "a 5 minute outage shortened to 60 s, and the breaker's open delays shortened in the same ratio (6 s first, 1 min cap)",
		},
		{
			Name:        "storm",
			Description: "429 storms with Retry-After in seconds, as HTTP-dates, and longer than an invocation",
			Phases:      []Phase{budgetShare("steady", 100*time.Second, 0.5)},
			Steps: []Step{
				{At: 10 * time.Second, Name: "429 for 10s, Retry-After 2 (seconds)", Faults: &genesyssim.Faults{
					RateLimitStorm: &genesyssim.RateLimitStorm{For: seconds(10), RetryAfterSeconds: 2}}},
				{At: 35 * time.Second, Name: "429 for 10s, Retry-After 3 s as an HTTP-date", Faults: &genesyssim.Faults{
					RateLimitStorm: &genesyssim.RateLimitStorm{For: seconds(10), RetryAfterSeconds: 3,
						RetryAfterFormat: "http-date"}}},
				// A storm that ends after a count of responses would last as long as
				// the relay keeps honouring Retry-After, so this one ends by time.
				{At: 60 * time.Second, Name: "429 for 20s, Retry-After 75 (beyond flush's 60 s timeout)",
					Faults: &genesyssim.Faults{RateLimitStorm: &genesyssim.RateLimitStorm{For: seconds(20),
						RetryAfterSeconds: 75}}},
			},
			MaxDrain: 180 * time.Second,
		},
		{
			Name:        "crash",
			Description: "the flush bootstrap killed at five points during delivery",
			Phases:      []Phase{budgetShare("steady", 40*time.Second, 0.6)},
			Steps: []Step{
				{At: 5 * time.Second, Name: "kill", Kill: "flush bootstrap"},
				{At: 12 * time.Second, Name: "kill", Kill: "flush bootstrap"},
				{At: 19 * time.Second, Name: "kill", Kill: "flush bootstrap"},
				{At: 27 * time.Second, Name: "kill", Kill: "flush bootstrap"},
				{At: 36 * time.Second, Name: "kill", Kill: "flush bootstrap"},
			},
			MaxDrain:    420 * time.Second,
			Compression: "none; a killed batch stays hidden for the queue's 360 s visibility timeout, which bounds the run",
		},
		{
			Name:        "retries",
			Description: "a fifth of the batches resent whole after a simulated client timeout, and 0.2% of Genesys responses held past flush's timeout",
			Phases:      []Phase{budgetShare("steady", 60*time.Second, 0.6)},
			ResendShare: 0.2,
			Steps: []Step{
				{At: 0, Name: "slow responses 6s on 0.2% of requests", Faults: &genesyssim.Faults{
					SlowResponse: &genesyssim.SlowResponse{Delay: seconds(6), Probability: 0.002}}},
			},
			MaxDrain: 120 * time.Second,
		},
		{
			Name:        "token",
			Description: "token endpoint 503 then 429, and Secrets Manager throttling, with 30% CUSTOM events",
			Phases:      []Phase{budgetShare("steady", 60*time.Second, 0.5)},
			CustomShare: 0.3,
			// Cold starts fetch the secrets during the run, so throttling hits those fetches.
			SecretThrottle: 0.5,
			Steps: []Step{
				// The token function fetches a token once and caches it for the
				// simulator's 24 h lifetime, so both faults meet its first fetch.
				{At: 0, Name: "token endpoint 503 on 6 requests", Faults: &genesyssim.Faults{
					TokenFailure: &genesyssim.TokenFailure{Status: 503, Count: 6}}},
				{At: 2 * time.Second, Name: "token endpoint 429 on 6 requests", Faults: &genesyssim.Faults{
					TokenFailure: &genesyssim.TokenFailure{Status: 429, Count: 6, RetryAfterSeconds: 2}}},
			},
			// Flush returns a message whose token request failed with a visibility
			// of 30 s doubled per receive, so the third retry comes after 3.5 minutes.
			MaxDrain: 240 * time.Second,
		},
	}
}

// FindScenario returns the scenario called name.
func FindScenario(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q: use all or one of %v", name, names)
}

// scaled returns the scenario with its phase durations and step offsets
// multiplied by factor. MaxDrain stays, because the queue's visibility
// timeout and the relay's retry delays do not scale.
func (s Scenario) scaled(factor float64) Scenario {
	if factor == 1 {
		return s
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * factor) }
	phases := make([]Phase, len(s.Phases))
	for i, p := range s.Phases {
		p.Duration = scale(p.Duration)
		phases[i] = p
	}
	steps := make([]Step, len(s.Steps))
	for i, step := range s.Steps {
		step.At = scale(step.At)
		steps[i] = step
	}
	s.Phases, s.Steps = phases, steps
	s.Compression += fmt.Sprintf("; phases and steps scaled by %g for a trial run", factor)
	return s
}
