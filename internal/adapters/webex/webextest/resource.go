package webextest

import (
	"encoding/json"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// decodeObject decodes a request body that must be a JSON object.
func decodeObject(body []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, badRequest(scim.InvalidSyntax, "The request body is not valid JSON.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(scim.InvalidSyntax, "The request body must be a JSON object.")
	}
	return obj, nil
}

// requireSchema checks that body's schemas lists urn: Webex requires the
// core schema in every create and PUT (VENDORS.md 1.6, 1.7).
func requireSchema(body map[string]any, urn string) error {
	v, _ := scim.Field(body, "schemas")
	list, _ := v.([]any)
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, urn) {
			return nil
		}
	}
	return badRequest(scim.InvalidSyntax, "Input JSON must contain schema: %q.", urn)
}

// prune returns body without what Webex ignores rather than rejects:
// attributes of unrecognized schemas, and names that no schema of rt
// defines ("Unrecognized schemas (ID/section) are ignored", VENDORS.md
// 1.6). Read-only attributes are left to translate.Validate, which ignores
// them too. prune does not modify body.
func prune(rt *scim.ResourceType, body map[string]any) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		switch {
		case strings.EqualFold(k, "schemas"):
			out[k] = pruneSchemas(rt, v)
		case rt.SchemaByURN(k) != nil:
			s := rt.SchemaByURN(k)
			obj, ok := v.(map[string]any)
			if !ok {
				out[k] = v // a type error for Validate to report
				continue
			}
			ext := map[string]any{}
			for ak, av := range obj {
				if a := s.Attr(ak); a != nil {
					ext[ak] = pruneValue(a, av)
				}
			}
			out[k] = ext
		default:
			p := scim.ParsePath(k)
			if p.Sub != "" && p.URN == "" {
				continue // "name.givenName" as a key is not a resource attribute
			}
			_, a, _, ok := rt.Resolve(scim.Path{URN: p.URN, Attr: p.Attr})
			if !ok {
				continue
			}
			out[k] = pruneValue(a, v)
		}
	}
	return out
}

// pruneSchemas keeps the URNs of schemas rt knows.
func pruneSchemas(rt *scim.ResourceType, v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := []any{}
	for _, s := range list {
		if str, ok := s.(string); ok && rt.SchemaByURN(str) == nil {
			continue
		}
		out = append(out, s)
	}
	return out
}

// pruneValue drops unknown sub-attributes of a complex value.
func pruneValue(a *scim.Attribute, v any) any {
	if a.Type != scim.Complex {
		return v
	}
	one := func(e any) any {
		obj, ok := e.(map[string]any)
		if !ok {
			return e
		}
		out := make(map[string]any, len(obj))
		for k, sv := range obj {
			if a.Sub(k) != nil {
				out[k] = sv
			}
		}
		return out
	}
	if list, ok := v.([]any); ok {
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = one(e)
		}
		return out
	}
	return one(v)
}

// str returns r[name] (matched case-insensitively) as a string, or "".
func str(r map[string]any, name string) string {
	v, _ := scim.Field(r, name)
	s, _ := v.(string)
	return s
}

// objects returns the elements of a multi-valued complex attribute that are
// objects.
func objects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// anyList returns ss as a JSON array value.
func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}
