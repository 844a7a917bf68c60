package template

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CheckAPI checks that ingest serves every method of /v1/events (route ANY)
// from an HTTP API with payload format 2.0, so that ingest, not API Gateway,
// returns 405 for a method other than POST. No other path may reach ingest,
// and the API's stage must throttle requests and write access logs.
func CheckAPI(t *Template) error {
	var errs []error
	found := false
	for name, event := range mapOf(t.rawProperty("IngestFunction", "Events")) {
		properties := mapOf(lookup(event, "Properties"))
		if lookup(event, "Type") != "HttpApi" {
			continue
		}
		if path := fmt.Sprint(properties["Path"]); path != "/v1/events" {
			errs = append(errs, fmt.Errorf(
				"IngestFunction.%s: Path: got %q, want only /v1/events, so that API Gateway returns 404 for other paths",
				name, path))
			continue
		}
		if method := fmt.Sprint(properties["Method"]); !strings.EqualFold(method, "ANY") {
			errs = append(errs, fmt.Errorf(
				"IngestFunction.%s: Method: got %q, want \"ANY\" so that ingest returns 405 for other methods",
				name, method))
			continue
		}
		found = true
		if version := fmt.Sprint(properties["PayloadFormatVersion"]); version != "2.0" {
			errs = append(errs, fmt.Errorf("IngestFunction.%s: PayloadFormatVersion: got %q, want \"2.0\"", name, version))
		}

		api, ok := cutMarker(fmt.Sprint(properties["ApiId"]), "Ref:", "")
		if !ok {
			errs = append(errs, fmt.Errorf("IngestFunction.%s: ApiId must refer to an HTTP API of the template", name))
			continue
		}
		for _, setting := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
			if _, ok := t.rawProperty(api, "DefaultRouteSettings", setting).(float64); !ok {
				errs = append(errs, fmt.Errorf("%s: DefaultRouteSettings.%s is missing", api, setting))
			}
		}
		if t.rawProperty(api, "AccessLogSettings", "DestinationArn") == nil {
			errs = append(errs, fmt.Errorf("%s: AccessLogSettings.DestinationArn is missing", api))
		}
	}
	if !found {
		errs = append(errs, errors.New("IngestFunction: no HttpApi event for ANY /v1/events"))
	}
	return errors.Join(errs...)
}

// Alarm names the metric an alarm must watch.
type Alarm struct {
	Namespace  string
	MetricName string
	Dimension  string // "Name=Value"
}

// CheckAlarms checks that the template has an alarm on each metric in want.
func CheckAlarms(t *Template, want []Alarm) error {
	var have []Alarm
	for _, alarm := range t.GetAllCloudWatchAlarmResources() {
		var dimensions []string
		for _, d := range alarm.Dimensions {
			dimensions = append(dimensions, d.Name+"="+d.Value)
		}
		have = append(have, Alarm{
			Namespace:  valueOr(alarm.Namespace, ""),
			MetricName: valueOr(alarm.MetricName, ""),
			Dimension:  strings.Join(dimensions, ","),
		})
	}

	var errs []error
	for _, alarm := range want {
		if !slices.Contains(have, alarm) {
			errs = append(errs, fmt.Errorf("no alarm on %s %s with dimension %s", alarm.Namespace, alarm.MetricName, alarm.Dimension))
		}
	}
	return errors.Join(errs...)
}

func mapOf(value any) map[string]any {
	m, _ := value.(map[string]any)
	return m
}
