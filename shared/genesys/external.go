package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/journeyrelay/relay/shared/journey"
)

const opSendExternal = "send external events"

// unprocessedEntity is one entry of the unprocessedEntities list that
// Genesys returns for the entities of a request it did not accept.
type unprocessedEntity struct {
	OriginalRequestIndex int    `json:"originalRequestIndex"`
	IsRetryable          bool   `json:"isRetryable"`
	ErrorMessage         string `json:"errorMessage"`
	StatusCode           int    `json:"statusCode"`
}

// SendExternal posts CUSTOM events as external events in one request, with
// token as the bearer token. It returns one Result per event, in the order
// of evs. An event Genesys lists as unprocessed is Retry or Permanent, as its
// isRetryable flag tells. Every other event of a 2xx response is Delivered. An event
// that cannot be encoded is Permanent and is left out of the request.
//
// NOTE: Genesys publishes no maximum number of entities per request. The
// caller picks the batch size; the local simulator accepts up to 100.
func (c *Client) SendExternal(ctx context.Context, token string, evs []journey.Event) []Result {
	results := make([]Result, len(evs))
	if len(evs) == 0 {
		return results
	}
	if failure, ok := c.checkExternal(token); !ok {
		for i := range results {
			results[i] = failure
		}
		return results
	}

	var sendable []journey.Event
	var positions []int // index in evs of each sendable event
	for i, ev := range evs {
		if err := checkEvent(ev, journey.TypeCustom); err != nil {
			results[i] = rejected(Permanent, opSendExternal, fmt.Errorf("event %d: %w", i, err))
			continue
		}
		sendable = append(sendable, ev)
		positions = append(positions, i)
	}
	if len(sendable) == 0 {
		return results
	}

	body, err := ExternalEventsBody(sendable, c.cfg.ExternalSourceID)
	if err != nil {
		for _, i := range positions {
			results[i] = rejected(Permanent, opSendExternal, err)
		}
		return results
	}
	target := c.cfg.APIBaseURL + "/api/v2/journey/externalevents/configurations/" +
		url.PathEscape(c.cfg.ExternalConfigurationID) + "/events"
	exchanged := c.post(ctx, target, token, body, maxExternalBodyBytes)
	for j, r := range exchanged.externalResults(len(sendable)) {
		results[positions[j]] = r
	}
	return results
}

// checkExternal returns the Result of every event when external events
// cannot be sent at all.
func (c *Client) checkExternal(token string) (Result, bool) {
	switch {
	case c.baseErr != nil:
		return rejected(Misconfigured, opSendExternal, c.baseErr), false
	case c.cfg.ExternalConfigurationID == "":
		return rejected(Misconfigured, opSendExternal, errors.New("missing external events configuration id")), false
	case c.cfg.ExternalSourceID == "":
		return rejected(Misconfigured, opSendExternal, errors.New("missing external source id")), false
	case token == "":
		return rejected(Unauthorized, opSendExternal, errors.New("missing access token")), false
	}
	return Result{}, true
}

// externalResults returns the Result of each of the n entities of an
// external-events request.
func (x exchange) externalResults(n int) []Result {
	results := make([]Result, n)
	fill := func(r Result) []Result {
		for i := range results {
			results[i] = r
		}
		return results
	}
	if x.status < 200 || x.status >= 300 {
		return fill(x.result(opSendExternal))
	}

	var parsed struct {
		UnprocessedEntities []unprocessedEntity `json:"unprocessedEntities"`
	}
	if len(bytes.TrimSpace(x.body)) > 0 || x.err != nil {
		if err := errors.Join(x.err, json.Unmarshal(x.body, &parsed)); err != nil {
			// Genesys took the request but its response is unreadable, so any entity may have been accepted.
			return fill(x.unreadable(err))
		}
	}

	fill(Result{Outcome: Delivered, Status: x.status})
	for _, u := range parsed.UnprocessedEntities {
		if u.OriginalRequestIndex >= 0 && u.OriginalRequestIndex < n {
			results[u.OriginalRequestIndex] = x.unprocessed(u)
		}
	}
	return results
}

func (x exchange) unprocessed(u unprocessedEntity) Result {
	outcome := Permanent
	if u.IsRetryable {
		outcome = Retry
	}
	detail := truncate(oneLine(fmt.Sprintf("entity not processed, HTTP %d: %s", u.StatusCode, u.ErrorMessage)), maxDetailBytes)
	r := Result{
		Outcome: outcome,
		Status:  u.StatusCode,
		Detail:  detail,
		Err:     fmt.Errorf("%s: %s", opSendExternal, detail),
	}
	if u.IsRetryable {
		r.RetryAfter, r.HasRetryAfter = x.retryAfter()
	}
	return r
}

func (x exchange) unreadable(err error) Result {
	detail := truncate(oneLine(fmt.Sprintf("HTTP %d with an unreadable body: %v", x.status, err)), maxDetailBytes)
	return Result{
		Outcome:   Retry,
		Status:    x.status,
		Uncertain: true,
		Detail:    detail,
		Err:       fmt.Errorf("%s: read response: %w", opSendExternal, err),
	}
}
