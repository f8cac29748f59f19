package patch

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"reflect"
	"strings"
	"time"

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
	list := asList(val)
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
		return coerce(def, val, name)
	}
	obj, ok := val.(map[string]any)
	if !ok {
		// IdP dialect: Microsoft Entra ID sends the enterprise manager as
		// the manager's id alone, "value": "2c2f6fb8-..." instead of
		// {"value": "2c2f6fb8-..."} (testdata/entra/users-add-manager-string).
		// For a complex attribute whose "value" sub-attribute is what RFC
		// 7643 §2.4 calls its primary value, a simple value means that and
		// nothing else.
		if vs := def.Sub("value"); vs != nil && isSimple(val) {
			c, err := checkAttr(vs, val, name+"."+vs.Name)
			if err != nil || c == nil {
				return nil, err
			}
			return map[string]any{vs.Name: c}, nil
		}
		return nil, typeError(name, def, val)
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

// coerce checks v, one value of the simple attribute def, and returns it in
// the form a scim.Resource holds (string, float64, bool). Every failure is a
// 400 invalidValue (RFC 7644 §3.12: "the value specified was not compatible
// with the ... attribute type").
func coerce(def *scim.Attribute, v any, name string) (any, error) {
	switch def.Type {
	case scim.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// IdP dialect: Microsoft Entra ID without the aadOptscim062020
			// flag sends "value": "False" to disable a user
			// (testdata/entra/users-disable-string-false). The strings are
			// unambiguous, so any case is accepted.
			switch {
			case strings.EqualFold(b, "true"):
				return true, nil
			case strings.EqualFold(b, "false"):
				return false, nil
			}
		}
		return nil, typeError(name, def, v)
	case scim.Decimal, scim.Integer:
		f, ok := number(v)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.4: an integer has no fractional part; float64
		// holds integers exactly up to 2^53.
		if def.Type == scim.Integer && (f != math.Trunc(f) || math.Abs(f) > 1<<53) {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be an integer", name)
		}
		return f, nil
	case scim.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.5: xsd:dateTime; the gateway takes the RFC 3339
		// profile (with a zone), which every SCIM service provider emits.
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be an RFC 3339 date-time such as 2008-01-23T04:56:22Z", name)
		}
		return s, nil
	case scim.Reference:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.7: a URI, absolute or relative.
		if _, err := url.Parse(s); err != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be a URI reference", name)
		}
		return s, nil
	case scim.Binary:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.6: base64 with padding (RFC 4648 §4).
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be base64-encoded binary", name)
		}
		return s, nil
	case scim.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, typeError(name, def, v)
	}
	// A type outside RFC 7643 §2.3 cannot come from a client; definitions
	// are the gateway's own. Take any simple value.
	if !isSimple(v) {
		return nil, typeError(name, def, v)
	}
	return v, nil
}

func typeError(name string, def *scim.Attribute, v any) error {
	want := string(def.Type)
	if def.Type == scim.Complex {
		want = "complex value (a JSON object)"
	}
	return scim.BadRequest(scim.InvalidValue, "attribute %s must be a %s, got %s", name, want, jsonKind(v))
}

// isSimple reports whether v is a JSON string, number or boolean.
func isSimple(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	_, ok := number(v)
	return ok
}

// number returns v as a float64 when it is a finite JSON number, in any of
// the forms a decoder or a Go caller produces.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// jsonKind names the JSON type of v for error details, never its content
// (attribute values are personal data).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return "an unsupported value"
}

// asList returns v as the elements of a multi-valued attribute: an array's
// elements, a single value as one element, nil as none.
func asList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	}
	return []any{v}
}

// isPrimary reports whether v is an element whose primary is true.
func isPrimary(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["primary"] == true
}

// unassigned reports whether v is unassigned in the sense of RFC 7643 §2.5:
// absent, null, an empty array or an empty object.
func unassigned(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// equalValue reports whether a and b, values of the attribute def (arrays
// for a multi-valued one), are the same value: strings case-insensitively
// unless caseExact, date-times as instants, numbers by value, multi-valued
// attributes as unordered sets, unassigned values all alike (RFC 7643 §2.5).
func equalValue(def *scim.Attribute, a, b any) bool {
	if unassigned(a) || unassigned(b) {
		return unassigned(a) && unassigned(b)
	}
	if def.MultiValued {
		as, bs := asList(a), asList(b)
		if len(as) != len(bs) {
			return false
		}
		used := make([]bool, len(bs))
	next:
		for _, x := range as {
			for j, y := range bs {
				if !used[j] && equalSingle(def, x, y) {
					used[j] = true
					continue next
				}
			}
			return false
		}
		return true
	}
	return equalSingle(def, a, b)
}

func equalSingle(def *scim.Attribute, a, b any) bool {
	if def.Type == scim.Complex {
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if !aok || !bok {
			return reflect.DeepEqual(a, b)
		}
		for _, sub := range def.SubAttributes {
			av, _ := scim.Field(am, sub.Name)
			bv, _ := scim.Field(bm, sub.Name)
			if !equalValue(sub, av, bv) {
				return false
			}
		}
		return true
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		switch {
		case def.Type == scim.DateTime:
			at, errA := time.Parse(time.RFC3339Nano, as)
			bt, errB := time.Parse(time.RFC3339Nano, bs)
			if errA == nil && errB == nil {
				return at.Equal(bt)
			}
		case !def.CaseExact && def.Type != scim.Binary:
			return strings.EqualFold(as, bs)
		}
		return as == bs
	}
	if af, ok := number(a); ok {
		bf, ok := number(b)
		return ok && af == bf
	}
	// Booleans, or stored values of an unexpected shape; DeepEqual, unlike
	// ==, never panics on maps and slices.
	return reflect.DeepEqual(a, b)
}
