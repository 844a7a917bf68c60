package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Limits of an API Gateway HTTP API.
const (
	MaxRequestBytes    = 10 << 20         // request payload, 10 MB
	IntegrationTimeout = 30 * time.Second // the max integration timeout
)

// Invoker runs a function synchronously and returns its response payload.
// A function error comes back as an error.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// HTTPAPI serves one route the way an API Gateway HTTP API with a Lambda
// proxy integration (payload format 2.0) does: it turns each request into an
// events.APIGatewayV2HTTPRequest, invokes the function and turns the
// function's events.APIGatewayV2HTTPResponse back into an HTTP response.
type HTTPAPI struct {
	Method   string // route method, such as "POST", or "ANY" for every method
	Path     string // route path, such as "/v1/events"
	Function Invoker
	Logger   *slog.Logger
	Now      func() time.Time // default time.Now
}

// gatewayError writes an error the way API Gateway words it.
func gatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"message\":%q}\n", message)
}

func (a *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (a.Method != "ANY" && r.Method != a.Method) || r.URL.Path != a.Path {
		gatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}

	event := a.event(r, body)
	payload, err := marshalEvent(event)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	// Lambda rejects a larger invoke with RequestEntityTooLargeException,
	// and API Gateway then answers 413. A body under ingest's 4 MiB cap can
	// pass this limit, because JSON escapes turn one byte into up to six.
	// NOTE: the exact body API Gateway returns in AWS was not verified here.
	if len(payload) > maxInvokePayload {
		a.logger().WarnContext(r.Context(), "event exceeds Lambda's request payload limit",
			"request_id", event.RequestContext.RequestID, "bytes", len(payload), "limit", maxInvokePayload)
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), IntegrationTimeout)
	defer cancel()
	output, err := a.Function.Invoke(ctx, payload)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		a.logger().ErrorContext(ctx, "integration timed out", "request_id", event.RequestContext.RequestID, "timeout", IntegrationTimeout)
		gatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if err != nil {
		a.logger().ErrorContext(r.Context(), "integration failed", "request_id", event.RequestContext.RequestID, "error", err)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, output); err != nil {
		a.logger().ErrorContext(r.Context(), "invalid integration response", "request_id", event.RequestContext.RequestID, "error", err)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func (a *HTTPAPI) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// marshalEvent encodes an event without HTML escaping, because API Gateway
// passes < > & through as they are, not as \u003c and the like.
func marshalEvent(event events.APIGatewayV2HTTPRequest) ([]byte, error) {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(event); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// event builds the payload format 2.0 event of a request.
func (a *HTTPAPI) event(r *http.Request, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	received := now().UTC()
	routeKey := a.Method + " " + a.Path

	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		if strings.EqualFold(name, "Cookie") {
			for _, value := range values {
				cookies = append(cookies, strings.Split(value, "; ")...)
			}
			continue
		}
		headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	query := map[string]string{}
	for name, values := range r.URL.Query() {
		query[name] = strings.Join(values, ",")
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)

	event := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         received.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    received.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) == 0 {
		event.QueryStringParameters = nil
	}
	if isText(headers["content-type"], headers["content-encoding"], body) {
		event.Body = string(body)
	} else {
		event.Body = base64.StdEncoding.EncodeToString(body)
		event.IsBase64Encoded = true
	}
	return event
}

// isText reports whether API Gateway would pass the body as text rather than
// base64: an unencoded, valid UTF-8 body of a textual media type.
func isText(contentType, contentEncoding string, body []byte) bool {
	if len(body) == 0 {
		return true
	}
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	textual := strings.HasPrefix(mediaType, "text/") ||
		mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") ||
		mediaType == "application/xml" || strings.HasSuffix(mediaType, "+xml") ||
		mediaType == "application/javascript" || mediaType == "application/x-www-form-urlencoded"
	return textual && utf8.Valid(body)
}

// writeResponse writes a function's output as API Gateway does for payload
// format 2.0: an object with statusCode is a full response, and any other
// valid JSON becomes a 200 application/json body.
func writeResponse(w http.ResponseWriter, output []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(output, &probe) != nil || probe["statusCode"] == nil {
		if !json.Valid(output) {
			return fmt.Errorf("function output is not JSON: %.200s", output)
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(output)
		return err
	}

	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(output, &resp); err != nil {
		return fmt.Errorf("decode function response: %w", err)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("decode base64 response body: %w", err)
		}
		body = decoded
	}
	for name, value := range resp.Headers {
		w.Header().Set(name, value)
	}
	for name, values := range resp.MultiValueHeaders {
		w.Header()[http.CanonicalHeaderKey(name)] = values
	}
	for _, cookie := range resp.Cookies {
		w.Header().Add("Set-Cookie", cookie)
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}

// requestID returns a random id in the form of API Gateway's request ids.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
