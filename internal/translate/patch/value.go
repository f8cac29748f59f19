package patch

import (
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// checkValue checks val, the value an operation gives for the attribute def
// (name is its path, for error details), and returns it in canonical form:
// sub-attribute names in their defined case, booleans as bool, a multi-valued
// attribute as a []any. Unassigned values (null, an empty array or object,
// RFC 7643 §2.5) come back as nil. The result shares nothing with val.
//
// Read-only sub-attributes inside a complex value are left out, as on PUT
// (RFC 7644 §3.5.1), unless def itself is read-only: then everything is kept,
// so that the caller sees the change it must refuse.
func checkValue(def *scim.Attribute, val any, name string) (any, error) {
	if val == nil {
		return nil, nil
	}
	if !def.MultiValued {
		if _, isList := val.([]any); isList {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s is single-valued, got an array", name)
		}
		return checkSingle(def, val, name)
	}
	// A single value where an array is expected is one element: RFC 7643
	// §2.4 gives multi-valued attributes no other form, so nothing else
	// could be meant.
	list := scim.AsList(val)
	out := make([]any, 0, len(list))
	primaries := 0
	for _, e := range list {
		if e == nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s holds a null element", name)
		}
		if _, isList := e.([]any); isList {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s holds a nested array", name)
		}
		c, err := checkSingle(def, e, name)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		if isPrimary(c) {
			// RFC 7643 §2.4: "The primary attribute value "true" MUST
			// appear no more than once."
			if primaries++; primaries > 1 {
				return nil, scim.BadRequest(scim.InvalidValue, "attribute %s has more than one primary value", name)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkSingle checks one value of def: a complex object with its
// sub-attributes, or a simple value.
func checkSingle(def *scim.Attribute, val any, name string) (any, error) {
	if def.Type != scim.Complex {
		return def.Coerce(val, name)
	}
	obj, ok := val.(map[string]any)
	if !ok {
		// IdP dialect: Microsoft Entra ID sends the enterprise manager as
		// the manager's id alone, "value": "2c2f6fb8-..." instead of
		// {"value": "2c2f6fb8-..."} (testdata/entra/users-add-manager-string).
		// For a complex attribute whose "value" sub-attribute is what RFC
		// 7643 §2.4 calls its primary value, a simple value means that and
		// nothing else.
		if vs := def.Sub("value"); vs != nil && scim.IsSimple(val) {
			c, err := checkAttr(vs, val, name+"."+vs.Name)
			if err != nil || c == nil {
				return nil, err
			}
			return map[string]any{vs.Name: c}, nil
		}
		return nil, def.TypeError(val, name)
	}
	out := make(map[string]any, len(obj))
	for _, k := range sortedKeys(obj) {
		sub := def.Sub(k)
		if sub == nil {
			return nil, scim.BadRequest(scim.InvalidPath, "unknown sub-attribute %s of %s", quote(k), name)
		}
		if sub.Mutability == scim.ReadOnly && def.Mutability != scim.ReadOnly {
			// IdP dialect: Okta sends members[].display, which the service
			// provider derives (testdata/okta/groups-update-membership).
			continue
		}
		subName := name + "." + sub.Name
		c, err := checkAttr(sub, obj[k], subName)
		if err != nil {
			return nil, err
		}
		if c == nil {
			// Entra ID sends "$ref": null with each member
			// (testdata/entra/groups-add-members): unassigned, so absent.
			continue
		}
		if _, dup := out[sub.Name]; dup {
			return nil, scim.BadRequest(scim.InvalidValue, "sub-attribute %s is given more than once", subName)
		}
		out[sub.Name] = c
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkAttr checks a sub-attribute's value: sub-attributes are simple, but
// one may be multi-valued (RFC 7643 §2.4 allows it; none of the standard
// schemas has one).
func checkAttr(def *scim.Attribute, val any, name string) (any, error) {
	if val == nil {
		return nil, nil
	}
	if def.Type == scim.Complex {
		// RFC 7643 §2.3.8: a sub-attribute cannot be complex. A definition
		// that says otherwise is the gateway's own mistake; refuse the value
		// rather than recurse without bound.
		return nil, scim.BadRequest(scim.InvalidValue, "attribute %s cannot be set", name)
	}
	return checkValue(def, val, name)
}

// isPrimary reports whether v is an element whose primary is true.
func isPrimary(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["primary"] == true
}
