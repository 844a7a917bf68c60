package genesyssim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Endpoint names, used in Stats, ReceivedEvent and the Endpoints lists of Faults.
const (
	EndpointToken          = "token"
	EndpointAppEvents      = "appevents"
	EndpointWebEvents      = "webevents"
	EndpointExternalEvents = "externalevents"
)

var allEndpoints = []string{
	EndpointToken, EndpointAppEvents, EndpointWebEvents, EndpointExternalEvents,
}

// maxBodyBytes caps request bodies to keep memory bounded. Genesys publishes no size limit,
// so this is a safeguard of the simulator, not a rule of the real service.
const maxBodyBytes = 10 << 20

// Server is the simulated Genesys Cloud service. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	cfg            Config
	mux            *http.ServeMux
	deployments    map[string]bool
	configurations map[string]bool
	clients        map[string]Client
	closed         chan struct{}
	closeOnce      sync.Once

	mu          sync.Mutex // guards every field below
	rng         *rand.Rand
	faults      Faults
	tokens      map[string]*accessToken
	pruneTokens int // token count at which expired tokens are next removed
	tokenWindow fixedWindow
	buckets     map[string]*deploymentLimit
	sessions    *sessionTable
	rec         *recorder
}

// New returns a Server for cfg. It panics if cfg.Faults is invalid, as SetFaults does.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:            cfg,
		deployments:    toSet(cfg.Deployments),
		configurations: toSet(cfg.ExternalConfigurations),
		clients:        make(map[string]Client, len(cfg.Clients)),
		closed:         make(chan struct{}),
		rng:            newRand(cfg.Seed),
		tokens:         make(map[string]*accessToken),
		pruneTokens:    minTokenPrune,
		buckets:        make(map[string]*deploymentLimit),
		sessions:       newSessionTable(cfg.Retention),
		rec:            newRecorder(cfg.Retention),
	}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = c
	}
	s.SetFaults(cfg.Faults)
	s.routes()
	return s
}

// Start runs a Server for cfg on a random port of 127.0.0.1 and returns it with its base
// URL, for example "http://127.0.0.1:41234". The server is closed when the test ends.
func Start(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts.URL
}

// Close ends every pending latency and slow-response delay, so that an HTTP server holding
// this handler can shut down at once. Requests after Close are served without delays.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("POST /oauth/token", s.endpoint(EndpointToken, s.handleToken))
	s.mux.Handle("POST /api/v2/journey/deployments/{deploymentId}/appevents",
		s.endpoint(EndpointAppEvents, s.handleAppEvent))
	s.mux.Handle("POST /api/v2/journey/deployments/{deploymentId}/webevents",
		s.endpoint(EndpointWebEvents, s.handleWebEvent))
	s.mux.Handle("POST /api/v2/journey/externalevents/configurations/{configurationId}/events",
		s.endpoint(EndpointExternalEvents, s.handleExternalEvents))
	s.controlRoutes()
}

// call carries one request through the fault layer and an endpoint handler.
type call struct {
	endpoint      string
	req           *http.Request
	body          []byte
	correlationID string
	slow          bool            // the response is held back by the SlowResponse fault
	partial       *PartialFailure // copy of the fault, nil when off
	slowKeys      []identityKey   // identities accepted during a slow call
}

// response is a complete HTTP response, built before anything is written so that the
// SlowResponse fault can hold it back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) write(w http.ResponseWriter) {
	for name, values := range r.header {
		w.Header()[name] = values
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// endpoint wraps an endpoint handler with fault injection and request counting.
func (s *Server) endpoint(name string, handle func(*call) *response) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Draw the correlation id and every fault decision in one locked step, so that
		// a sequence of requests draws the same numbers under the same seed.
		s.mu.Lock()
		c := &call{endpoint: name, req: r, correlationID: s.newUUID()}
		plan := s.planFaults(name, s.cfg.Now())
		s.mu.Unlock()

		if plan.outageMode == "reset" {
			s.countStatus(name, statusReset)
			resetConnection(w)
			return
		}
		if !s.wait(r.Context(), plan.latency) {
			s.countStatus(name, statusClientGone)
			return
		}

		resp := s.serve(c, plan, handle)
		s.countStatus(name, strconv.Itoa(resp.status))
		resp.header.Set("ININ-Correlation-Id", c.correlationID)
		if !c.slow {
			resp.write(w)
			return
		}

		seen := s.wait(r.Context(), plan.slowDelay)
		s.finishSlow(c, seen)
		if seen {
			resp.write(w)
		}
	})
}

// serve returns the injected error the plan calls for, or else the handler's response.
func (s *Server) serve(c *call, plan faultPlan, handle func(*call) *response) *response {
	if plan.status != 0 {
		return s.injectedError(c, plan)
	}

	body, err := io.ReadAll(http.MaxBytesReader(nil, c.req.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return s.platformError(c, http.StatusRequestEntityTooLarge, "request.entity.too.large",
				fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes))
		}
		return s.platformError(c, http.StatusBadRequest, "bad.request",
			"The request body could not be read.")
	}

	c.body = body
	c.slow = plan.slowDelay > 0
	c.partial = plan.partial
	return handle(c)
}

// wait sleeps for d unless the request ends or the server closes first. It reports
// whether the client is still waiting for the response.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}

	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-s.closed:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// resetConnection drops the client's connection without an HTTP response, with a TCP
// reset where the connection allows it.
func resetConnection(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
}

// newUUID returns a random version 4 UUID drawn from the seeded source. s.mu must be held.
func (s *Server) newUUID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func toSet(values []string) map[string]bool {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[v] = true
	}
	return set
}
