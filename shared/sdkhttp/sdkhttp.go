// Package sdkhttp adapts the HTTP client the AWS SDK sends its requests with.
package sdkhttp

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// MaxBufferedBody is the largest request body BufferBodies copies into
// memory. The relay's requests are smaller: a Lambda invocation payload is
// at most 6 MB, an SQS batch at most 1 MiB, and its DynamoDB items are under 1 KB.
const MaxBufferedBody = 8 << 20

// BufferBodies returns a client that hands next each request body as an
// in-memory reader, so that net/http writes the headers and the body in one
// piece.
//
// With the SDK's own body type, net/http sends the headers first and then
// the body straight to the socket, so a fast server can respond before the
// write is done. In a two-minute load run against the local emulator, 35
// such writes ended with io.EOF and the transport closed each connection,
// five times while the response was still being read. The SDK
// retried such a ReceiveMessage, and the messages of the lost response
// stayed hidden until their visibility timeout.
//
// NOTE: the EOF was seen through an httptrace WroteRequest hook in load
// runs against kumo; which read returns it inside net/http was not found.
//
// Bodies of unknown length or over MaxBufferedBody go through unchanged.
// The SDK applies the timeouts of AWS_DEFAULTS_MODE only to its own client
// type, so set timeouts on next before wrapping it when a mode needs them.
func BufferBodies(next aws.HTTPClient) aws.HTTPClient {
	return bufferedBodies{next: next}
}

type bufferedBodies struct {
	next aws.HTTPClient
}

func (c bufferedBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > MaxBufferedBody {
		return c.next.Do(req)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, req.ContentLength))
	closeErr := req.Body.Close()
	if err != nil {
		return nil, err
	}
	if closeErr != nil {
		return nil, closeErr
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	return c.next.Do(req)
}
