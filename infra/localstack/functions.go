package localstack

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/journeyrelay/relay/infra/lambdarun"
	"github.com/journeyrelay/relay/infra/template"
)

// localFunction is the local setup of one function of the template.
type localFunction struct {
	name      string // the name in functions/ and the Invoke API
	logicalID string
	instances int // the concurrency of the pool
}

// localFunctions lists the relay's functions. Flush gets FLUSH_MAX_INSTANCES
// instances, which equals its reserved concurrency in the template. Token gets
// its reserved concurrency, and ingest, which has none, gets two.
func localFunctions(tpl *template.Template) ([]localFunction, error) {
	token, err := tpl.GetServerlessFunctionWithName("TokenFunction")
	if err != nil {
		return nil, err
	}
	flush, err := tpl.GetServerlessFunctionWithName("FlushFunction")
	if err != nil {
		return nil, err
	}
	flushInstances, err := strconv.Atoi(flush.Environment.Variables["FLUSH_MAX_INSTANCES"])
	if err != nil {
		return nil, fmt.Errorf("FlushFunction: invalid FLUSH_MAX_INSTANCES: %w", err)
	}
	return []localFunction{
		{name: "token", logicalID: "TokenFunction", instances: max(1, valueOf(token.ReservedConcurrentExecutions))},
		{name: "flush", logicalID: "FlushFunction", instances: flushInstances},
		{name: "ingest", logicalID: "IngestFunction", instances: 2},
	}, nil
}

// startFunctions builds the bootstraps and the emulator, starts each
// function's instances with its environment from the template, and registers
// each pool with the Invoke router.
func (s *Stack) startFunctions(ctx context.Context, tpl *template.Template, routerURL string) error {
	functions, err := localFunctions(tpl)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "relay-local-")
	if err != nil {
		return fmt.Errorf("create a build directory: %w", err)
	}
	s.closers = append(s.closers, func() { _ = os.RemoveAll(dir) })
	emulator, err := lambdarun.BuildEmulator(ctx, s.cfg.Root, dir)
	if err != nil {
		return err
	}

	for _, f := range functions {
		s.cfg.Logger.Info("building function", "function", f.name)
		bootstrap, err := lambdarun.Build(ctx, s.cfg.Root, f.name, dir)
		if err != nil {
			return err
		}
		opts, err := s.functionOptions(tpl, f, routerURL)
		if err != nil {
			return err
		}
		opts.Emulator, opts.Bootstrap = emulator, bootstrap
		s.Environment[f.name] = opts.Env

		var instances []Invoker
		for range f.instances {
			fn, err := lambdarun.Start(ctx, opts)
			if err != nil {
				return fmt.Errorf("start %s: %w", f.name, err)
			}
			s.closers = append(s.closers, fn.Stop)
			instances = append(instances, fn)
		}
		s.Functions[f.name] = NewPool(f.name, instances...)
		s.Router.Register(f.name, s.Functions[f.name])
	}
	return nil
}

// functionOptions returns the function's timeout, memory and environment
// from the template, with each resource reference replaced by the local
// resource, plus the endpoints of the local services.
func (s *Stack) functionOptions(tpl *template.Template, f localFunction, routerURL string) (lambdarun.Options, error) {
	fn, err := tpl.GetServerlessFunctionWithName(f.logicalID)
	if err != nil {
		return lambdarun.Options{}, err
	}
	local := map[string]string{
		template.Ref("Queue"):           s.Resources.QueueURL,
		template.Ref("DeadLetterQueue"): s.Resources.DeadLetterQueueURL,
		template.Ref("Table"):           s.Resources.Table,
		template.Ref("AppKeysSecret"):   s.Resources.AppKeysSecret,
		template.Ref("GenesysSecret"):   s.Resources.GenesysSecret,
		template.Ref("TokenFunction"):   "token",
	}

	env := append(s.Emulator.EndpointEnv(), "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_ENDPOINT_URL_LAMBDA="+routerURL)
	if s.SimulatorURL != "" {
		env = append(env, "GENESYS_API_BASE_URL="+s.SimulatorURL)
	}
	for name, value := range fn.Environment.Variables {
		if strings.HasPrefix(value, "Ref:") || strings.HasPrefix(value, "GetAtt:") {
			resolved, ok := local[value]
			if !ok {
				return lambdarun.Options{}, fmt.Errorf("%s: %s refers to %s, which the local stack does not provide", f.logicalID, name, value)
			}
			value = resolved
		}
		env = append(env, name+"="+value)
	}

	env = append(env, s.cfg.FunctionEnv[f.name]...)

	output := s.cfg.FunctionOutput
	if w, ok := s.cfg.FunctionOutputs[f.name]; ok {
		output = w
	}
	return lambdarun.Options{
		Name:     f.name,
		Env:      env,
		Timeout:  time.Duration(valueOf(fn.Timeout)) * time.Second,
		MemoryMB: valueOf(fn.MemorySize),
		Output:   output,
	}, nil
}

func valueOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// moduleRoot returns the directory of the relay's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	return lambdarun.ModuleRoot(ctx)
}
