package k8s

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	valuesFile = "../../charts/scim-gateway/values.yaml"
	schemaFile = "../../charts/scim-gateway/values.schema.json"
)

// TestSchemaIsClosed checks that every object of values.schema.json rejects
// keys it does not list (so that a misspelled value fails helm lint,
// template and install), except those that say in a $comment why they are
// open: Kubernetes objects passed through and the gateway settings the
// gateway checks itself.
func TestSchemaIsClosed(t *testing.T) {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	var walk func(at string, s map[string]any)
	walk = func(at string, s map[string]any) {
		if isObjectSchema(s) {
			_, hasProps := s["properties"]
			extra, hasExtra := s["additionalProperties"]
			switch comment, _ := s["$comment"].(string); {
			case hasProps && extra != false:
				t.Errorf("%s: lists properties but does not set additionalProperties: false", at)
			case !hasProps && !hasExtra && comment == "":
				t.Errorf("%s: an open object without a $comment saying why", at)
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, v := range props {
				walk(at+"."+k, v.(map[string]any))
			}
		}
		for _, k := range []string{"items", "additionalProperties"} {
			if sub, ok := s[k].(map[string]any); ok {
				walk(at+"."+k, sub)
			}
		}
	}
	walk("$", schema)
}

func isObjectSchema(s map[string]any) bool {
	switch ty := s["type"].(type) {
	case string:
		return ty == "object"
	case []any:
		return slices.Contains(ty, any("object"))
	}
	return false
}

// TestValuesDocumented checks that each key of values.yaml is in the
// schema and each top-level key has a comment above it or its section, so
// the file stays the reference of the values.
func TestValuesDocumented(t *testing.T) {
	data, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	sdata, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(sdata, &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(at string, v any, s map[string]any)
	walk = func(at string, v any, s map[string]any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		props, _ := s["properties"].(map[string]any)
		for k, x := range m {
			sub, ok := props[k].(map[string]any)
			if !ok {
				if props != nil {
					t.Errorf("values.yaml %s.%s: not in %s", at, k, schemaFile)
				}
				continue
			}
			walk(at+"."+k, x, sub)
		}
	}
	walk("", values, schema)

	// A top-level key is documented by the comment line right above it, or
	// is a section with comments inside.
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if line == "" || line[0] == ' ' || line[0] == '#' {
			continue
		}
		commented := i > 0 && strings.HasPrefix(lines[i-1], "#")
		for _, l := range lines[i+1:] {
			if l != "" && l[0] != ' ' {
				break
			}
			commented = commented || strings.HasPrefix(strings.TrimSpace(l), "#")
		}
		if !commented {
			key, _, _ := strings.Cut(line, ":")
			t.Errorf("values.yaml: %s has no comment", key)
		}
	}
}
