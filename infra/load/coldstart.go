package load

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/journeyrelay/relay/infra/lambdarun"
)

// minimalPackage is the smallest aws-lambda-go function, the baseline of
// the cold-start comparison.
const minimalPackage = "./infra/load/testdata/minimal"

// ColdStart is the cold-start figures of one function.
type ColdStart struct {
	Name        string
	Inits       []time.Duration // from starting the emulator to the first response, per run
	HostBytes   int64           // bootstrap size for this machine's architecture
	Arm64Bytes  int64           // bootstrap size for arm64, as deployed
	FirstResult string          // the first response, shortened
}

// Median returns the median init time.
func (c ColdStart) Median() time.Duration {
	return percentile(c.Inits, 50)
}

// ColdStartReport compares each function's cold start with the minimal function's.
type ColdStartReport struct {
	Functions []ColdStart // ingest, flush, token, then the minimal function
}

// coldPayload is the first invocation's payload: a JSON string, which each
// relay function rejects while decoding, before it calls any AWS service,
// so that the measurement covers the start and not the work.
const coldPayload = `"cold start"`

// MeasureColdStarts builds the functions and the minimal function the way
// the local stack does (linux, lambda.norpc, -trimpath, -s -w) and measures,
// runs times each, the time from starting the runtime interface emulator
// with the bootstrap to the first invocation's response. It also builds each
// for arm64 to report the deployed size.
func MeasureColdStarts(ctx context.Context, root string, runs int) (*ColdStartReport, error) {
	if root == "" {
		var err error
		if root, err = lambdarun.ModuleRoot(ctx); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "relay-coldstart-")
	if err != nil {
		return nil, fmt.Errorf("create a build directory: %w", err)
	}
	defer os.RemoveAll(dir)
	emulator, err := lambdarun.BuildEmulator(ctx, root, dir)
	if err != nil {
		return nil, err
	}

	report := &ColdStartReport{}
	for _, name := range []string{"ingest", "flush", "token", "minimal"} {
		c, err := measureColdStart(ctx, root, dir, emulator, name, runs)
		if err != nil {
			return nil, err
		}
		report.Functions = append(report.Functions, c)
	}
	return report, nil
}

func measureColdStart(ctx context.Context, root, dir, emulator, name string, runs int) (ColdStart, error) {
	pkg := "./functions/" + name
	if name == "minimal" {
		pkg = minimalPackage
	}
	c := ColdStart{Name: name}
	host := filepath.Join(dir, name, "bootstrap")
	var err error
	if c.HostBytes, err = buildBootstrap(ctx, root, pkg, host, ""); err != nil {
		return c, err
	}
	if c.Arm64Bytes, err = buildBootstrap(ctx, root, pkg, filepath.Join(dir, "arm64", name, "bootstrap"), "arm64"); err != nil {
		return c, err
	}

	env := []string{
		// Unreachable settings: the first invocations need no AWS service,
		// and a function that calls one anyway fails rather than leaving 127.0.0.1.
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"QUEUE_URL=http://127.0.0.1:9/000000000000/q", "DEAD_LETTER_QUEUE_URL=http://127.0.0.1:9/000000000000/dlq",
		"TABLE_NAME=t", "APP_KEYS_SECRET_ID=k", "GENESYS_SECRET_ID=g", "GENESYS_DEPLOYMENT_ID=d",
		"GENESYS_API_BASE_URL=http://127.0.0.1:9",
	}
	for range runs {
		start := time.Now()
		fn, err := lambdarun.Start(ctx, lambdarun.Options{Emulator: emulator, Bootstrap: host, Name: name, Env: env, Output: io.Discard})
		if err != nil {
			return c, fmt.Errorf("cold start %s: %w", name, err)
		}
		out, err := fn.Invoke(ctx, []byte(coldPayload))
		elapsed := time.Since(start)
		fn.Stop()
		if err != nil {
			return c, fmt.Errorf("cold start %s: %w", name, err)
		}
		c.Inits = append(c.Inits, elapsed)
		c.FirstResult = string(out[:min(len(out), 120)])
	}
	return c, nil
}

// buildBootstrap builds pkg as a Lambda bootstrap for goarch (the host's
// when empty) and returns its size.
func buildBootstrap(ctx context.Context, root, pkg, out, goarch string) (int64, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+goarch)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build %s: %w\n%s", pkg, err, msg)
	}
	info, err := os.Stat(out)
	if err != nil {
		return 0, fmt.Errorf("build %s: %w", pkg, err)
	}
	return info.Size(), nil
}

// Print writes the report as a table.
func (r *ColdStartReport) Print(w io.Writer) {
	baseline := r.Functions[len(r.Functions)-1]
	fmt.Fprintf(w, "%-8s %10s %8s %10s %10s %12s  %s\n", "function", "init p50", "ratio", "min", "max", "host bytes", "arm64 bytes")
	for _, c := range r.Functions {
		fmt.Fprintf(w, "%-8s %10v %8.2f %10v %10v %12d  %d\n", c.Name, c.Median().Round(time.Millisecond),
			float64(c.Median())/float64(baseline.Median()), slices.Min(c.Inits).Round(time.Millisecond),
			slices.Max(c.Inits).Round(time.Millisecond), c.HostBytes, c.Arm64Bytes)
	}
	fmt.Fprintln(w, "init: time from starting the runtime interface emulator with the bootstrap to the first invocation's response")
	for _, c := range r.Functions {
		fmt.Fprintf(w, "first response of %s: %s\n", c.Name, c.FirstResult)
	}
}
