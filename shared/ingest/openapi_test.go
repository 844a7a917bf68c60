package ingest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	specOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		path := filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
		spec, specErr = openapi3.NewLoader().LoadFromFile(path)
		if specErr == nil {
			specErr = spec.Validate(context.Background())
		}
	})
	if specErr != nil {
		t.Fatalf("load docs/openapi.yaml: %v", specErr)
	}
	return spec
}

// checkAgainstOpenAPI fails the test unless the response's status is
// documented for POST /v1/events and its body matches that status's schema.
func checkAgainstOpenAPI(t *testing.T, resp Response) {
	t.Helper()
	op := loadSpec(t).Paths.Find(Route).Post
	ref := op.Responses.Value(strconv.Itoa(resp.Status))
	if ref == nil {
		t.Errorf("status %d is not documented in docs/openapi.yaml", resp.Status)
		return
	}
	media := ref.Value.Content.Get("application/json")
	if media == nil {
		t.Errorf("status %d documents no JSON body", resp.Status)
		return
	}
	var body any
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Errorf("body is not JSON: %v", err)
		return
	}
	if err := media.Schema.Value.VisitJSON(body); err != nil {
		t.Errorf("status %d body does not match docs/openapi.yaml: %v\n%s", resp.Status, err, resp.Body)
	}
}

func TestOpenAPIRequestSchemaAcceptsSamples(t *testing.T) {
	schema := loadSpec(t).Paths.Find(Route).Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	for _, body := range []string{batchJSON(t, "2026-12-04T15:00:00Z", appEvent("a")), mustMarshal(appEvent("bare"))} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := schema.VisitJSON(v); err != nil {
			t.Errorf("valid request does not match the schema: %v", err)
		}
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
