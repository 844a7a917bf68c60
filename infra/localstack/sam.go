package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// logicalIDs maps function names to their logical ids in template.yaml.
var logicalIDs = map[string]string{"ingest": "IngestFunction", "flush": "FlushFunction", "token": "TokenFunction"}

// InvokeWithSAM builds the functions with `sam build` and runs one with
// `sam local invoke` in Docker, with the same environment as the stack's
// own instance, so that it reaches the stack's emulators. The container
// shares the host's network, because the emulators listen on 127.0.0.1.
//
// NOTE: --docker-network host gives the container the host's loopback only
// on Linux. This path needs the SAM CLI and Docker and has no automated test.
func (s *Stack) InvokeWithSAM(ctx context.Context, name, eventPath string, stdout, stderr io.Writer) error {
	logicalID, ok := logicalIDs[name]
	if !ok {
		return fmt.Errorf("invoke with SAM: unknown function %q; use ingest, flush or token", name)
	}
	vars := map[string]string{}
	for _, kv := range s.Environment[name] {
		key, value, _ := strings.Cut(kv, "=")
		vars[key] = value
	}
	envFile, err := os.CreateTemp("", "relay-sam-env-*.json")
	if err != nil {
		return fmt.Errorf("invoke with SAM: %w", err)
	}
	defer os.Remove(envFile.Name())
	if err := json.NewEncoder(envFile).Encode(map[string]map[string]string{logicalID: vars}); err != nil {
		return fmt.Errorf("invoke with SAM: write %s: %w", envFile.Name(), err)
	}
	if err := envFile.Close(); err != nil {
		return fmt.Errorf("invoke with SAM: %w", err)
	}

	commands := [][]string{
		{"sam", "build", "--template-file", "template.yaml"},
		{"sam", "local", "invoke", logicalID,
			"--template-file", filepath.Join(".aws-sam", "build", "template.yaml"),
			"--event", eventPath, "--env-vars", envFile.Name(), "--docker-network", "host"},
	}
	for _, args := range commands {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = s.cfg.Root
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("invoke with SAM: %s: %w", strings.Join(args[:3], " "), err)
		}
	}
	return nil
}
