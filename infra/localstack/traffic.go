package localstack

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Session is one file of sample traffic in events/traffic: the requests one
// app install sends, in order.
//
// Any string value of a request body of the form {{now}}, {{now-90s}} or
// {{now+2m}} is replaced at replay time with that instant on the device's
// clock (the replay's start plus ClockOffset), formatted as RFC 3339 UTC with
// milliseconds. Genesys rejects events older than an hour, so fixed
// timestamps would go stale.
type Session struct {
	Name        string           `json:"-"` // the file name without .json
	Description string           `json:"description"`
	ClockOffset string           `json:"clock_offset,omitempty"` // how far the device clock is ahead (negative: behind), a Go duration
	Requests    []TrafficRequest `json:"requests"`
}

// TrafficRequest is one POST /v1/events of a session.
type TrafficRequest struct {
	Gzip   bool            `json:"gzip,omitempty"`    // send the body gzip-compressed
	Resend bool            `json:"resend,omitempty"`  // send the same body again, as a client does after a timeout
	AppKey string          `json:"app_key,omitempty"` // send this key instead of the stack's
	Body   json.RawMessage `json:"body"`
}

// LoadTraffic reads every *.json file in dir, sorted by name.
func LoadTraffic(dir string) ([]Session, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("load traffic: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("load traffic: no *.json files in %s", dir)
	}
	var sessions []Session
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load traffic: %w", err)
		}
		var session Session
		if err := json.Unmarshal(data, &session); err != nil {
			return nil, fmt.Errorf("load traffic %s: %w", path, err)
		}
		if _, err := session.clockOffset(); err != nil {
			return nil, fmt.Errorf("load traffic %s: %w", path, err)
		}
		session.Name = strings.TrimSuffix(filepath.Base(path), ".json")
		sessions = append(sessions, session)
	}
	return sessions, nil
}

func (s Session) clockOffset() (time.Duration, error) {
	if s.ClockOffset == "" {
		return 0, nil
	}
	offset, err := time.ParseDuration(s.ClockOffset)
	if err != nil {
		return 0, fmt.Errorf("invalid clock_offset %q: %w", s.ClockOffset, err)
	}
	return offset, nil
}

var timePlaceholder = regexp.MustCompile(`^\{\{now(?:([+-])([0-9a-z.]+))?\}\}$`)

// render returns the request body with its time placeholders replaced,
// relative to now on the device's clock, and the body as sent, which is the
// same bytes or, when Gzip is set, their gzip compression.
func (r TrafficRequest) render(now time.Time) (plain, wire []byte, err error) {
	decoder := json.NewDecoder(bytes.NewReader(r.Body))
	decoder.UseNumber()
	var body any
	if err := decoder.Decode(&body); err != nil {
		return nil, nil, fmt.Errorf("render body: %w", err)
	}
	rendered, err := renderTimes(body, now)
	if err != nil {
		return nil, nil, err
	}
	plain, err = json.Marshal(rendered)
	if err != nil {
		return nil, nil, fmt.Errorf("render body: %w", err)
	}
	if !r.Gzip {
		return plain, plain, nil
	}

	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	_, _ = zw.Write(plain) // writes to a bytes.Buffer do not fail
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("render body: %w", err)
	}
	return plain, compressed.Bytes(), nil
}

func renderTimes(value any, now time.Time) (any, error) {
	switch v := value.(type) {
	case map[string]any:
		for key, item := range v {
			rendered, err := renderTimes(item, now)
			if err != nil {
				return nil, err
			}
			v[key] = rendered
		}
	case []any:
		for i, item := range v {
			rendered, err := renderTimes(item, now)
			if err != nil {
				return nil, err
			}
			v[i] = rendered
		}
	case string:
		match := timePlaceholder.FindStringSubmatch(v)
		if match == nil {
			return v, nil
		}
		var offset time.Duration
		if match[2] != "" {
			d, err := time.ParseDuration(match[2])
			if err != nil {
				return nil, fmt.Errorf("render body: invalid offset in %q: %w", v, err)
			}
			offset = d
			if match[1] == "-" {
				offset = -d
			}
		}
		return now.Add(offset).UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	return value, nil
}

// eventNames returns the event_name of each event of a rendered, uncompressed
// body, in order: one for a bare event, one per event of a batch.
func eventNames(body []byte) []string {
	var envelope struct {
		EventName string `json:"event_name"`
		Events    []struct {
			EventName string `json:"event_name"`
		} `json:"events"`
	}
	if json.Unmarshal(body, &envelope) != nil {
		return nil
	}
	if envelope.Events == nil {
		return []string{envelope.EventName}
	}
	names := make([]string, len(envelope.Events))
	for i, event := range envelope.Events {
		names[i] = event.EventName
	}
	return names
}
