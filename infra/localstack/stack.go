package localstack

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/infra/genesyssim"
	"github.com/journeyrelay/relay/infra/template"
)

// Local Genesys identifiers the simulator accepts.
const (
	LocalDeploymentID            = "local-deployment"
	LocalExternalConfigurationID = "local-external-events"
	LocalExternalSourceID        = "local-app-users"
	localClientID                = "local-client"

	// SampleAppKey is the app key in the sample events of events/*.json,
	// which the local app-keys secret accepts besides the stack's random key.
	SampleAppKey = "local-dev-key"
)

// Config sets up a Stack. Zero fields take the defaults listed on each field.
type Config struct {
	// Root is the module's directory. Default: found with `go env GOMOD`.
	Root string

	// Names are the AWS resource names. Default awslocal.DefaultNames, with the
	// queue settings (visibility timeout, maxReceiveCount, message size)
	// always taken from template.yaml.
	Names awslocal.Names

	// APIAddr is the address of the local HTTP API. Default 127.0.0.1:3000.
	APIAddr string

	// SchedulePeriod is how often the schedule invokes flush. Default: the
	// template's schedule rate.
	SchedulePeriod time.Duration

	// Genesys, when set, sends to real Genesys Cloud instead of starting the simulator.
	Genesys *RealGenesys

	// WithoutEventSources leaves out the SQS poller and the schedule, so that
	// flush runs only when invoked directly.
	WithoutEventSources bool

	// FunctionOutput receives the functions' logs. Default: discarded.
	FunctionOutput io.Writer

	// Logger logs the stack's own events. Default: discarded.
	Logger *slog.Logger

	// SimulatorEventsPerSecond is the simulator's budget of app and web
	// events per second and deployment. Default 0: unlimited.
	SimulatorEventsPerSecond float64

	// FunctionEnv adds environment variables (KEY=value) to functions, by
	// function name. They come after the template's, so they override it.
	FunctionEnv map[string][]string

	// FunctionOutputs receives one function's logs, by function name,
	// instead of FunctionOutput.
	FunctionOutputs map[string]io.Writer

	// AWSEndpoint, when set, is called with the emulator's URL once the
	// resources and secrets exist. The functions, the poller and Emulator
	// then use the URL it returns, such as a proxy that counts requests.
	AWSEndpoint func(emulatorURL string) (string, error)
}

// RealGenesys names a Genesys Cloud organization to deliver to.
type RealGenesys struct {
	Region                  string // region domain, such as mypurecloud.com
	DeploymentID            string
	ExternalConfigurationID string // optional: CUSTOM events are dead-lettered without it
	ExternalSourceID        string
	ClientID                string // OAuth client of the client credentials grant
	ClientSecret            string
}

// Stack is the relay running locally.
type Stack struct {
	APIURL       string // base URL of the HTTP API, such as http://127.0.0.1:3000
	AppKey       string // the app key the app-keys secret accepts
	Emulator     *awslocal.Emulator
	Resources    awslocal.Resources
	Settings     template.FlushSettings
	Simulator    *genesyssim.Server // nil when delivering to real Genesys
	SimulatorURL string
	Poller       *Poller
	Functions    map[string]*Pool // by name: ingest, flush, token
	Router       *InvokeRouter
	Environment  map[string][]string // each function's environment, by name

	cfg     Config
	cancel  context.CancelFunc
	workers sync.WaitGroup
	closers []func()
}

