package localstack

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// echoAPI serves the route through the echo function, which returns the
// event it received as the response body.
func echoAPI(t *testing.T) *httptest.Server {
	t.Helper()
	fn := startEcho(t)
	api := &HTTPAPI{Method: "POST", Path: "/v1/events", Function: NewPool("echo", fn),
		Now: func() time.Time { return time.UnixMilli(1796396400123) }}
	server := httptest.NewServer(api)
	t.Cleanup(server.Close)
	return server
}

func postEcho(t *testing.T, url string, header http.Header, body []byte) (*http.Response, events.APIGatewayV2HTTPRequest) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/events?debug=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var event events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &event); err != nil {
		t.Fatalf("decode the echoed event %s: %v", raw, err)
	}
	return resp, event
}

func TestHTTPAPIBuildsPayloadV2Event(t *testing.T) {
	server := echoAPI(t)
	body := []byte(`{"events":[]}`)
	header := http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {"k1"}, "User-Agent": {"ShopApp/5.2"}}

	resp, event := postEcho(t, server.URL, header, body)

	if resp.StatusCode != 201 {
		t.Errorf("status: got %d, want the function's 201", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Echo"); got != "yes" {
		t.Errorf("X-Echo header: got %q, want the function's header", got)
	}
	checks := []struct{ name, got, want string }{
		{"version", event.Version, "2.0"},
		{"routeKey", event.RouteKey, "POST /v1/events"},
		{"rawPath", event.RawPath, "/v1/events"},
		{"rawQueryString", event.RawQueryString, "debug=1"},
		{"x-api-key header", event.Headers["x-api-key"], "k1"},
		{"content-type header", event.Headers["content-type"], "application/json"},
		{"body", event.Body, string(body)},
		{"method", event.RequestContext.HTTP.Method, "POST"},
		{"path", event.RequestContext.HTTP.Path, "/v1/events"},
		{"sourceIp", event.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"userAgent", event.RequestContext.HTTP.UserAgent, "ShopApp/5.2"},
		{"stage", event.RequestContext.Stage, "$default"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if event.IsBase64Encoded {
		t.Error("isBase64Encoded: got true, want false for a JSON body")
	}
	if event.RequestContext.RequestID == "" {
		t.Error("requestContext.requestId is empty")
	}
	if got := event.RequestContext.TimeEpoch; got != 1796396400123 {
		t.Errorf("timeEpoch: got %d, want 1796396400123", got)
	}
}

func TestHTTPAPIEncodesGzipBodyAsBase64(t *testing.T) {
	server := echoAPI(t)
	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	_, _ = zw.Write([]byte(`{"events":[]}`))
	_ = zw.Close()
	header := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}

	_, event := postEcho(t, server.URL, header, compressed.Bytes())

	if !event.IsBase64Encoded {
		t.Fatal("isBase64Encoded: got false, want true for a gzip body")
	}
	decoded, err := base64.StdEncoding.DecodeString(event.Body)
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	if !bytes.Equal(decoded, compressed.Bytes()) {
		t.Error("decoded body differs from the gzip bytes sent")
	}
}

func TestHTTPAPIRejects(t *testing.T) {
	fn := &fakeFunction{output: []byte(`{"statusCode":200}`)}
	server := httptest.NewServer(&HTTPAPI{Method: "POST", Path: "/v1/events", Function: fn})
	defer server.Close()

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"unknown route", "POST", "/v2/events", "{}", 404},
		{"wrong method", "GET", "/v1/events", "", 404},
		{"body over 10 MB", "POST", "/v1/events", strings.Repeat("x", MaxRequestBytes+1), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, server.URL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if n := len(fn.calls()); n != 0 {
		t.Errorf("function invocations: got %d, want 0", n)
	}
}

func TestHTTPAPIResponses(t *testing.T) {
	tests := []struct {
		name       string
		output     string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"full response", `{"statusCode":202,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`, nil, 202, `{"ok":true}`},
		{"base64 body", `{"statusCode":200,"body":"aGVsbG8=","isBase64Encoded":true}`, nil, 200, "hello"},
		{"bare JSON", `{"ok":true}`, nil, 200, `{"ok":true}`},
		{"function error", `{"errorType":"x","errorMessage":"y"}`, &FunctionError{Type: "x"}, 500, `{"message":"Internal Server Error"}` + "\n"},
		{"not JSON", `oops`, nil, 500, `{"message":"Internal Server Error"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &fakeFunction{output: []byte(tt.output), err: tt.err}
			server := httptest.NewServer(&HTTPAPI{Method: "POST", Path: "/v1/events", Function: fn})
			defer server.Close()

			resp, err := http.Post(server.URL+"/v1/events", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body: got %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestIsText(t *testing.T) {
	tests := []struct {
		name, contentType, encoding string
		body                        []byte
		want                        bool
	}{
		{"json", "application/json", "", []byte("{}"), true},
		{"json with charset", "application/json; charset=utf-8", "", []byte("{}"), true},
		{"gzip json", "application/json", "gzip", []byte{0x1f, 0x8b}, false},
		{"octet stream", "application/octet-stream", "", []byte("abc"), false},
		{"invalid UTF-8", "text/plain", "", []byte{0xff, 0xfe}, false},
		{"no content type", "", "", []byte("abc"), false},
		{"empty body", "", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isText(tt.contentType, tt.encoding, tt.body); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// postAPI sends a POST with the content type and body and returns the
// response's status and body.
func postAPI(t *testing.T, url, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/v1/events", contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// An event over Lambda's 6 MB request limit gets API Gateway's 413 instead
// of an invoke that the function cannot read.
func TestHTTPAPIRejectsEventOverLambdaLimit(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"7 MiB JSON body", []byte(`{"events":"` + strings.Repeat("a", 7<<20) + `"}`)},
		{"control characters under 4 MiB", []byte(`{"s":"` + strings.Repeat("\x01", 1200<<10) + `"}`)},
		{"escaped quotes under 4 MiB", []byte(`{"s":"` + strings.Repeat(`\"`, 1950<<10) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &fakeFunction{output: []byte(`{"statusCode":202}`)}
			server := httptest.NewServer(&HTTPAPI{Method: "POST", Path: "/v1/events", Function: fn})
			defer server.Close()

			status, body := postAPI(t, server.URL, "application/json", tt.body)

			if status != http.StatusRequestEntityTooLarge {
				t.Errorf("status: got %d, want 413", status)
			}
			if want := `{"message":"Request Entity Too Large"}` + "\n"; body != want {
				t.Errorf("body: got %.200q, want %q", body, want)
			}
			if n := len(fn.calls()); n != 0 {
				t.Errorf("function invocations: got %d, want 0", n)
			}
		})
	}
}

