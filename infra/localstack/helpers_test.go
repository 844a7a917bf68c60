package localstack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/journeyrelay/relay/infra/lambdarun"
)

var (
	echoOnce      sync.Once
	echoBootstrap string
	echoEmulator  string
	echoErr       error
)

// startEcho builds testdata/echofn and the runtime interface emulator once
// per test binary and runs the function under the emulator with env.
func startEcho(t *testing.T, env ...string) *lambdarun.Function {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	echoOnce.Do(func() {
		root, err := lambdarun.ModuleRoot(ctx)
		if err != nil {
			echoErr = err
			return
		}
		dir, err := os.MkdirTemp("", "localstack-echo-")
		if err != nil {
			echoErr = err
			return
		}
		echoBootstrap = filepath.Join(dir, "bootstrap")
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", echoBootstrap, "./infra/localstack/testdata/echofn")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			echoErr = &buildError{err: err, output: string(out)}
			return
		}
		echoEmulator, echoErr = lambdarun.BuildEmulator(ctx, root, dir)
	})
	if echoErr != nil {
		t.Fatalf("build the echo function: %v", echoErr)
	}

	fn, err := lambdarun.Start(ctx, lambdarun.Options{
		Emulator: echoEmulator, Bootstrap: echoBootstrap, Name: "echo", Env: env, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("start the echo function: %v", err)
	}
	t.Cleanup(fn.Stop)
	return fn
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }

// fakeFunction is a hand-written Invoker that records payloads and returns
// a fixed output or error.
type fakeFunction struct {
	mu       sync.Mutex
	payloads [][]byte
	output   []byte
	err      error
	respond  func(payload []byte) ([]byte, error)
}

func (f *fakeFunction) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	f.payloads = append(f.payloads, payload)
	f.mu.Unlock()
	if f.respond != nil {
		return f.respond(payload)
	}
	return f.output, f.err
}

func (f *fakeFunction) calls() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.payloads...)
}
