package sdkhttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recordingClient keeps the request it receives and returns 200.
type recordingClient struct {
	req *http.Request
}

func (c *recordingClient) Do(req *http.Request) (*http.Response, error) {
	c.req = req
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

// trackedBody is a request body that records whether it was closed.
type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error {
	b.closed = true
	return nil
}

func newRequest(t *testing.T, body io.ReadCloser, length int64) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = body
	req.ContentLength = length
	return req
}

func TestBufferBodiesHandsOverBytesReader(t *testing.T) {
	payload := `{"QueueUrl":"q","MaxNumberOfMessages":10}`
	original := &trackedBody{Reader: strings.NewReader(payload)}
	next := &recordingClient{}

	if _, err := BufferBodies(next).Do(newRequest(t, original, int64(len(payload)))); err != nil {
		t.Fatalf("Do: %v", err)
	}

	if !original.closed {
		t.Error("the original body was not closed")
	}
	got, err := io.ReadAll(next.req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != payload {
		t.Errorf("body: got %q, want %q", got, payload)
	}
	if next.req.ContentLength != int64(len(payload)) {
		t.Errorf("ContentLength: got %d, want %d", next.req.ContentLength, len(payload))
	}
	again, err := next.req.GetBody()
	if err != nil {
		t.Fatalf("GetBody: %v", err)
	}
	if replay, _ := io.ReadAll(again); string(replay) != payload {
		t.Errorf("GetBody: got %q, want %q", replay, payload)
	}
}

func TestBufferBodiesPassesThroughUnknownLength(t *testing.T) {
	tests := []struct {
		name   string
		body   io.ReadCloser
		length int64
	}{
		{name: "no body", body: nil, length: 0},
		{name: "unknown length", body: &trackedBody{Reader: strings.NewReader("stream")}, length: -1},
		{name: "over the limit", body: &trackedBody{Reader: strings.NewReader("x")}, length: MaxBufferedBody + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &recordingClient{}

			if _, err := BufferBodies(next).Do(newRequest(t, tt.body, tt.length)); err != nil {
				t.Fatalf("Do: %v", err)
			}

			if next.req.Body != tt.body {
				t.Errorf("body: got %T, want the original body", next.req.Body)
			}
		})
	}
}

// failingBody fails every read.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("disk gone") }
func (failingBody) Close() error             { return nil }

func TestBufferBodiesReturnsReadError(t *testing.T) {
	next := &recordingClient{}

	_, err := BufferBodies(next).Do(newRequest(t, failingBody{}, 10))

	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("error: got %v, want the body's read error", err)
	}
	if next.req != nil {
		t.Error("the request was sent although its body could not be read")
	}
}

func TestBufferBodiesRoundTripsToServer(t *testing.T) {
	var received []byte
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer server.Close()
	payload := bytes.Repeat([]byte("a"), 10000)
	req, err := http.NewRequest(http.MethodPost, server.URL, &trackedBody{Reader: bytes.NewReader(payload)})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(payload))

	resp, err := BufferBodies(server.Client()).Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()

	if !bytes.Equal(received, payload) {
		t.Errorf("server received %d bytes, want the %d sent", len(received), len(payload))
	}
}