// An event of exactly 6,291,456 bytes is invoked and one byte more is not.
// The envelope's size is measured on a first request whose Content-Length
// has as many digits as those of the two requests at the limit.
func TestHTTPAPIInvokesEventAtLambdaLimit(t *testing.T) {
	fn := &fakeFunction{output: []byte(`{"statusCode":202}`)}
	server := httptest.NewServer(&HTTPAPI{Method: "POST", Path: "/v1/events", Function: fn,
		Now: func() time.Time { return time.UnixMilli(1796396400123) }})
	defer server.Close()

	const probeBytes = 1 << 20
	if status, _ := postAPI(t, server.URL, "text/plain", bytes.Repeat([]byte("a"), probeBytes)); status != 202 {
		t.Fatalf("probe status: got %d, want 202", status)
	}
	envelope := len(fn.calls()[0]) - probeBytes
	atLimit := maxInvokePayload - envelope

	if status, _ := postAPI(t, server.URL, "text/plain", bytes.Repeat([]byte("a"), atLimit)); status != 202 {
		t.Errorf("event of %d bytes: got status %d, want 202", maxInvokePayload, status)
	}
	if status, _ := postAPI(t, server.URL, "text/plain", bytes.Repeat([]byte("a"), atLimit+1)); status != 413 {
		t.Errorf("event of %d bytes: got status %d, want 413", maxInvokePayload+1, status)
	}
	calls := fn.calls()
	if n := len(calls); n != 2 {
		t.Fatalf("function invocations: got %d, want 2 (the probe and the event at the limit)", n)
	}
	if n := len(calls[1]); n != maxInvokePayload {
		t.Errorf("payload at the limit: got %d bytes, want %d", n, maxInvokePayload)
	}
}

// API Gateway passes < > & in a body through unescaped.
func TestHTTPAPIKeepsHTMLCharacters(t *testing.T) {
	fn := &fakeFunction{output: []byte(`{"statusCode":202}`)}
	server := httptest.NewServer(&HTTPAPI{Method: "POST", Path: "/v1/events", Function: fn})
	defer server.Close()

	postAPI(t, server.URL, "application/json", []byte(`{"s":"<b>&</b>"}`))

	calls := fn.calls()
	if len(calls) != 1 {
		t.Fatalf("function invocations: got %d, want 1", len(calls))
	}
	if want := `"body":"{\"s\":\"<b>&</b>\"}"`; !strings.Contains(string(calls[0]), want) {
		t.Errorf("payload: got %s, want it to contain %s", calls[0], want)
	}
}

// An ANY route, like template.yaml's, sends every method of its path to the
// function and leaves other paths to API Gateway's 404.
func TestHTTPAPIRoutesAnyMethod(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantInvoked  bool
	}{
		{"GET", "/v1/events", 405, true},
		{"PUT", "/v1/events", 405, true},
		{"DELETE", "/v1/events", 405, true},
		{"POST", "/v1/events", 405, true},
		{"GET", "/v1/other", 404, false},
		{"POST", "/", 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			fn := &fakeFunction{output: []byte(`{"statusCode":405,"headers":{"Allow":"POST"}}`)}
			server := httptest.NewServer(&HTTPAPI{Method: "ANY", Path: "/v1/events", Function: fn})
			defer server.Close()

			req, err := http.NewRequest(tt.method, server.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			calls := fn.calls()
			if !tt.wantInvoked {
				if want := `{"message":"Not Found"}` + "\n"; string(body) != want {
					t.Errorf("body: got %q, want %q", body, want)
				}
				if len(calls) != 0 {
					t.Errorf("function invocations: got %d, want 0", len(calls))
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("function invocations: got %d, want 1", len(calls))
			}
			var event events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(calls[0], &event); err != nil {
				t.Fatal(err)
			}
			if event.RouteKey != "ANY /v1/events" {
				t.Errorf("routeKey: got %q, want %q", event.RouteKey, "ANY /v1/events")
			}
			if event.RequestContext.HTTP.Method != tt.method {
				t.Errorf("requestContext.http.method: got %q, want %q", event.RequestContext.HTTP.Method, tt.method)
			}
		})
	}
}
