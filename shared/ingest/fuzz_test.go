package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/journeyrelay/relay/shared/telemetry"
)

// FuzzHandle sends arbitrary bodies through the whole service, raw, gzip'd
// and base64-encoded, and checks that no input panics, gets a 5xx, or gets
// a response its status's OpenAPI schema does not allow.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"ingest-batch.json", "ingest-bare-event.json", "ingest-invalid-batch.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			f.Fatal(err)
		}
		var ev struct{ Body string }
		if err := json.Unmarshal(raw, &ev); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(ev.Body), false, false)
		f.Add([]byte(ev.Body), true, true)
	}
	f.Add([]byte(`{"events":[{"event_type":"APP"}]}`), false, true)
	f.Add([]byte("\x1f\x8b\x08\x00"), true, false)

	svc := NewService(testConfig(), fakeAuth{}, discardQueue{}, fakeFlags{},
		telemetry.NewRecorder(io.Discard, "ingest"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, body []byte, compress, encode bool) {
		req := post(string(body))
		if compress {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			req = post(buf.String(), "content-encoding", "gzip")
		}
		if encode {
			req.Body = base64.StdEncoding.EncodeToString([]byte(req.Body))
			req.IsBase64 = true
		}
		resp := svc.Handle(context.Background(), req)
		switch resp.Status {
		case 202, 400, 413:
		default:
			t.Fatalf("status %d for client input: %s", resp.Status, resp.Body)
		}
		checkAgainstOpenAPI(t, resp)
	})
}