// Start starts the stack. Close stops it.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg, err = cfg.withDefaults(ctx)
	if err != nil {
		return nil, err
	}
	s := &Stack{
		cfg:         cfg,
		Functions:   map[string]*Pool{},
		Router:      &InvokeRouter{Logger: cfg.Logger},
		Environment: map[string][]string{},
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	tpl, err := s.loadTemplate()
	if err != nil {
		return nil, err
	}
	if err := s.startAWS(ctx); err != nil {
		return nil, err
	}
	if err := s.startGenesys(ctx); err != nil {
		return nil, err
	}
	routerURL, err := s.serve("127.0.0.1:0", s.Router.Handler())
	if err != nil {
		return nil, err
	}
	if err := s.startFunctions(ctx, tpl, routerURL); err != nil {
		return nil, err
	}
	// template.yaml routes every method of /v1/events to ingest, so that
	// ingest returns 405 for methods other than POST.
	if s.APIURL, err = s.serve(cfg.APIAddr, &HTTPAPI{Method: "ANY", Path: "/v1/events",
		Function: s.Functions["ingest"], Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if !cfg.WithoutEventSources {
		s.startEventSources()
	}
	return s, nil
}

func (c Config) withDefaults(ctx context.Context) (Config, error) {
	if c.Root == "" {
		root, err := moduleRoot(ctx)
		if err != nil {
			return c, err
		}
		c.Root = root
	}
	if c.Names.Queue == "" {
		c.Names = awslocal.DefaultNames()
	}
	if c.APIAddr == "" {
		c.APIAddr = "127.0.0.1:3000"
	}
	if c.FunctionOutput == nil {
		c.FunctionOutput = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// loadTemplate reads template.yaml with the Genesys parameters of this stack.
func (s *Stack) loadTemplate() (*template.Template, error) {
	parameters := map[string]any{
		"GenesysDeploymentId":            LocalDeploymentID,
		"GenesysExternalConfigurationId": LocalExternalConfigurationID,
		"GenesysExternalSourceId":        LocalExternalSourceID,
	}
	if g := s.cfg.Genesys; g != nil {
		parameters = map[string]any{
			"GenesysRegion":                  g.Region,
			"GenesysDeploymentId":            g.DeploymentID,
			"GenesysExternalConfigurationId": g.ExternalConfigurationID,
			"GenesysExternalSourceId":        g.ExternalSourceID,
		}
	}
	tpl, err := template.Load(filepath.Join(s.cfg.Root, "template.yaml"), parameters)
	if err != nil {
		return nil, err
	}
	if s.Settings, err = tpl.FlushSettings(); err != nil {
		return nil, err
	}
	return tpl, nil
}

// startAWS starts kumo, creates the resources with the template's queue
// settings and stores a fresh app key's hash in the app-keys secret.
func (s *Stack) startAWS(ctx context.Context) error {
	emu, err := awslocal.Start(ctx)
	if err != nil {
		return err
	}
	s.Emulator = emu
	s.closers = append(s.closers, emu.Close)

	names := s.cfg.Names
	names.VisibilityTimeout = s.Settings.VisibilityTimeout
	names.MaxReceiveCount = s.Settings.MaxReceiveCount
	names.MaxMessageBytes = s.Settings.MaxMessageBytes
	if s.Resources, err = awslocal.Provision(ctx, emu.Config, names); err != nil {
		return err
	}

	s.AppKey = "local-" + randomHex(16)
	keys := []map[string]string{
		{"id": "local", "sha256": sha256Hex(s.AppKey)},
		{"id": "sample", "sha256": sha256Hex(SampleAppKey)},
	}
	if err := awslocal.PutSecret(ctx, emu.Config, s.Resources.AppKeysSecret, map[string]any{"keys": keys}); err != nil {
		return err
	}
	return s.useAWSEndpoint(ctx)
}

// useAWSEndpoint points the stack's clients at Config.AWSEndpoint's URL.
// The client configuration is loaded anew, because the SDK takes a base
// endpoint given at load time over a later aws.Config.BaseEndpoint.
func (s *Stack) useAWSEndpoint(ctx context.Context) error {
	if s.cfg.AWSEndpoint == nil {
		return nil
	}
	url, err := s.cfg.AWSEndpoint(s.Emulator.URL)
	if err != nil {
		return fmt.Errorf("use the AWS endpoint: %w", err)
	}
	if s.Emulator.Config, err = awslocal.ClientConfig(ctx, url); err != nil {
		return fmt.Errorf("use the AWS endpoint %s: %w", url, err)
	}
	s.Emulator.URL = url
	return nil
}

// startGenesys starts the simulator, or points at real Genesys, and stores
// the OAuth client in the Genesys secret.
func (s *Stack) startGenesys(ctx context.Context) error {
	if g := s.cfg.Genesys; g != nil {
		return awslocal.PutSecret(ctx, s.Emulator.Config, s.Resources.GenesysSecret, map[string]string{
			"client_id": g.ClientID, "client_secret": g.ClientSecret, "region": g.Region,
		})
	}

	secret := randomHex(16)
	s.Simulator = genesyssim.New(genesyssim.Config{
		Seed:                      1,
		Deployments:               []string{LocalDeploymentID},
		DeploymentEventsPerSecond: s.cfg.SimulatorEventsPerSecond,
		ExternalConfigurations:    []string{LocalExternalConfigurationID},
		Clients: []genesyssim.Client{{ID: localClientID, Secret: secret,
			Permissions: []string{genesyssim.PermissionExternalEventsAdd}}},
	})
	s.closers = append(s.closers, s.Simulator.Close)
	url, err := s.serve("127.0.0.1:0", s.Simulator)
	if err != nil {
		return err
	}
	s.SimulatorURL = url
	return awslocal.PutSecret(ctx, s.Emulator.Config, s.Resources.GenesysSecret, map[string]string{
		"client_id": localClientID, "client_secret": secret, "region": "mypurecloud.com", "login_base_url": url,
	})
}

// startEventSources starts the SQS event source and the schedule of flush.
func (s *Stack) startEventSources() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.Poller = &Poller{
		Queue:          sqs.NewFromConfig(s.Emulator.Config),
		QueueURL:       s.Resources.QueueURL,
		QueueARN:       s.Resources.QueueARN,
		Region:         awslocal.Region,
		Function:       s.Functions["flush"],
		BatchSize:      s.Settings.BatchSize,
		BatchingWindow: s.Settings.BatchingWindow,
		Concurrency:    s.Settings.MaxConcurrency,
		Logger:         s.cfg.Logger,
	}
	period := s.cfg.SchedulePeriod
	if period <= 0 {
		period = s.Settings.Schedule
	}
	schedule := &Schedule{
		Function: s.Functions["flush"],
		Period:   period,
		RuleARN:  "arn:aws:events:" + awslocal.Region + ":123456789012:rule/journey-relay-drain",
		Region:   awslocal.Region,
		Logger:   s.cfg.Logger,
	}
	s.workers.Go(func() { s.Poller.Run(ctx) })
	s.workers.Go(func() { schedule.Run(ctx) })
}

// serve runs handler on addr until Close and returns its base URL.
func (s *Stack) serve(addr string, handler http.Handler) (string, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("server stopped", "addr", listener.Addr().String(), "error", err)
		}
	}()
	s.closers = append(s.closers, func() { _ = server.Close() })
	return "http://" + listener.Addr().String(), nil
}

// Close stops the event sources, the servers, the functions and the emulators.
func (s *Stack) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.workers.Wait()
	s.Router.Wait()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
