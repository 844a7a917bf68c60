package genesys_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/journeyrelay/relay/shared/genesys"
	"github.com/journeyrelay/relay/shared/journey"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

func readEvent(t testing.TB, name string) journey.Event {
	t.Helper()
	var ev journey.Event
	readJSON(t, name, &ev)
	return ev
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode fixture %s: %v", name, err)
	}
}

// checkGolden compares got with testdata/name, or rewrites the file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatalf("write golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	want = bytes.TrimSuffix(want, []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Errorf("body differs from %s\ngot:  %s\nwant: %s", path, got, want)
	}
}

func TestRequestBodies(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		encode  func(journey.Event) ([]byte, error)
	}{
		{name: "app full", fixture: "app_full", encode: genesys.AppEventBody},
		{name: "app minimal", fixture: "app_minimal", encode: genesys.AppEventBody},
		{name: "web full", fixture: "web_full", encode: genesys.WebEventBody},
		{name: "web minimal", fixture: "web_minimal", encode: genesys.WebEventBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := tt.encode(readEvent(t, tt.fixture+".json"))
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			checkGolden(t, tt.fixture+".golden", body)
		})
	}
}

func TestExternalEventsBody(t *testing.T) {
	var evs []journey.Event
	readJSON(t, "custom_batch.json", &evs)

	body, err := genesys.ExternalEventsBody(evs, "source-1")
	if err != nil {
		t.Fatalf("ExternalEventsBody: %v", err)
	}
	checkGolden(t, "custom_batch.golden", body)
}

func TestRequestBodyDeterministic(t *testing.T) {
	ev := readEvent(t, "app_full.json")
	first, err := genesys.AppEventBody(ev)
	if err != nil {
		t.Fatalf("AppEventBody: %v", err)
	}
	for range 20 {
		again, err := genesys.AppEventBody(ev)
		if err != nil {
			t.Fatalf("AppEventBody: %v", err)
		}
		if !bytes.Equal(again, first) {
			t.Fatalf("AppEventBody: got %s, want %s", again, first)
		}
	}
}

func TestAttributeDataTypes(t *testing.T) {
	tests := []struct {
		name  string
		value journey.Value
		want  string
	}{
		{name: "string", value: journey.Value{Kind: journey.String, Text: "12"}, want: `{"dataType":"string","value":"12"}`},
		{name: "integer", value: journey.Value{Kind: journey.Number, Text: "-42"}, want: `{"dataType":"integer","value":"-42"}`},
		{name: "integer beyond int64", value: journey.Value{Kind: journey.Number, Text: "123456789012345678901"}, want: `{"dataType":"integer","value":"123456789012345678901"}`},
		{name: "fraction", value: journey.Value{Kind: journey.Number, Text: "4.0"}, want: `{"dataType":"number","value":"4.0"}`},
		{name: "exponent", value: journey.Value{Kind: journey.Number, Text: "1E-7"}, want: `{"dataType":"number","value":"1E-7"}`},
		{name: "boolean", value: journey.Value{Kind: journey.Bool, Text: "false"}, want: `{"dataType":"boolean","value":"false"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := readEvent(t, "web_minimal.json")
			ev.Properties = map[string]journey.Value{"p": tt.value}
			body, err := genesys.WebEventBody(ev)
			if err != nil {
				t.Fatalf("WebEventBody: %v", err)
			}
			want := `"attributes":{"p":` + tt.want + `}`
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("body: got %s, want it to contain %s", body, want)
			}
		})
	}
}

func TestRequestBodyRejectsEvent(t *testing.T) {
	app := readEvent(t, "app_minimal.json")
	web := readEvent(t, "web_minimal.json")
	var custom []journey.Event
	readJSON(t, "custom_batch.json", &custom)

	tests := []struct {
		name   string
		encode func() ([]byte, error)
		want   string
	}{
		{name: "app without device", want: "missing device", encode: func() ([]byte, error) {
			ev := app
			ev.Device = nil
			return genesys.AppEventBody(ev)
		}},
		{name: "app without screen", want: "missing screen_name", encode: func() ([]byte, error) {
			ev := app
			ev.ScreenName = ""
			return genesys.AppEventBody(ev)
		}},
		{name: "web as app", want: `event_type is "WEB", want "APP"`, encode: func() ([]byte, error) {
			return genesys.AppEventBody(web)
		}},
		{name: "web without page", want: "missing page", encode: func() ([]byte, error) {
			ev := web
			ev.Page = nil
			return genesys.WebEventBody(ev)
		}},
		{name: "custom without user", want: "event 1: missing user_id", encode: func() ([]byte, error) {
			evs := append([]journey.Event(nil), custom...)
			evs[1].UserID = ""
			return genesys.ExternalEventsBody(evs, "source-1")
		}},
		{name: "custom without source", want: "missing external source id", encode: func() ([]byte, error) {
			return genesys.ExternalEventsBody(custom, "")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.encode()
			if err == nil {
				t.Fatalf("error: got nil, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEntityID(t *testing.T) {
	first := genesys.EntityID("k-custom-1")
	if again := genesys.EntityID("k-custom-1"); again != first {
		t.Errorf("EntityID again: got %s, want %s", again, first)
	}
	if other := genesys.EntityID("k-custom-2"); other == first {
		t.Errorf("EntityID of another key: got %s, want a different id", other)
	}
	if len(first) != 36 || first[14] != '5' {
		t.Errorf("EntityID: got %s, want a version 5 UUID", first)
	}
}
