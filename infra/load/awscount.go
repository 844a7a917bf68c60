package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// APICall names one AWS API operation, such as SQS SendMessageBatch.
type APICall struct {
	Service   string // SQS, DynamoDB, SecretsManager, or the target prefix of another JSON API
	Operation string
}

func (c APICall) String() string {
	return c.Service + " " + c.Operation
}

// CallCounts is a snapshot of what a CountingProxy saw.
type CallCounts struct {
	Calls map[APICall]int64

	// WriteUnits and ReadUnits are the DynamoDB on-demand capacity units of
	// the calls, estimated from the request. An item write counts one write
	// unit per started KB of request body, which covers the relay's small
	// items. A strongly consistent read counts one read unit and an
	// eventually consistent one half. A conditional write that fails still
	// consumes its write units, as in DynamoDB.
	WriteUnits float64
	ReadUnits  float64

	Throttled int64 // calls the proxy rejected with ThrottlingException
}

// Total returns the calls to service, all operations together.
func (c CallCounts) Total(service string) int64 {
	var n int64
	for call, count := range c.Calls {
		if call.Service == service {
			n += count
		}
	}
	return n
}

// Sorted returns the calls in a stable order.
func (c CallCounts) Sorted() []APICall {
	return slices.SortedFunc(maps.Keys(c.Calls), func(a, b APICall) int {
		return strings.Compare(a.String(), b.String())
	})
}

// CountingProxy is a reverse proxy in front of the AWS emulator that counts
// each call by service and operation, read from the X-Amz-Target header of
// the JSON protocols or the Action parameter of the query protocol. It can
// reject chosen calls with ThrottlingException instead of forwarding them.
type CountingProxy struct {
	URL string

	// Throttle, when set, is called for each call. When it returns true the
	// proxy responds with HTTP 400 ThrottlingException, which AWS SDKs retry
	// with backoff.
	Throttle func(APICall) bool

	// Receipts, when set, follows SQS receipt handles.
	Receipts *ReceiptTracker

	proxy    *httputil.ReverseProxy
	server   *http.Server
	mu       sync.Mutex
	counts   CallCounts
	counting bool
}

// StartCountingProxy serves a proxy to target on a free port of 127.0.0.1.
// It counts nothing until Count(true).
func StartCountingProxy(target string) (*CountingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("start counting proxy: invalid target %q: %w", target, err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start counting proxy: %w", err)
	}
	p := &CountingProxy{
		URL:    "http://" + listener.Addr().String(),
		proxy:  httputil.NewSingleHostReverseProxy(u),
		counts: CallCounts{Calls: map[APICall]int64{}},
	}
	p.server = &http.Server{Handler: p}
	go func() { _ = p.server.Serve(listener) }()
	return p, nil
}

// Close stops the proxy.
func (p *CountingProxy) Close() {
	_ = p.server.Close()
}

// Count starts or stops counting.
func (p *CountingProxy) Count(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counting = on
}

// Counts returns a copy of the counts so far.
func (p *CountingProxy) Counts() CallCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.counts
	out.Calls = maps.Clone(p.counts.Calls)
	return out
}

func (p *CountingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	call := classify(r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), body)

	throttle := p.Throttle != nil && p.Throttle(call)
	p.record(call, body, throttle)
	if throttle {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	}
	if p.Receipts == nil || call.Service != "SQS" {
		p.proxy.ServeHTTP(w, r)
		return
	}
	recorder := &responseCopy{ResponseWriter: w}
	p.proxy.ServeHTTP(recorder, r)
	p.Receipts.observe(call, r.Header.Get("User-Agent"), body, recorder.body.Bytes())
}

// responseCopy keeps a copy of the body written through it.
type responseCopy struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *responseCopy) Write(p []byte) (int, error) {
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}

func (p *CountingProxy) record(call APICall, body []byte, throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.counting {
		return
	}
	p.counts.Calls[call]++
	if throttled {
		p.counts.Throttled++
		return
	}
	if call.Service == "DynamoDB" {
		w, r := capacityUnits(call.Operation, body)
		p.counts.WriteUnits += w
		p.counts.ReadUnits += r
	}
}

// servicePrefixes maps X-Amz-Target prefixes to service names.
var servicePrefixes = map[string]string{
	"AmazonSQS":         "SQS",
	"DynamoDB_20120810": "DynamoDB",
	"secretsmanager":    "SecretsManager",
}

// classify names the call of a request: the X-Amz-Target of the JSON
// protocols ("DynamoDB_20120810.UpdateItem") or the Action form field of the
// query protocol, which older SQS clients use.
func classify(target, contentType string, body []byte) APICall {
	if prefix, operation, ok := strings.Cut(target, "."); ok {
		service := servicePrefixes[prefix]
		if service == "" {
			service = prefix
		}
		return APICall{Service: service, Operation: operation}
	}
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return APICall{Service: "SQS", Operation: form.Get("Action")}
		}
	}
	return APICall{Service: "unknown", Operation: "unknown"}
}

// capacityUnits estimates the on-demand write and read units of a DynamoDB
// call from its request body.
func capacityUnits(operation string, body []byte) (write, read float64) {
	kb := math.Max(1, math.Ceil(float64(len(body))/1024))
	switch operation {
	case "PutItem", "UpdateItem", "DeleteItem":
		return kb, 0
	case "TransactWriteItems":
		var req struct {
			TransactItems []json.RawMessage
		}
		_ = json.Unmarshal(body, &req)
		return 2 * float64(max(len(req.TransactItems), 1)), 0
	case "BatchWriteItem":
		var req struct {
			RequestItems map[string][]json.RawMessage
		}
		_ = json.Unmarshal(body, &req)
		n := 0
		for _, items := range req.RequestItems {
			n += len(items)
		}
		return float64(max(n, 1)), 0
	case "GetItem", "Query", "Scan":
		var req struct {
			ConsistentRead bool
		}
		_ = json.Unmarshal(body, &req)
		if req.ConsistentRead {
			return 0, 1
		}
		return 0, 0.5
	}
	return 0, 0
}
