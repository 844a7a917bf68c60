package template

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a parsed SAM template with its intrinsic functions resolved.
type Template struct {
	*cloudformation.Template

	// Raw is the same resolved template as generic JSON values. It carries the
	// properties goformation v7 does not model, such as a function's
	// LoggingConfig and an SQS event's FunctionResponseTypes and ScalingConfig.
	Raw map[string]any
}

// Ref returns the marker Load puts in place of a Ref to the named resource.
func Ref(resource string) string {
	return "Ref:" + resource
}

// GetAtt returns the marker Load puts in place of a Fn::GetAtt of a resource's attribute.
func GetAtt(resource, attribute string) string {
	return "GetAtt:" + resource + "." + attribute
}

// cutMarker returns the resource name inside a marker such as
// "GetAtt:Queue.Arn" (prefix "GetAtt:", suffix ".Arn") and whether value is one.
func cutMarker(value, prefix, suffix string) (string, bool) {
	name, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(name, suffix)
	return name, ok && name != ""
}

// Load reads and parses the template at path. Parameters take their defaults
// unless overrides names them.
func Load(path string, overrides map[string]any) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	return Parse(data, overrides)
}

// Parse parses a YAML template. Parameters take their defaults unless
// overrides names them.
func Parse(data []byte, overrides map[string]any) (*Template, error) {
	resolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        resolveRef,
			"Fn::GetAtt": resolveGetAtt,
			"Fn::Sub":    resolveSub,
			"Fn::If":     resolveIf,
		},
		ParameterOverrides: overrides,
	})
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}

	var raw map[string]any
	if err := json.Unmarshal(resolved, &raw); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}

	// goformation rejects properties it does not model, so they are removed
	// from the copy it parses and read from Raw instead.
	modelled, err := json.Marshal(withoutUnmodelled(raw))
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	typed, err := goformation.ParseJSONWithOptions(modelled, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return &Template{Template: typed, Raw: raw}, nil
}

// unmodelled lists, per resource type, the properties goformation v7.14.9
// rejects as unknown fields. Event sources are handled by withoutUnmodelled.
var unmodelled = map[string][]string{
	"AWS::Serverless::Function": {"LoggingConfig"},
	"AWS::Serverless::HttpApi":  {"AccessLogSettings"},
}

// unmodelledEvent lists the SQS event source properties goformation v7.14.9 rejects.
var unmodelledEvent = []string{"FunctionResponseTypes", "ScalingConfig", "MaximumBatchingWindowInSeconds"}

// withoutUnmodelled returns a copy of the resolved template without the
// properties in unmodelled and unmodelledEvent.
func withoutUnmodelled(raw map[string]any) map[string]any {
	var clone map[string]any
	data, _ := json.Marshal(raw)
	_ = json.Unmarshal(data, &clone)

	resources, _ := clone["Resources"].(map[string]any)
	for _, resource := range resources {
		kind, _ := lookup(resource, "Type").(string)
		properties, _ := lookup(resource, "Properties").(map[string]any)
		for _, name := range unmodelled[kind] {
			delete(properties, name)
		}
		events, _ := lookup(properties, "Events").(map[string]any)
		for _, event := range events {
			eventProperties, _ := lookup(event, "Properties").(map[string]any)
			for _, name := range unmodelledEvent {
				delete(eventProperties, name)
			}
		}
	}
	return clone
}

// resolveRef returns a parameter's default value, goformation's example value
// of a pseudo parameter, or else the Ref marker: for a resource, a parameter
// without a default or a pseudo parameter goformation does not know.
func resolveRef(_ string, input any, template any) any {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	if strings.HasPrefix(name, "AWS::") {
		if value := intrinsics.Ref("Ref", name, template); value != nil || name == "AWS::NoValue" {
			return value
		}
		return Ref(name)
	}
	if parameter, ok := lookup(template, "Parameters", name).(map[string]any); ok {
		if value, ok := parameter["Default"]; ok {
			return value
		}
	}
	return Ref(name)
}

// resolveGetAtt accepts both forms of Fn::GetAtt: ["Queue", "Arn"] and "Queue.Arn".
func resolveGetAtt(_ string, input any, _ any) any {
	switch v := input.(type) {
	case string:
		resource, attribute, _ := strings.Cut(v, ".")
		return GetAtt(resource, attribute)
	case []any:
		if len(v) == 2 {
			return GetAtt(fmt.Sprint(v[0]), fmt.Sprint(v[1]))
		}
	}
	return nil
}

var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// resolveSub substitutes ${Name} and ${Resource.Attribute} the way resolveRef
// and resolveGetAtt resolve them, and the variables of the two-argument form.
func resolveSub(_ string, input any, template any) any {
	text, variables := "", map[string]any{}
	switch v := input.(type) {
	case string:
		text = v
	case []any:
		if len(v) != 2 {
			return nil
		}
		text, _ = v[0].(string)
		variables, _ = v[1].(map[string]any)
	default:
		return nil
	}

	return subVariable.ReplaceAllStringFunc(text, func(match string) string {
		name := match[2 : len(match)-1]
		if value, ok := variables[name]; ok {
			return fmt.Sprint(value)
		}
		if resource, attribute, ok := strings.Cut(name, "."); ok {
			return GetAtt(resource, attribute)
		}
		return fmt.Sprint(resolveRef("Ref", name, template))
	})
}

// resolveIf picks a branch of Fn::If by evaluating the named condition. It
// replaces goformation's own, which needs EvaluateConditions, an option that
// also replaces every resource that has a Condition with a boolean.
func resolveIf(_ string, input any, template any) any {
	args, ok := input.([]any)
	if !ok || len(args) != 3 {
		return nil
	}
	name, _ := args[0].(string)
	if evaluateCondition(lookup(template, "Conditions", name), template) {
		return args[1]
	}
	return args[2]
}

// evaluateCondition evaluates a condition expression of the unprocessed
// template: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition and Ref.
func evaluateCondition(expression any, template any) bool {
	m, ok := expression.(map[string]any)
	if !ok || len(m) != 1 {
		b, _ := expression.(bool)
		return b
	}
	for function, argument := range m {
		args, _ := argument.([]any)
		switch function {
		case "Fn::Equals":
			return len(args) == 2 &&
				fmt.Sprint(conditionValue(args[0], template)) == fmt.Sprint(conditionValue(args[1], template))
		case "Fn::Not":
			return len(args) == 1 && !evaluateCondition(args[0], template)
		case "Fn::And", "Fn::Or":
			all, some := true, false
			for _, arg := range args {
				value := evaluateCondition(arg, template)
				all, some = all && value, some || value
			}
			return (function == "Fn::And" && all) || (function == "Fn::Or" && some)
		case "Condition":
			name, _ := argument.(string)
			return evaluateCondition(lookup(template, "Conditions", name), template)
		}
	}
	return false
}

// conditionValue resolves a Ref inside a condition and returns any other value as is.
func conditionValue(value any, template any) any {
	if m, ok := value.(map[string]any); ok {
		if name, ok := m["Ref"]; ok {
			return resolveRef("Ref", name, template)
		}
	}
	return value
}

// lookup walks nested maps by key and returns nil when a key is missing.
func lookup(value any, keys ...string) any {
	for _, key := range keys {
		m, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		value = m[key]
	}
	return value
}
