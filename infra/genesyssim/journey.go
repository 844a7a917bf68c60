package genesyssim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Request fields of app events. Nested objects whose fields are all known are closed.
var appEventSpecs = []fieldSpec{
	{name: "eventName", required: true, kind: kindString, check: checkEventName},
	{name: "screenName", required: true, kind: kindString},
	{name: "app", required: true, kind: kindObject, fields: []fieldSpec{
		{name: "name", required: true, kind: kindString},
		{name: "namespace", required: true, kind: kindString},
		{name: "version", required: true, kind: kindString},
		{name: "buildNumber", required: true, kind: kindString},
	}},
	{name: "device", required: true, kind: kindObject, fields: []fieldSpec{
		{name: "category", required: true, kind: kindString, check: checkDeviceCategory},
		{name: "type", required: true, kind: kindString},
		{name: "osFamily", required: true, kind: kindString},
		{name: "osVersion", required: true, kind: kindString},
		{name: "isMobile", kind: kindBool},
		{name: "screenHeight", kind: kindInteger},
		{name: "screenWidth", kind: kindInteger},
		{name: "screenDensity", kind: kindNumber},
		{name: "fingerprint", kind: kindString},
		{name: "manufacturer", kind: kindString},
	}},
	{name: "customerCookieId", required: true, kind: kindString, check: checkUUID},
	{name: "createdDate", required: true, kind: kindString, check: checkCreatedDate},
	{name: "sdkLibrary", kind: kindObject, fields: []fieldSpec{
		{name: "name", kind: kindString},
		{name: "version", kind: kindString},
	}},
	{name: "networkConnectivity", kind: kindObject, fields: []fieldSpec{
		{name: "carrier", kind: kindString},
		{name: "bluetoothEnabled", kind: kindBool},
		{name: "cellularEnabled", kind: kindBool},
		{name: "wifiEnabled", kind: kindBool},
	}},
	{name: "referrerUrl", kind: kindString},
	{name: "searchQuery", kind: kindString},
	{name: "attributes", kind: kindAttributes},
	{name: "traits", kind: kindAttributes},
	{name: "externalId", kind: kindString},
}

// Request fields of web events. The public sources list only the required fields of page,
// browser and device, so those objects accept further fields.
//
// NOTE: the sources state the UUID and event-name rules for app events only. They are
// applied to web events as well, so the simulator may be stricter than Genesys here.
var webEventSpecs = []fieldSpec{
	{name: "customerCookieId", required: true, kind: kindString, check: checkUUID},
	{name: "eventName", required: true, kind: kindString, check: checkEventName},
	{name: "page", required: true, kind: kindOpenObject, fields: []fieldSpec{
		{name: "url", required: true, kind: kindString},
		{name: "title", required: true, kind: kindString},
	}},
	{name: "createdDate", required: true, kind: kindString, check: checkCreatedDate},
	{name: "userAgentString", kind: kindString},
	{name: "browser", kind: kindOpenObject},
	{name: "device", kind: kindOpenObject},
	{name: "ipAddress", kind: kindString},
	{name: "referrerUrl", kind: kindString},
	{name: "searchQuery", kind: kindString},
	{name: "attributes", kind: kindAttributes},
	{name: "traits", kind: kindAttributes},
	{name: "externalId", kind: kindString},
}

