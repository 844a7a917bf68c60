package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/shared/breaker"
	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/idempotency"
	"github.com/journeyrelay/relay/shared/journey"
	"github.com/journeyrelay/relay/shared/queue"
	"github.com/journeyrelay/relay/shared/telemetry"
	"github.com/journeyrelay/relay/shared/token"
)

const (
	stackDeployment    = "dep-1"
	stackConfiguration = "cfg-1"
	stackClientID      = "relay-client"
	stackClientSecret  = "relay-client-secret"
	stackCookie        = "0d5e0c1a-3c3b-4b6e-8e43-8b0f5b1f3a11"
)

// stack is the engine's real surroundings: kumo for DynamoDB and SQS and the
// Genesys simulator, all on 127.0.0.1.
type stack struct {
	res      awslocal.Resources
	db       *dynamodb.Client
	sqs      *sqs.Client
	consumer *queue.Consumer
	sim      *genesyssim.Server
	simURL   string
	metrics  *telemetry.Recorder
}

func startStack(tb testing.TB, simCfg genesyssim.Config) *stack {
	tb.Helper()
	emu, res := awslocal.StartT(tb)
	simCfg.Deployments = []string{stackDeployment}
	simCfg.ExternalConfigurations = []string{stackConfiguration}
	simCfg.Clients = []genesyssim.Client{simClient}
	sim, url := genesyssim.Start(tb, simCfg)
	client := sqs.NewFromConfig(emu.Config)
	return &stack{
		res:      res,
		db:       dynamodb.NewFromConfig(emu.Config),
		sqs:      client,
		consumer: queue.NewConsumer(client, res.QueueURL, res.DeadLetterQueueURL),
		sim:      sim,
		simURL:   url,
		metrics:  telemetry.NewRecorder(io.Discard, "flush"),
	}
}

// engine returns an Engine wired to the stack with cfg and brk over test defaults.
func (s *stack) engine(cfg Config, brk breaker.Config) *Engine {
	if cfg.EventsPerSecond == 0 {
		cfg.EventsPerSecond = 1000
	}
	if cfg.Instances == 0 {
		cfg.Instances = 1
	}
	cfg.Metrics = s.metrics
	client := genesys.NewClient(genesys.Config{
		APIBaseURL:   s.simURL,
		DeploymentID: stackDeployment,
		Timeout:      2 * time.Second,
	})
	return New(Deps{
		Sender:      client,
		Claims:      idempotency.NewStore(s.db, s.res.Table, idempotency.Options{}),
		Breaker:     breaker.New(s.db, s.res.Table, brk),
		DeadLetters: s.consumer,
	}, cfg)
}

// externalEngine returns an Engine that also sends CUSTOM events, to the
// simulator's configuration stackConfiguration with tokens from its OAuth endpoint.
func (s *stack) externalEngine(tb testing.TB, cfg Config) *Engine {
	tb.Helper()
	secret, _ := json.Marshal(map[string]string{
		"client_id": stackClientID, "client_secret": stackClientSecret, "login_base_url": s.simURL,
	})
	cfg.ExternalEnabled, cfg.Instances, cfg.Metrics = true, 1, s.metrics
	return New(Deps{
		Sender: genesys.NewClient(genesys.Config{
			APIBaseURL:              s.simURL,
			DeploymentID:            stackDeployment,
			ExternalConfigurationID: stackConfiguration,
			ExternalSourceID:        "relay-users",
		}),
		Claims:      idempotency.NewStore(s.db, s.res.Table, idempotency.Options{}),
		Breaker:     breaker.New(s.db, s.res.Table, breaker.Config{}),
		Tokens:      token.NewIssuer(staticSecret(secret), token.IssuerOptions{}),
		DeadLetters: s.consumer,
	}, cfg)
}

// staticSecret is a token.SecretSource that always returns the same secret.
type staticSecret string

func (s staticSecret) Get(context.Context) (string, error) {
	return string(s), nil
}

// simClient is the OAuth client the simulator accepts for external events.
var simClient = genesyssim.Client{ID: stackClientID, Secret: stackClientSecret,
	Permissions: []string{genesyssim.PermissionExternalEventsAdd}}

// customEvents returns n valid CUSTOM events created 30 seconds ago.
func customEvents(n int) []journey.Event {
	out := make([]journey.Event, n)
	now := time.Now().UTC()
	for i := range out {
		out[i] = journey.Event{
			Type:           journey.TypeCustom,
			Name:           fmt.Sprintf("order_%04d", i),
			Timestamp:      now.Add(-30 * time.Second).Format(journey.TimeLayout),
			ReceivedAt:     now.Add(-30 * time.Second).Format(journey.TimeLayout),
			UserID:         fmt.Sprintf("user-%d", i),
			SessionID:      "session-1",
			IdempotencyKey: fmt.Sprintf("order-key-%04d", i),
			Properties:     map[string]journey.Value{"total": {Kind: journey.Number, Text: "39.98"}},
		}
	}
	return out
}

// appEvent returns a valid APP event named for n, created age ago.
func appEvent(n int, age time.Duration) journey.Event {
	now := time.Now().UTC()
	return journey.Event{
		Type:             journey.TypeApp,
		Name:             fmt.Sprintf("event_%04d", n),
		Timestamp:        now.Add(-age).Format(journey.TimeLayout),
		ReceivedAt:       now.Add(-age).Format(journey.TimeLayout),
		UserID:           "user-1",
		SessionID:        "session-1",
		IdempotencyKey:   fmt.Sprintf("key-%04d", n),
		CustomerCookieID: stackCookie,
		ScreenName:       "Home",
		App:              &journey.App{Name: "Shop", Namespace: "com.example.shop", Version: "5.2.0", BuildNumber: "5200"},
		Device:           &journey.Device{Category: "mobile", Type: "iPhone", OSFamily: "iOS", OSVersion: "18.1"},
	}
}

// messages wraps events in queue messages without going through SQS.
func messages(tb testing.TB, events ...journey.Event) []queue.Message {
	tb.Helper()
	out := make([]queue.Message, len(events))
	for i, e := range events {
		body, err := json.Marshal(e)
		if err != nil {
			tb.Fatalf("encode event: %v", err)
		}
		out[i] = queue.Message{ID: fmt.Sprintf("m-%04d", i), Body: string(body), ReceiveCount: 1}
	}
	return out
}

func appEvents(n int) []journey.Event {
	out := make([]journey.Event, n)
	for i := range out {
		out[i] = appEvent(i, 30*time.Second)
	}
	return out
}

// acceptedByName counts the simulator's acceptances per event name.
func (s *stack) acceptedByName() map[string]int {
	out := map[string]int{}
	for _, e := range s.sim.Events() {
		out[e.EventName]++
	}
	return out
}

// recordState returns the state of an idempotency record, or "" when there is none.
func (s *stack) recordState(tb testing.TB, key string) string {
	tb.Helper()
	out, err := s.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.res.Table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "idem#" + key},
			"sk": &types.AttributeValueMemberS{Value: "idem"},
		},
	})
	if err != nil {
		tb.Fatalf("read record %s: %v", key, err)
	}
	state, _ := out.Item["state"].(*types.AttributeValueMemberS)
	if state == nil {
		return ""
	}
	return state.Value
}

func countKinds(outcomes []Outcome) map[Kind]int {
	out := map[Kind]int{}
	for _, o := range outcomes {
		out[o.Kind]++
	}
	return out
}
