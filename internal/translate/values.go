package translate

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

// coerceValue checks v, one value (not the array of a multi-valued
// attribute) of a simple attribute defined by def, and returns it in the form
// a scim.Resource holds (string, float64, bool). name is the attribute's path
// for error details. Every failure is a 400 invalidValue (RFC 7644 §3.12:
// "the value specified was not compatible with the ... attribute type").
func coerceValue(def *scim.Attribute, v any, name string) (any, error) {
	switch def.Type {
	case scim.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, typeError(name, def, v)
	case scim.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// IdP dialect: Microsoft Entra ID sends booleans as the strings
			// "True" and "False" (in PATCH values above all, whose result
			// the engine validates too); testdata/dialect/users-string-booleans
			// replays one. They are unambiguous, so any case is accepted.
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
		// RFC 7643 §2.3.4: an integer has no fractional part or exponent
		// that leaves one; float64 holds integers exactly up to 2^53.
		if def.Type == scim.Integer && (f != math.Trunc(f) || math.Abs(f) > 1<<53) {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be an integer, got %v", name, f)
		}
		return f, nil
	case scim.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.5: an xsd:dateTime with both date and time; the
		// gateway requires the RFC 3339 profile (with a zone), the form
		// every SCIM service provider emits and vendors accept.
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be an RFC 3339 date-time such as 2008-01-23T04:56:22Z, got %q", name, s)
		}
		return s, nil
	case scim.Reference:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(name, def, v)
		}
		// RFC 7643 §2.3.7: a reference is a URI, absolute or relative.
		if _, err := url.Parse(s); err != nil {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s must be a URI reference, got %q", name, s)
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
	}
	// A type outside RFC 7643 §2.3 cannot come from a client; definitions
	// are the gateway's own. Keep the value as given.
	return v, nil
}

// number returns v as a float64 when it is a JSON number, in any of the forms
// a decoder or a Go caller produces.
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
	case float32:
		return float64(n), true
	}
	return 0, false
}

func typeError(name string, def *scim.Attribute, v any) error {
	return scim.BadRequest(scim.InvalidValue, "attribute %s must be a %s, got %s", name, def.Type, jsonKind(v))
}

// jsonKind names the JSON type of v for error details, never its content
// (attribute values are personal data).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if _, ok := number(v); ok {
		return "number"
	}
	return "unsupported value"
}

// equalValue reports whether a and b, values of the attribute def (arrays for
// a multi-valued one), are the same value as RFC 7644 §3.5.1 compares them
// for immutable attributes: strings case-insensitively unless caseExact,
// date-times as instants, multi-valued attributes as unordered sets.
func equalValue(def *scim.Attribute, a, b any) bool {
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
		am, _ := a.(map[string]any)
		bm, _ := b.(map[string]any)
		for _, sub := range def.SubAttributes {
			av, _ := scim.Field(am, sub.Name)
			bv, _ := scim.Field(bm, sub.Name)
			if (av == nil) != (bv == nil) || (av != nil && !equalValue(sub, av, bv)) {
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
	// Booleans, or values of the wrong type; DeepEqual, unlike ==, never
	// panics on maps and slices.
	return reflect.DeepEqual(a, b)
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
