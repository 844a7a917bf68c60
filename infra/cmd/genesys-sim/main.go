// Command genesys-sim runs the Genesys Cloud simulator of package genesyssim on a local
// address and prints its base URL. Every flag can also be set by the environment
// variable named in its help text, and a flag on the command line wins over it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/journeyrelay/relay/infra/genesyssim"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], logger); err != nil {
		logger.Error("genesys-sim stopped", "error", err)
		os.Exit(1)
	}
}

// options are the command-line settings before they become a genesyssim.Config.
type options struct {
	addr    string
	clients string
	faults  string
	cfg     genesyssim.Config
}

func run(args []string, logger *slog.Logger) error {
	opts, err := parseOptions(args)
	if err != nil {
		return err
	}

	// Listen first so that "-addr 127.0.0.1:0" prints the port actually chosen.
	listener, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", opts.addr, err)
	}
	sim := genesyssim.New(opts.cfg)
	server := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	baseURL := "http://" + listener.Addr().String()
	fmt.Println(baseURL)
	logger.Info("genesys-sim started", "url", baseURL, "seed", opts.cfg.Seed,
		"deployments", len(opts.cfg.Deployments), "clients", len(opts.cfg.Clients))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	select {
	case err := <-served:
		return fmt.Errorf("failed to serve: %w", err)
	case <-ctx.Done():
	}

	// End held-back responses first, then let in-flight requests finish.
	logger.Info("genesys-sim shutting down")
	sim.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("failed to shut down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to serve: %w", err)
	}
	logger.Info("genesys-sim stopped")
	return nil
}

func parseOptions(args []string) (options, error) {
	var opts options
	cfg := &opts.cfg
	fs := flag.NewFlagSet("genesys-sim", flag.ContinueOnError)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}

	fs.StringVar(&opts.addr, "addr", env("GENESYS_SIM_ADDR", "127.0.0.1:8090"),
		"listen address (GENESYS_SIM_ADDR)")
	fs.Int64Var(&cfg.Seed, "seed", 0, "seed of the random source (GENESYS_SIM_SEED)")
	deployments := fs.String("deployments", env("GENESYS_SIM_DEPLOYMENTS", ""),
		"comma-separated Messenger deployment ids (GENESYS_SIM_DEPLOYMENTS)")
	configurations := fs.String("external-configurations",
		env("GENESYS_SIM_EXTERNAL_CONFIGURATIONS", ""),
		"comma-separated external-event configuration ids (GENESYS_SIM_EXTERNAL_CONFIGURATIONS)")
	fs.StringVar(&opts.clients, "clients", env("GENESYS_SIM_CLIENTS", ""),
		"comma-separated OAuth clients id:secret[:perm|perm]; without a permission list a client "+
			"gets "+genesyssim.PermissionExternalEventsAdd+" (GENESYS_SIM_CLIENTS)")
	fs.DurationVar(&cfg.TokenLifetime, "token-lifetime", genesyssim.DefaultTokenLifetime,
		"lifetime of access tokens (GENESYS_SIM_TOKEN_LIFETIME)")
	fs.Float64Var(&cfg.DeploymentEventsPerSecond, "deployment-events-per-second", 0,
		"app plus web event requests per second per deployment, 0 for unlimited "+
			"(GENESYS_SIM_DEPLOYMENT_EVENTS_PER_SECOND)")
	fs.IntVar(&cfg.TokenRequestsPerMinute, "token-requests-per-minute",
		genesyssim.DefaultTokenRequestsPerMinute,
		"authenticated requests per minute per token, negative for unlimited "+
			"(GENESYS_SIM_TOKEN_REQUESTS_PER_MINUTE)")
	fs.IntVar(&cfg.TokenEndpointRequestsPerMinute, "token-endpoint-requests-per-minute", 0,
		"requests per minute to /oauth/token, 0 for unlimited "+
			"(GENESYS_SIM_TOKEN_ENDPOINT_REQUESTS_PER_MINUTE)")
	fs.IntVar(&cfg.MaxExternalEntities, "max-external-entities",
		genesyssim.DefaultMaxExternalEntities,
		"max entities per external-events request (GENESYS_SIM_MAX_EXTERNAL_ENTITIES)")
	fs.DurationVar(&cfg.FutureTolerance, "future-tolerance", genesyssim.DefaultFutureTolerance,
		"how far in the future an event time may lie (GENESYS_SIM_FUTURE_TOLERANCE)")
	fs.IntVar(&cfg.Retention, "retention", genesyssim.DefaultRetention,
		"max accepted events kept for /_sim/events (GENESYS_SIM_RETENTION)")
	fs.StringVar(&opts.faults, "faults", env("GENESYS_SIM_FAULTS", ""),
		"faults active from the start, as the JSON of POST /_sim/faults (GENESYS_SIM_FAULTS)")

	if err := applyEnv(fs); err != nil {
		return opts, err
	}
	if err := fs.Parse(args); err != nil {
		return opts, err
	}

	cfg.Deployments = splitList(*deployments)
	cfg.ExternalConfigurations = splitList(*configurations)
	clients, err := parseClients(opts.clients)
	if err != nil {
		return opts, err
	}
	cfg.Clients = clients
	if opts.faults != "" {
		if err := decodeFaults(opts.faults, &cfg.Faults); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// envFlags maps the flags whose defaults are not read above to their variables.
var envFlags = map[string]string{
	"seed":                               "GENESYS_SIM_SEED",
	"token-lifetime":                     "GENESYS_SIM_TOKEN_LIFETIME",
	"deployment-events-per-second":       "GENESYS_SIM_DEPLOYMENT_EVENTS_PER_SECOND",
	"token-requests-per-minute":          "GENESYS_SIM_TOKEN_REQUESTS_PER_MINUTE",
	"token-endpoint-requests-per-minute": "GENESYS_SIM_TOKEN_ENDPOINT_REQUESTS_PER_MINUTE",
	"max-external-entities":              "GENESYS_SIM_MAX_EXTERNAL_ENTITIES",
	"future-tolerance":                   "GENESYS_SIM_FUTURE_TOLERANCE",
	"retention":                          "GENESYS_SIM_RETENTION",
}

// applyEnv sets typed flags from their environment variables, before the command line
// is parsed, so that the command line wins.
func applyEnv(fs *flag.FlagSet) error {
	for name, variable := range envFlags {
		value, ok := os.LookupEnv(variable)
		if !ok || strings.TrimSpace(value) == "" {
			continue
		}
		if err := fs.Set(name, strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("environment variable %s: invalid value %q: %w", variable, value, err)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseClients reads "id:secret[:perm|perm]" entries separated by commas.
func parseClients(s string) ([]genesyssim.Client, error) {
	var clients []genesyssim.Client
	for _, entry := range splitList(s) {
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("invalid client %q: want id:secret[:perm|perm]", entry)
		}

		client := genesyssim.Client{ID: parts[0], Secret: parts[1],
			Permissions: []string{genesyssim.PermissionExternalEventsAdd}}
		if len(parts) == 3 {
			client.Permissions = splitPermissions(parts[2])
		}
		clients = append(clients, client)
	}
	return clients, nil
}

func splitPermissions(s string) []string {
	permissions := []string{}
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			permissions = append(permissions, p)
		}
	}
	return permissions
}

func decodeFaults(text string, faults *genesyssim.Faults) error {
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(faults); err != nil {
		return fmt.Errorf("invalid -faults JSON: %w", err)
	}
	if err := faults.Validate(); err != nil {
		return fmt.Errorf("invalid -faults: %w", err)
	}
	return nil
}
