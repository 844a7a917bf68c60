// Package lambdarun builds a function's bootstrap and runs it under the AWS
// Lambda Runtime Interface Emulator (RIE), the same emulator `sam local invoke`
// puts in front of a function. Tests, `make invoke` and the local stack use it
// to run the real binaries rather than calling handlers in-process.
//
// Start with Build and BuildEmulator, then Start; Function.Invoke posts an event
// to the emulator's invocation endpoint.
package lambdarun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// EmulatorPackage is the Go package of the runtime interface emulator's command.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// ModuleRoot returns the directory of the relay's go.mod, found with `go env GOMOD`.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the relay's module")
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the function in functions/<name> as a Lambda custom-runtime
// bootstrap (linux, no cgo, lambda.norpc) into dir/<name>/bootstrap for the
// machine's own architecture, and returns the binary's path.
func Build(ctx context.Context, root, name, dir string) (string, error) {
	out := filepath.Join(dir, name, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath",
		"-ldflags", "-s -w", "-o", out, "./functions/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", name, err, msg)
	}
	return out, nil
}

// BuildEmulator compiles the runtime interface emulator pinned in go.mod into
// dir and returns the binary's path.
func BuildEmulator(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, EmulatorPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the runtime interface emulator: %w\n%s", err, msg)
	}
	return out, nil
}

// Options configures one emulated function.
type Options struct {
	Emulator  string        // path of the aws-lambda-rie binary
	Bootstrap string        // path of the function's bootstrap
	Name      string        // function name, as AWS_LAMBDA_FUNCTION_NAME
	Env       []string      // extra environment, KEY=value
	Timeout   time.Duration // function timeout; default 30s
	MemoryMB  int           // reported memory size; default 256
	Output    io.Writer     // destination of the emulator's and function's output besides Logs; may be nil
}

// Function is a bootstrap running under the emulator.
type Function struct {
	URL    string // the emulator's invocation endpoint
	cmd    *exec.Cmd
	logs   *lockedBuffer
	done   chan struct{}
	client *http.Client
}

// Start runs the emulator with the bootstrap on free loopback ports and waits
// until it accepts connections.
func Start(ctx context.Context, opts Options) (*Function, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MemoryMB == 0 {
		opts.MemoryMB = 256
	}
	emulatorAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Emulator,
		"--log-level", "error",
		"--runtime-interface-emulator-address", emulatorAddr,
		"--runtime-api-address", runtimeAddr,
		opts.Bootstrap)
	cmd.Dir = filepath.Dir(opts.Bootstrap)
	cmd.Env = append(baseEnv(), opts.Env...)
	cmd.Env = append(cmd.Env,
		"AWS_LAMBDA_FUNCTION_NAME="+opts.Name,
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", int(opts.Timeout.Seconds())),
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", opts.MemoryMB),
	)
	logs := &lockedBuffer{}
	var out io.Writer = logs
	if opts.Output != nil {
		out = io.MultiWriter(logs, opts.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the runtime interface emulator: %w", err)
	}
	f := &Function{
		URL:    "http://" + emulatorAddr + "/2015-03-31/functions/function/invocations",
		cmd:    cmd,
		logs:   logs,
		done:   make(chan struct{}),
		client: &http.Client{Timeout: opts.Timeout + 5*time.Second},
	}
	go func() {
		_ = cmd.Wait()
		close(f.done)
	}()
	if err := f.waitReady(ctx, emulatorAddr); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

// baseEnv passes through only what a Lambda execution environment would have
// plus the AWS endpoint and credential settings, so a developer's shell does
// not leak into the function.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "PATH" || name == "HOME" || name == "TZ" || strings.HasPrefix(name, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func (f *Function) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-f.done:
			return fmt.Errorf("runtime interface emulator exited at start:\n%s", f.Logs())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("runtime interface emulator did not listen on %s within 15s:\n%s", addr, f.Logs())
}

// Invoke sends payload to the function and returns its response. A function
// error comes back as the emulator returns it: a JSON body with errorMessage
// and errorType.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke: emulator returned status %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// Logs returns everything the emulator and the function have printed so far.
func (f *Function) Logs() string {
	return f.logs.String()
}

// Stop ends the emulator and the function and waits for them to exit.
func (f *Function) Stop() {
	if f.cmd.Process != nil {
		_ = f.cmd.Process.Kill()
	}
	<-f.done
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
