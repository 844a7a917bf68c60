package genesyssim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Status keys in Stats.Requests for requests that got no HTTP status.
const (
	statusReset      = "reset"       // the Outage fault reset the connection
	statusClientGone = "client-gone" // the client left during injected latency
)

// ReceivedEvent is one accepted event.
type ReceivedEvent struct {
	Seq        int64     `json:"seq"`      // 1 for the first event accepted since start or reset
	Endpoint   string    `json:"endpoint"` // "appevents", "webevents" or "externalevents"
	Deployment string    `json:"deploymentId,omitempty"`
	Config     string    `json:"configurationId,omitempty"`
	Identity   string    `json:"identity"` // body SHA-256 (app, web) or entity id (external)
	ID         string    `json:"id"`       // the event id sent in the response
	ReceivedAt time.Time `json:"receivedAt"`
	Duplicate  bool      `json:"duplicate"` // the same identity was accepted before
	Slow       bool      `json:"slow"`      // accepted while the SlowResponse fault held the response back

	EventName        string          `json:"eventName,omitempty"`
	CustomerCookieID string          `json:"customerCookieId,omitempty"`
	ExternalID       string          `json:"externalId,omitempty"` // first identifiers.externalIds value
	Body             json.RawMessage `json:"body"`                 // request body, or the entity
}

// Stats is a snapshot of the counters. Counters cover everything since start or the last
// reset; only DuplicateIdentities is limited to the retained identities.
type Stats struct {
	// Requests counts requests by endpoint and then by status code ("201", "429"), or by
	// "reset" and "client-gone" for requests that got no status.
	Requests map[string]map[string]int64 `json:"requests"`

	EventsAccepted           int64            `json:"eventsAccepted"`
	EventsAcceptedByEndpoint map[string]int64 `json:"eventsAcceptedByEndpoint"`
	EventsRejected           int64            `json:"eventsRejected"`      // failed validation
	EntitiesUnprocessed      int64            `json:"entitiesUnprocessed"` // all unprocessedEntities

	// Duplicates counts acceptances of an identity that was already accepted, for the
	// same endpoint and deployment or configuration.
	Duplicates          int64               `json:"duplicates"`
	DuplicateIdentities []DuplicateIdentity `json:"duplicateIdentities"`

	// PeakEventsPerSecond is the most events accepted within any one-second sliding window.
	PeakEventsPerSecond int64     `json:"peakEventsPerSecond"`
	PeakAt              time.Time `json:"peakAt,omitzero"` // end of that window

	RateLimited  int64 `json:"rateLimited"` // 429 responses, real or injected
	TokensIssued int64 `json:"tokensIssued"`

	// SlowResponses counts requests whose response the SlowResponse fault held back.
	// UnseenResponses counts those whose client left before the response was written, and
	// UnseenEvents the events they accepted. UnseenEventsResent counts how many of those
	// events were received again later, in any request that reached the endpoint.
	SlowResponses      int64 `json:"slowResponses"`
	UnseenResponses    int64 `json:"unseenResponses"`
	UnseenEvents       int64 `json:"unseenEvents"`
	UnseenEventsResent int64 `json:"unseenEventsResent"`

	EventsRetained int   `json:"eventsRetained"` // events that Events returns now
	EventsEvicted  int64 `json:"eventsEvicted"`  // events dropped from the ring buffer
}

// DuplicateIdentity is an identity that was accepted more than once.
type DuplicateIdentity struct {
	Endpoint string `json:"endpoint"`
	Target   string `json:"target"` // deployment or configuration id
	Identity string `json:"identity"`
	Accepted int64  `json:"accepted"`
}

// identityKey names an event for duplicate detection.
type identityKey struct {
	endpoint, target, identity string
}

// identityEntry tracks one identity. The slow* fields follow an acceptance made during a
// SlowResponse fault until the client is known to have received or missed the response.
type identityEntry struct {
	accepted    int64
	slowPending bool // accepted under SlowResponse, answer not yet written or abandoned
	unseen      bool // the client never saw the answer
	resent      bool // received again after the slow acceptance
	counted     bool // already counted in UnseenEventsResent
}

// recorder holds the counters, the ring buffer of events and the identity table. The
// Server's mutex guards it.
type recorder struct {
	limit int
	stats Stats
	seq   int64

	events []ReceivedEvent // ring buffer of at most limit events
	next   int             // ring index of the next write once the buffer is full

	identities map[identityKey]*identityEntry
	order      []identityKey // identities by first acceptance, oldest first

	window []time.Time // acceptance times within the last second, for the peak rate
}

func newRecorder(limit int) *recorder {
	return &recorder{
		limit:      limit,
		stats:      emptyStats(),
		identities: make(map[identityKey]*identityEntry),
	}
}

func emptyStats() Stats {
	return Stats{
		Requests:                 make(map[string]map[string]int64),
		EventsAcceptedByEndpoint: make(map[string]int64),
		DuplicateIdentities:      []DuplicateIdentity{},
	}
}

