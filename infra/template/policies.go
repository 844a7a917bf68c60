package template

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Grant is one IAM action allowed on one resource (an ARN or a marker from
// GetAtt or Ref).
type Grant struct {
	Action   string
	Resource string
}

func (g Grant) String() string {
	return g.Action + " on " + g.Resource
}

// CheckPolicies checks that each function runs with its own role from the
// template and that the role allows exactly the grants in want, keyed by the
// function's logical id. A role must not attach managed policies, and no
// statement may use a wildcard resource, Deny, NotAction or NotResource.
func CheckPolicies(t *Template, want map[string][]Grant) error {
	var errs []error
	functions := t.GetAllServerlessFunctionResources()
	for _, id := range sortedKeys(functions) {
		fn := functions[id]
		if fn.Policies != nil {
			errs = append(errs, fmt.Errorf("%s: Policies is set, but SAM ignores it when Role is set, so grant the permissions through the role", id))
		}
		role, ok := cutMarker(valueOr(fn.Role, ""), "GetAtt:", ".Arn")
		if !ok {
			errs = append(errs, fmt.Errorf("%s: Role must be the Arn of a role in the template, got %q", id, valueOr(fn.Role, "")))
			continue
		}

		got, err := t.roleGrants(role)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		errs = append(errs, compareGrants(id, got, want[id]))
	}
	return errors.Join(errs...)
}

// roleGrants returns the grants of every inline policy of the role.
func (t *Template) roleGrants(name string) ([]Grant, error) {
	role, err := t.GetIAMRoleWithName(name)
	if err != nil {
		return nil, err
	}
	if len(role.ManagedPolicyArns) > 0 {
		return nil, fmt.Errorf("role %s attaches managed policies %v", name, role.ManagedPolicyArns)
	}

	var grants []Grant
	for _, policy := range role.Policies {
		statements, _ := lookup(policy.PolicyDocument, "Statement").([]any)
		for i, statement := range statements {
			found, err := statementGrants(statement)
			if err != nil {
				return nil, fmt.Errorf("role %s, policy %s, statement %d: %w", name, policy.PolicyName, i, err)
			}
			grants = append(grants, found...)
		}
	}
	return grants, nil
}

func statementGrants(statement any) ([]Grant, error) {
	m, _ := statement.(map[string]any)
	if m["Effect"] != "Allow" {
		return nil, fmt.Errorf("statement effect must be Allow, got %v", m["Effect"])
	}
	for _, key := range []string{"NotAction", "NotResource"} {
		if _, ok := m[key]; ok {
			return nil, fmt.Errorf("%s is not allowed", key)
		}
	}

	var grants []Grant
	actions, resources := stringList(m["Action"]), stringList(m["Resource"])
	for _, action := range actions {
		if strings.Contains(action, "*") {
			return nil, fmt.Errorf("wildcard action %q", action)
		}
	}
	for _, resource := range resources {
		if strings.Contains(resource, "*") {
			return nil, fmt.Errorf("wildcard resource %q", resource)
		}
		for _, action := range actions {
			grants = append(grants, Grant{Action: action, Resource: resource})
		}
	}
	return grants, nil
}

// stringList reads an IAM field that is either one string or a list of strings.
func stringList(value any) []string {
	switch v := value.(type) {
	case string:
		return []string{v}
	case []any:
		list := make([]string, 0, len(v))
		for _, item := range v {
			list = append(list, fmt.Sprint(item))
		}
		return list
	}
	return nil
}

// compareGrants returns an error that lists the grants missing from got and
// the grants got has beyond want.
func compareGrants(function string, got, want []Grant) error {
	var missing, extra []string
	for _, grant := range want {
		if !slices.Contains(got, grant) {
			missing = append(missing, grant.String())
		}
	}
	for _, grant := range got {
		if !slices.Contains(want, grant) {
			extra = append(extra, grant.String())
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("%s: role grants differ from the minimal set: missing [%s], extra [%s]",
		function, strings.Join(missing, "; "), strings.Join(extra, "; "))
}
