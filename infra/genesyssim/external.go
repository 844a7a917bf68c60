package genesyssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// Fields of one external event. The public sources list these four, so others are rejected.
//
// NOTE: the sources state the one-hour age rule for app and web events only. It is applied
// to dateCreated as well, so the simulator may be stricter than Genesys here.
var externalEntitySpecs = []fieldSpec{
	{name: "id", required: true, kind: kindString},
	{name: "dateCreated", required: true, kind: kindString, check: checkDateCreated},
	{name: "identifiers", required: true, kind: kindObject, fields: []fieldSpec{
		{name: "externalIds", required: true, kind: kindArray}, // items: checkExternalIDs
	}},
	{name: "attributes", kind: kindOpenObject},
}

// UnprocessedEntity is one entity of an external-events request that was not accepted.
type UnprocessedEntity struct {
	Event                json.RawMessage `json:"event"`
	OriginalRequestIndex int             `json:"originalRequestIndex"`
	IsRetryable          bool            `json:"isRetryable"`
	ErrorMessage         string          `json:"errorMessage"`
	StatusCode           int             `json:"statusCode"`
}

// ExternalEventsResponse is the body of a successful external-events request.
type ExternalEventsResponse struct {
	UnprocessedEntities []UnprocessedEntity `json:"unprocessedEntities"`
}

// handleExternalEvents serves a batch of external events. Steps: token, per-token rate
// limit and permission; configuration lookup; body and batch size; then each entity.
func (s *Server) handleExternalEvents(c *call) *response {
	state, refused := s.authorize(c, PermissionExternalEventsAdd)
	if refused != nil {
		state.apply(refused.header)
		return refused
	}

	resp := s.processExternalEvents(c)
	state.apply(resp.header)
	return resp
}

func (s *Server) processExternalEvents(c *call) *response {
	configID := c.req.PathValue("configurationId")
	if !s.configurations[configID] {
		return s.platformError(c, http.StatusNotFound, codeNotFound,
			fmt.Sprintf("External event configuration %s was not found.", configID))
	}

	var batch struct {
		Entities []json.RawMessage `json:"entities"`
	}
	decoder := json.NewDecoder(bytes.NewReader(c.body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&batch); err != nil || batch.Entities == nil {
		return s.platformError(c, http.StatusBadRequest, codeBadRequest,
			`The request body must be a JSON object {"entities": [...]} with no other properties.`)
	}
	if n := len(batch.Entities); n == 0 || n > s.cfg.MaxExternalEntities {
		return s.platformError(c, http.StatusBadRequest, codeInvalidProperty,
			fmt.Sprintf("entities: a request must contain between 1 and %d entities, got %d.",
				s.cfg.MaxExternalEntities, n),
			ErrorDetail{ErrorCode: codeInvalidProperty, FieldName: "entities"})
	}

	out := ExternalEventsResponse{UnprocessedEntities: []UnprocessedEntity{}}
	for i, raw := range batch.Entities {
		if problem := s.processEntity(c, configID, raw); problem != nil {
			problem.Event = raw
			problem.OriginalRequestIndex = i
			out.UnprocessedEntities = append(out.UnprocessedEntities, *problem)
		}
	}

	s.mu.Lock()
	s.rec.stats.EntitiesUnprocessed += int64(len(out.UnprocessedEntities))
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, out)
}

// processEntity validates and accepts one entity, or returns why it was not processed.
func (s *Server) processEntity(c *call, configID string, raw json.RawMessage) *UnprocessedEntity {
	var entity map[string]any
	if err := json.Unmarshal(raw, &entity); err != nil || entity == nil {
		s.countRejected(1)
		return &UnprocessedEntity{StatusCode: http.StatusBadRequest,
			ErrorMessage: "The entity must be a JSON object."}
	}

	id, _ := entity["id"].(string)
	key := identityKey{endpoint: EndpointExternalEvents, target: configID, identity: id}
	if id != "" {
		s.noteReceived(key)
	}

	v := validator{now: s.cfg.Now(), futureTolerance: s.cfg.FutureTolerance}
	v.object(entity, "", externalEntitySpecs, true)
	externalID := checkExternalIDs(&v, entity)
	if len(v.details) > 0 {
		s.countRejected(1)
		return &UnprocessedEntity{StatusCode: http.StatusBadRequest,
			ErrorMessage: v.details[0].Message}
	}

	if c.partial != nil && s.drawChance(c.partial.Probability) {
		status := orDefault(c.partial.Status, http.StatusTooManyRequests)
		return &UnprocessedEntity{StatusCode: status, IsRetryable: true,
			ErrorMessage: fmt.Sprintf("The entity was not processed (%d %s); retry it later.",
				status, http.StatusText(status))}
	}

	s.acceptEvent(c, key, ReceivedEvent{ExternalID: externalID, Body: raw})
	return nil
}

// checkExternalIDs checks identifiers.externalIds, which must be a non-empty list of
// {value, externalSourceId}, and returns the first value.
func checkExternalIDs(v *validator, entity map[string]any) string {
	identifiers, _ := entity["identifiers"].(map[string]any)
	raw, present := identifiers["externalIds"]
	if identifiers == nil || !present || raw == nil {
		return "" // the field specs already reported it
	}

	const path = "identifiers.externalIds"
	list, ok := raw.([]any)
	if !ok {
		return "" // the field specs already reported it
	}
	if len(list) == 0 {
		v.fail(path, "must be a non-empty array of {value, externalSourceId}")
		return ""
	}

	first := ""
	for i, item := range list {
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := item.(map[string]any)
		if !ok {
			v.fail(itemPath, "must be an object {value, externalSourceId}")
			continue
		}
		v.object(obj, itemPath, []fieldSpec{
			{name: "value", required: true, kind: kindString},
			{name: "externalSourceId", required: true, kind: kindString},
		}, true)
		if value, _ := obj["value"].(string); i == 0 {
			first = value
		}
	}
	return first
}

// drawChance is chance with the lock taken.
func (s *Server) drawChance(p float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chance(p)
}
