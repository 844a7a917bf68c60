package lambdarun

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce    sync.Mutex
	builtDir     string
	builtBinary  = map[string]string{}
	emulatorPath string
)

// StartT builds the named function and the emulator once per test binary,
// starts the function with env, and stops it when the test ends.
func StartT(t testing.TB, name string, env ...string) *Function {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	bootstrap, emulator := buildT(t, ctx, name)
	f, err := Start(ctx, Options{Emulator: emulator, Bootstrap: bootstrap, Name: name, Env: env})
	if err != nil {
		t.Fatalf("start %s under the emulator: %v", name, err)
	}
	t.Cleanup(f.Stop)
	return f
}

func buildT(t testing.TB, ctx context.Context, name string) (bootstrap, emulator string) {
	t.Helper()
	buildOnce.Lock()
	defer buildOnce.Unlock()

	root, err := ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if builtDir == "" {
		// The directory outlives any one test so that later tests reuse the binaries.
		dir, err := os.MkdirTemp("", "lambdarun-")
		if err != nil {
			t.Fatal(err)
		}
		builtDir = dir
	}
	if emulatorPath == "" {
		if emulatorPath, err = BuildEmulator(ctx, root, builtDir); err != nil {
			t.Fatal(err)
		}
	}
	if builtBinary[name] == "" {
		path, err := Build(ctx, root, name, builtDir)
		if err != nil {
			t.Fatal(err)
		}
		builtBinary[name] = path
	}
	return builtBinary[name], emulatorPath
}