// acceptEvent records an accepted event and returns the event id for the response.
func (s *Server) acceptEvent(c *call, key identityKey, ev ReceivedEvent) string {
	s.mu.Lock()
	defer s.mu.Unlock()

	r := s.rec
	now := s.cfg.Now()
	entry := r.identities[key]
	if entry == nil {
		entry = &identityEntry{}
		r.identities[key] = entry
		r.order = append(r.order, key)
		r.evictIdentities()
	}
	entry.accepted++
	if entry.accepted > 1 {
		r.stats.Duplicates++
	}
	if c.slow {
		*entry = identityEntry{accepted: entry.accepted, slowPending: true}
		c.slowKeys = append(c.slowKeys, key)
	}

	r.seq++
	ev.Seq = r.seq
	ev.Endpoint = key.endpoint
	ev.Identity = key.identity
	ev.ID = s.newUUID()
	ev.ReceivedAt = now
	ev.Duplicate = entry.accepted > 1
	ev.Slow = c.slow
	if key.endpoint == EndpointExternalEvents {
		ev.Config = key.target
	} else {
		ev.Deployment = key.target
	}
	r.store(ev)

	r.stats.EventsAccepted++
	r.stats.EventsAcceptedByEndpoint[key.endpoint]++
	r.notePeak(now)
	return ev.ID
}

func (r *recorder) store(ev ReceivedEvent) {
	if len(r.events) < r.limit {
		r.events = append(r.events, ev)
		return
	}
	r.events[r.next] = ev
	r.next = (r.next + 1) % r.limit
	r.stats.EventsEvicted++
}

// evictIdentities drops the oldest identities beyond the limit, so a duplicate of an
// event older than the last limit distinct identities is no longer detected.
func (r *recorder) evictIdentities() {
	for len(r.identities) > r.limit {
		delete(r.identities, r.order[0])
		r.order = r.order[1:]
	}
}

// notePeak adds an acceptance at now to the one-second sliding window.
func (r *recorder) notePeak(now time.Time) {
	r.window = append(r.window, now)
	cut := 0
	for cut < len(r.window) && !r.window[cut].After(now.Add(-time.Second)) {
		cut++
	}
	r.window = r.window[cut:]
	if n := int64(len(r.window)); n > r.stats.PeakEventsPerSecond {
		r.stats.PeakEventsPerSecond = n
		r.stats.PeakAt = now
	}
}

// noteReceived marks an identity as received again, for UnseenEventsResent.
func (s *Server) noteReceived(key identityKey) {
	s.mu.Lock()
	defer s.mu.Unlock()

	entry := s.rec.identities[key]
	if entry == nil || !(entry.slowPending || entry.unseen) || entry.resent {
		return
	}
	entry.resent = true
	if entry.unseen && !entry.counted {
		entry.counted = true
		s.rec.stats.UnseenEventsResent++
	}
}

// finishSlow records whether the client saw the answer of a slow call.
func (s *Server) finishSlow(c *call, seen bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	stats := &s.rec.stats
	stats.SlowResponses++
	if !seen {
		stats.UnseenResponses++
		stats.UnseenEvents += int64(len(c.slowKeys))
	}
	for _, key := range c.slowKeys {
		entry := s.rec.identities[key]
		if entry == nil || !entry.slowPending {
			continue
		}
		entry.slowPending = false
		entry.unseen = !seen
		if entry.unseen && entry.resent && !entry.counted {
			entry.counted = true
			stats.UnseenEventsResent++
		}
	}
}

func (s *Server) countStatus(endpoint, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	byStatus := s.rec.stats.Requests[endpoint]
	if byStatus == nil {
		byStatus = make(map[string]int64)
		s.rec.stats.Requests[endpoint] = byStatus
	}
	byStatus[status]++
	if status == "429" {
		s.rec.stats.RateLimited++
	}
}

func (s *Server) countRejected(n int) {
	s.mu.Lock()
	s.rec.stats.EventsRejected += int64(n)
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters, the same data as GET /_sim/stats.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()

	r := s.rec
	out := r.stats
	out.EventsRetained = len(r.events)
	out.Requests = make(map[string]map[string]int64, len(r.stats.Requests))
	for endpoint, byStatus := range r.stats.Requests {
		out.Requests[endpoint] = make(map[string]int64, len(byStatus))
		for status, n := range byStatus {
			out.Requests[endpoint][status] = n
		}
	}
	out.EventsAcceptedByEndpoint = make(map[string]int64, len(r.stats.EventsAcceptedByEndpoint))
	for endpoint, n := range r.stats.EventsAcceptedByEndpoint {
		out.EventsAcceptedByEndpoint[endpoint] = n
	}

	out.DuplicateIdentities = []DuplicateIdentity{}
	for key, entry := range r.identities {
		if entry.accepted > 1 {
			out.DuplicateIdentities = append(out.DuplicateIdentities, DuplicateIdentity{
				Endpoint: key.endpoint, Target: key.target, Identity: key.identity,
				Accepted: entry.accepted,
			})
		}
	}
	slices.SortFunc(out.DuplicateIdentities, func(a, b DuplicateIdentity) int {
		return strings.Compare(a.Endpoint+a.Target+a.Identity, b.Endpoint+b.Target+b.Identity)
	})
	return out
}

// Events returns the retained accepted events, oldest first, the same data as
// GET /_sim/events.
func (s *Server) Events() []ReceivedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()

	r := s.rec
	out := make([]ReceivedEvent, 0, len(r.events))
	if len(r.events) < r.limit {
		return append(out, r.events...)
	}
	out = append(out, r.events[r.next:]...)
	return append(out, r.events[:r.next]...)
}
