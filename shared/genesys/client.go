package genesys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/journeyrelay/relay/shared/journey"
)

// Defaults that NewClient applies to zero fields of Config.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultMaxConnsPerHost = 32
)

// Response bodies are read up to these sizes, and the rest is discarded so
// the connection can be reused.
const (
	maxErrorBodyBytes    = 64 << 10
	maxExternalBodyBytes = 8 << 20
)

// Config sets up a Client. Zero fields take the defaults above.
type Config struct {
	// APIBaseURL is the API host, such as https://api.mypurecloud.com, with no
	// trailing path.
	APIBaseURL string

	// DeploymentID is the Messenger deployment that receives app and web events.
	DeploymentID string

	// ExternalConfigurationID is the external-events configuration. When it
	// is empty, CUSTOM events cannot be sent and come back Misconfigured.
	ExternalConfigurationID string

	// ExternalSourceID is the externalSourceId of each CUSTOM event's user id.
	ExternalSourceID string

	// Timeout bounds each request, from sending it to reading the response.
	Timeout time.Duration

	// MaxConnsPerHost caps the connections to Genesys, all kept alive for reuse.
	MaxConnsPerHost int

	// HTTPClient sends the requests. When nil, NewClient builds one from
	// MaxConnsPerHost that never follows redirects.
	HTTPClient *http.Client
}

// Client sends journey events to Genesys Cloud. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	baseErr error // the error of an unusable APIBaseURL, or nil
}

// NewClient returns a Client for cfg.
func NewClient(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	cfg.APIBaseURL = strings.TrimRight(cfg.APIBaseURL, "/")

	client := cfg.HTTPClient
	if client == nil {
		client = newHTTPClient(cfg.MaxConnsPerHost)
	}
	return &Client{cfg: cfg, http: client, baseErr: checkBaseURL(cfg.APIBaseURL)}
}

func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return fmt.Errorf("invalid Genesys API base URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("invalid Genesys API base URL %q: want https://api.<region>", base)
	}
	return nil
}

func newHTTPClient(maxConns int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxConnsPerHost = maxConns
	transport.MaxIdleConnsPerHost = maxConns
	transport.MaxIdleConns = max(transport.MaxIdleConns, maxConns)
	return &http.Client{
		Transport: transport,
		// A redirect means a wrong base URL, and following it would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Send posts one APP event to the appevents endpoint or one WEB event to the
// webevents endpoint. These endpoints take no access token.
func (c *Client) Send(ctx context.Context, ev journey.Event) Result {
	var (
		body     []byte
		err      error
		endpoint string
		op       = "send event"
	)
	switch ev.Type {
	case journey.TypeApp:
		body, err = AppEventBody(ev)
		endpoint, op = "appevents", "send app event"
	case journey.TypeWeb:
		body, err = WebEventBody(ev)
		endpoint, op = "webevents", "send web event"
	default:
		err = fmt.Errorf("event_type %q is not APP or WEB, send it with SendExternal", ev.Type)
	}
	switch {
	case err != nil:
		return rejected(Permanent, op, err)
	case c.baseErr != nil:
		return rejected(Misconfigured, op, c.baseErr)
	case c.cfg.DeploymentID == "":
		return rejected(Misconfigured, op, errors.New("missing Genesys deployment id"))
	}

	target := c.cfg.APIBaseURL + "/api/v2/journey/deployments/" +
		url.PathEscape(c.cfg.DeploymentID) + "/" + endpoint
	return c.post(ctx, target, "", body, maxErrorBodyBytes).result(op)
}

// rejected returns the Result of an event that was not sent.
func rejected(outcome Outcome, op string, err error) Result {
	err = fmt.Errorf("%s: %w", op, err)
	return Result{Outcome: outcome, Detail: truncate(oneLine(err.Error()), maxDetailBytes), Err: err}
}

// exchange is one request and what came back.
type exchange struct {
	status      int
	header      http.Header
	body        []byte
	wroteAll    bool // the request was written in full
	err         error
	receivedAt  time.Time
	contentType string
}

// post sends body to target with a bearer token when token is set, and
// reads up to maxBody bytes of the response.
func (c *Client) post(ctx context.Context, target, token string, body []byte, maxBody int64) exchange {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return exchange{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return exchange{err: err, wroteAll: wrote.Load()}
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	// Drain what is left so the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyBytes))
	return exchange{
		status:      resp.StatusCode,
		header:      resp.Header,
		body:        data,
		wroteAll:    true,
		err:         err,
		receivedAt:  time.Now(),
		contentType: resp.Header.Get("Content-Type"),
	}
}
