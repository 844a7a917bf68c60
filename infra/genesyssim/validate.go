package genesyssim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	eventNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	uuidPattern      = regexp.MustCompile(
		`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

	// createdDatePattern is yyyy-MM-ddTHH:mm:ss with optional milliseconds, always UTC "Z".
	createdDatePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$`)
	// dateCreatedPattern is the external-event form, where the milliseconds are required.
	dateCreatedPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

	deviceCategories = []string{"desktop", "mobile", "tablet", "other"}
	attributeTypes   = []string{"string", "number", "integer", "boolean"}
)

// valueKind is the JSON type a field must have.
type valueKind int

const (
	kindString     valueKind = iota // a string; non-empty when the field is required
	kindBool                        // true or false
	kindNumber                      // any JSON number
	kindInteger                     // a JSON number without a fraction
	kindObject                      // an object whose fields are listed; others are rejected
	kindOpenObject                  // an object whose listed fields are checked; others are allowed
	kindAttributes                  // a map of name to {dataType, value}
	kindArray                       // an array; its items are checked by the caller
)

// fieldSpec describes one field of a request body.
type fieldSpec struct {
	name     string
	required bool
	kind     valueKind
	fields   []fieldSpec                            // for kindObject and kindOpenObject
	check    func(v *validator, path, value string) // extra rule for string values
}

// validator collects every problem found in one request body.
type validator struct {
	now             time.Time
	futureTolerance time.Duration
	details         []ErrorDetail
}

func (v *validator) fail(path, format string, args ...any) {
	v.details = append(v.details, ErrorDetail{
		ErrorCode: codeInvalidProperty,
		FieldName: path,
		Message:   path + ": " + fmt.Sprintf(format, args...),
	})
}

// object checks obj against specs. With closed set, fields that no spec names are rejected.
func (v *validator) object(obj map[string]any, prefix string, specs []fieldSpec, closed bool) {
	if closed {
		for _, name := range sortedKeys(obj) {
			if !slices.ContainsFunc(specs, func(f fieldSpec) bool { return f.name == name }) {
				v.fail(join(prefix, name), "unknown property")
			}
		}
	}

	for _, spec := range specs {
		path := join(prefix, spec.name)
		value, present := obj[spec.name]
		if !present || value == nil {
			if spec.required {
				v.fail(path, "missing required property")
			}
			continue
		}
		v.value(value, path, spec)
	}
}

func (v *validator) value(value any, path string, spec fieldSpec) {
	switch spec.kind {
	case kindString:
		text, ok := value.(string)
		switch {
		case !ok:
			v.fail(path, "must be a string")
		case spec.required && strings.TrimSpace(text) == "":
			v.fail(path, "must not be empty")
		case spec.check != nil:
			spec.check(v, path, text)
		}
	case kindBool:
		if _, ok := value.(bool); !ok {
			v.fail(path, "must be true or false")
		}
	case kindNumber, kindInteger:
		number, ok := value.(float64)
		if !ok {
			v.fail(path, "must be a number")
		} else if spec.kind == kindInteger && number != math.Trunc(number) {
			v.fail(path, "must be an integer")
		}
	case kindObject, kindOpenObject:
		obj, ok := value.(map[string]any)
		if !ok {
			v.fail(path, "must be an object")
			return
		}
		v.object(obj, path, spec.fields, spec.kind == kindObject)
	case kindAttributes:
		v.attributes(value, path)
	case kindArray:
		if _, ok := value.([]any); !ok {
			v.fail(path, "must be an array")
		}
	}
}

// attributes checks a map of custom attributes or traits: each entry is
// {"dataType": "string"|"number"|"integer"|"boolean", "value": "<the value as a string>"}.
func (v *validator) attributes(value any, path string) {
	entries, ok := value.(map[string]any)
	if !ok {
		v.fail(path, "must be an object of name to {dataType, value}")
		return
	}

	for _, name := range sortedKeys(entries) {
		entryPath := path + "." + name
		if strings.TrimSpace(name) == "" {
			v.fail(entryPath, "attribute name must not be empty")
		}
		entry, ok := entries[name].(map[string]any)
		if !ok {
			v.fail(entryPath, "must be an object {dataType, value}")
			continue
		}
		v.object(entry, entryPath, []fieldSpec{
			{name: "dataType", required: true, kind: kindString},
			{name: "value", kind: kindString},
		}, true)
		v.attributeValue(entry, entryPath)
	}
}

func (v *validator) attributeValue(entry map[string]any, path string) {
	dataType, _ := entry["dataType"].(string)
	if dataType == "" {
		return
	}
	if !slices.Contains(attributeTypes, dataType) {
		v.fail(path+".dataType", "invalid value %q, want one of %v", dataType, attributeTypes)
		return
	}

	raw, present := entry["value"]
	text, ok := raw.(string)
	if !present || raw == nil || !ok {
		v.fail(path+".value", "must be a string, even for dataType %s", dataType)
		return
	}
	if !parsesAs(dataType, text) {
		v.fail(path+".value", "%q is not a valid %s", text, dataType)
	}
}

func parsesAs(dataType, text string) bool {
	switch dataType {
	case "number":
		f, err := strconv.ParseFloat(text, 64)
		return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case "integer":
		_, err := strconv.ParseInt(text, 10, 64)
		return err == nil
	case "boolean":
		return text == "true" || text == "false"
	default:
		return true
	}
}

func checkEventName(v *validator, path, value string) {
	if !eventNamePattern.MatchString(value) {
		v.fail(path, "%q may contain only letters, digits and underscores", value)
	}
}

func checkUUID(v *validator, path, value string) {
	if !uuidPattern.MatchString(value) {
		v.fail(path, "%q is not a UUID", value)
	}
}

func checkDeviceCategory(v *validator, path, value string) {
	if !slices.Contains(deviceCategories, value) {
		v.fail(path, "invalid value %q, want one of %v", value, deviceCategories)
	}
}

func checkCreatedDate(v *validator, path, value string) {
	v.checkTime(path, value, createdDatePattern, "yyyy-MM-ddTHH:mm:ss[.mmm]Z")
}

func checkDateCreated(v *validator, path, value string) {
	v.checkTime(path, value, dateCreatedPattern, "yyyy-MM-ddTHH:mm:ss.mmmZ")
}

// checkTime checks the layout of a UTC timestamp and that it lies within MaxEventAge in the
// past and the future tolerance ahead.
func (v *validator) checkTime(path, value string, layout *regexp.Regexp, want string) {
	if !layout.MatchString(value) {
		v.fail(path, "%q is not a UTC time of the form %s", value, want)
		return
	}
	at, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		v.fail(path, "%q is not a valid date and time", value)
		return
	}

	switch {
	case v.now.Sub(at) > MaxEventAge:
		v.fail(path, "%s is more than %s in the past", value, MaxEventAge)
	case at.Sub(v.now) > v.futureTolerance:
		v.fail(path, "%s is more than %s in the future", value, v.futureTolerance)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