// EventIdentity returns the identity the simulator gives an app or web event body: the
// hex SHA-256 of the body decoded into a generic value and marshalled again, which sorts
// object keys and drops insignificant whitespace.
func EventIdentity(body []byte) (string, error) {
	var decoded any
	if err := json.Unmarshal(body, &decoded); err != nil {
		return "", fmt.Errorf("event identity: %w", err)
	}
	canonical, err := json.Marshal(decoded)
	if err != nil {
		return "", fmt.Errorf("event identity: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

func (s *Server) handleAppEvent(c *call) *response {
	return s.handleJourneyEvent(c, appEventSpecs)
}

func (s *Server) handleWebEvent(c *call) *response {
	return s.handleJourneyEvent(c, webEventSpecs)
}

// handleJourneyEvent serves app and web events. Steps: deployment lookup, the deployment's
// rate limit, body validation, then acceptance.
func (s *Server) handleJourneyEvent(c *call, specs []fieldSpec) *response {
	deploymentID := c.req.PathValue("deploymentId")
	if !s.deployments[deploymentID] {
		resp := s.platformError(c, http.StatusNotFound, codeNotFound,
			fmt.Sprintf("Deployment %s was not found.", deploymentID))
		allowed, window := s.limitFor(c.endpoint)
		rateState{allowed: allowed, reset: window}.apply(resp.header)
		return resp
	}

	// A body that parses as JSON has an identity even when it is rejected later, so a
	// resent event is noticed whatever its fate.
	var body map[string]any
	parseErr := json.Unmarshal(c.body, &body)
	identity, _ := EventIdentity(c.body)
	key := identityKey{endpoint: c.endpoint, target: deploymentID, identity: identity}
	if parseErr == nil && body != nil {
		s.noteReceived(key)
	}

	state, retryAfter := s.limitDeployment(deploymentID)
	if retryAfter > 0 {
		return s.tooManyRequests(c, state, retryAfter)
	}

	resp := s.acceptJourneyEvent(c, key, body, parseErr, specs)
	state.apply(resp.header)
	return resp
}

func (s *Server) acceptJourneyEvent(c *call, key identityKey, body map[string]any,
	parseErr error, specs []fieldSpec) *response {
	if parseErr != nil || body == nil {
		s.countRejected(1)
		return s.platformError(c, http.StatusBadRequest, codeBadRequest,
			"The request body must be a JSON object.")
	}

	now := s.cfg.Now()
	v := validator{now: now, futureTolerance: s.cfg.FutureTolerance}
	v.object(body, "", specs, true)
	if len(v.details) > 0 {
		s.countRejected(1)
		return s.platformError(c, http.StatusBadRequest, codeInvalidProperty,
			v.details[0].Message, v.details...)
	}

	cookieID, _ := body["customerCookieId"].(string)
	eventName, _ := body["eventName"].(string)
	createdDate, _ := body["createdDate"].(string)
	eventID := s.acceptEvent(c, key, ReceivedEvent{
		EventName:        eventName,
		CustomerCookieID: cookieID,
		Body:             json.RawMessage(c.body),
	})
	session := s.sessionFor(key.target, cookieID, strings.TrimSuffix(c.endpoint, "events"), now)

	// The response echoes the request and adds the ids Genesys assigns.
	out := make(map[string]any, len(body)+5)
	for k, val := range body {
		out[k] = val
	}
	out["id"] = eventID
	out["customerId"] = cookieID
	out["customerIdType"] = "cookie"
	out["session"] = session
	out["createdDate"] = createdDate
	delete(out, "customerCookieId")
	return jsonResponse(http.StatusCreated, out)
}

// SessionInfo is the session object of an app or web event response.
type SessionInfo struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"` // "app" or "web"
	EventCount  int       `json:"eventCount"`
	CreatedDate time.Time `json:"createdDate"`
	SelfURI     string    `json:"selfUri"`
}

// sessionIdle is how long a session lasts without events; Genesys ends an app session
// after 30 minutes idle.
const sessionIdle = 30 * time.Minute

// sessionTable keeps the current session of each customer cookie. It holds at most
// limit entries and drops the oldest-created first, which starts a new session for
// that cookie.
type sessionTable struct {
	limit   int
	entries map[string]*sessionEntry
	order   []string // keys by creation, oldest first
}

type sessionEntry struct {
	info     SessionInfo
	lastSeen time.Time
}

func newSessionTable(limit int) *sessionTable {
	return &sessionTable{limit: limit, entries: make(map[string]*sessionEntry)}
}

// sessionFor returns the session of cookieID on deploymentID after counting one more event.
func (s *Server) sessionFor(deploymentID, cookieID, kind string, now time.Time) SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()

	table := s.sessions
	key := kind + "\x00" + deploymentID + "\x00" + cookieID
	entry := table.entries[key]
	if entry == nil || now.Sub(entry.lastSeen) > sessionIdle {
		id := s.newUUID()
		if entry == nil {
			table.order = append(table.order, key)
		}
		entry = &sessionEntry{info: SessionInfo{
			ID: id, Type: kind, CreatedDate: now.UTC(),
			SelfURI: "/api/v2/journey/sessions/" + id,
		}}
		table.entries[key] = entry
	}
	entry.info.EventCount++
	entry.lastSeen = now

	for len(table.entries) > table.limit {
		delete(table.entries, table.order[0])
		table.order = table.order[1:]
	}
	return entry.info
}
