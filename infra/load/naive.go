package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Naive is the baseline the relay is compared with: a plain client, as a
// hand-written mobile flush loop would be, that posts each APP event straight
// to Genesys, one request per event. Each device sends its events in order,
// one at a time. On 429 it waits exactly Retry-After and sends again, with no
// jitter. On a 5xx, a timeout or a transport error it waits one second and
// sends again. Other 4xx drop the event. It has no circuit breaker and no
// deduplication: a batch the app resends after a timeout is sent again in
// full. CUSTOM events need an OAuth token and are left out.
type Naive struct {
	BaseURL      string // the simulator's base URL
	DeploymentID string
	Client       *http.Client // its Timeout is the request timeout

	queues sync.Map // device number -> chan Event
	wg     sync.WaitGroup
	ctx    context.Context

	Requests    atomic.Int64
	RateLimited atomic.Int64
	Failures    atomic.Int64 // 5xx, timeouts and transport errors
	Dropped     atomic.Int64 // events given up on a 4xx other than 429
	Sent        atomic.Int64 // distinct APP events handed to the client
}

// Start lets the client send until ctx ends.
func (n *Naive) Start(ctx context.Context) {
	n.ctx = ctx
}

// Enqueue hands a device's batch to that device's flush loop, twice when the
// app resends it.
func (n *Naive) Enqueue(batch Batch, resend bool) {
	queue, loaded := n.queues.LoadOrStore(batch.Device.Number, make(chan Event, 1<<16))
	events := queue.(chan Event)
	if !loaded {
		n.wg.Go(func() { n.loop(batch.Device, events) })
	}
	copies := 1
	if resend {
		copies = 2
	}
	for c := range copies {
		for _, ev := range batch.Events {
			if ev.Type != "APP" {
				continue
			}
			if c == 0 {
				n.Sent.Add(1)
			}
			select {
			case events <- ev:
			default: // the queue is full: the app drops the event, as a bounded buffer would
				n.Dropped.Add(1)
			}
		}
	}
}

// Wait blocks until every device loop has stopped, which happens when the
// context given to Start ends.
func (n *Naive) Wait() {
	n.wg.Wait()
}

func (n *Naive) loop(device *Device, events chan Event) {
	for {
		select {
		case <-n.ctx.Done():
			return
		case ev := <-events:
			n.deliver(device, ev)
		}
	}
}

// deliver sends one event until it is accepted, dropped, or the run ends.
func (n *Naive) deliver(device *Device, ev Event) {
	body := naiveBody(device, ev)
	url := fmt.Sprintf("%s/api/v2/journey/deployments/%s/appevents", n.BaseURL, n.DeploymentID)
	for n.ctx.Err() == nil {
		wait, done := n.attempt(url, body)
		if done {
			return
		}
		sleepCtx(n.ctx, wait)
	}
}

// attempt posts once and returns how long to wait before the next attempt,
// or done when the event was accepted or dropped.
func (n *Naive) attempt(url string, body []byte) (wait time.Duration, done bool) {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, true
	}
	req.Header.Set("Content-Type", "application/json")
	n.Requests.Add(1)
	resp, err := n.Client.Do(req)
	if err != nil {
		n.Failures.Add(1)
		return time.Second, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	switch {
	case resp.StatusCode < 300:
		return 0, true
	case resp.StatusCode == http.StatusTooManyRequests:
		n.RateLimited.Add(1)
		return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), false
	case resp.StatusCode >= 500:
		n.Failures.Add(1)
		return time.Second, false
	default:
		n.Dropped.Add(1)
		return 0, true
	}
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP-date, as RFC
// 9110 allows; a missing or unreadable value means one second.
func parseRetryAfter(value string, now time.Time) time.Duration {
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(now), 0)
	}
	return time.Second
}

type naiveAttribute struct {
	DataType string `json:"dataType"`
	Value    string `json:"value"`
}

// naiveBody returns the Genesys app event request body of ev.
func naiveBody(device *Device, ev Event) []byte {
	attributes := map[string]naiveAttribute{}
	for name, value := range ev.Body.Properties {
		switch v := value.(type) {
		case string:
			attributes[name] = naiveAttribute{"string", v}
		case int:
			attributes[name] = naiveAttribute{"integer", strconv.Itoa(v)}
		case bool:
			attributes[name] = naiveAttribute{"boolean", strconv.FormatBool(v)}
		}
	}
	body := map[string]any{
		"eventName":  ev.Body.EventName,
		"screenName": ev.Body.ScreenName,
		"app": map[string]string{"name": loadApp.Name, "namespace": loadApp.Namespace,
			"version": loadApp.Version, "buildNumber": loadApp.BuildNumber},
		"device": map[string]any{"category": loadDevice.Category, "type": loadDevice.Type,
			"osFamily": loadDevice.OSFamily, "osVersion": loadDevice.OSVersion, "isMobile": loadDevice.IsMobile},
		"customerCookieId": device.CookieID,
		"createdDate":      ev.Body.Timestamp,
		"sdkLibrary":       map[string]string{"name": loadSDK.Name, "version": loadSDK.Version},
		"attributes":       attributes,
	}
	data, _ := json.Marshal(body) // maps of strings, numbers and booleans always encode
	return data
}
