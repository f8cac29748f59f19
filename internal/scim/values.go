package scim

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// The semantics of attribute values that validation, PATCH, filtering and
// sorting share: how a client's JSON value becomes the value a Resource holds,
// and when two values are the same value.

// Coerce checks v, one value (never the array of a multi-valued attribute) of
// the simple attribute a, and returns it in the form a Resource holds
// (string, float64, bool). name is the attribute's path for error details,
// which name the JSON type of v but never its content (values are personal
// data). Every failure is a 400 invalidValue (RFC 7644 §3.12: "the value
// specified was not compatible with the ... attribute type").
func (a *Attribute) Coerce(v any, name string) (any, error) {
	switch a.Type {
	case Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// IdP dialect: Microsoft Entra ID sends booleans as the strings
			// "True" and "False", in PATCH values above all (replayed by
			// translate/patch testdata/entra/users-disable-string-false and
			// translate testdata/dialect/users-string-booleans). They are
			// unambiguous, so any case is accepted.
			switch {
			case strings.EqualFold(b, "true"):
				return true, nil
			case strings.EqualFold(b, "false"):
				return false, nil
			}
		}
	case Decimal, Integer:
		f, ok := Number(v)
		if !ok {
			break
		}
		// RFC 7643 §2.3.4: an integer has no fractional part; float64
		// holds integers exactly up to 2^53.
		if a.Type == Integer && (f != math.Trunc(f) || math.Abs(f) > 1<<53) {
			return nil, BadRequest(InvalidValue, "attribute %s must be an integer", name)
		}
		return f, nil
	case DateTime:
		s, ok := v.(string)
		if !ok {
			break
		}
		// RFC 7643 §2.3.5: xsd:dateTime; the gateway takes the RFC 3339
		// profile (with a zone), which every SCIM service provider emits.
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, BadRequest(InvalidValue, "attribute %s must be an RFC 3339 date-time such as 2008-01-23T04:56:22Z", name)
		}
		return s, nil
	case Reference:
		s, ok := v.(string)
		if !ok {
			break
		}
		// RFC 7643 §2.3.7: a URI, absolute or relative.
		if _, err := url.Parse(s); err != nil {
			return nil, BadRequest(InvalidValue, "attribute %s must be a URI reference", name)
		}
		return s, nil
	case Binary:
		s, ok := v.(string)
		if !ok {
			break
		}
		// RFC 7643 §2.3.6: base64 with padding (RFC 4648 §4).
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, BadRequest(InvalidValue, "attribute %s must be base64-encoded binary", name)
		}
		return s, nil
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Complex:
	default:
		// A type outside RFC 7643 §2.3 cannot come from a client; the
		// definitions are the gateway's own. Take any simple value.
		if IsSimple(v) {
			return v, nil
		}
	}
	return nil, a.TypeError(v, name)
}

// TypeError is the 400 invalidValue for v, a value of the wrong JSON type for
// a (name is the attribute's path).
func (a *Attribute) TypeError(v any, name string) error {
	want := string(a.Type)
	if a.Type == Complex {
		want = "complex value (a JSON object)"
	}
	return BadRequest(InvalidValue, "attribute %s must be a %s, got %s", name, want, JSONKind(v))
}

// Equal reports whether x and y, values of a (arrays for a multi-valued
// attribute), are the same value: strings case-insensitively unless
// caseExact, date-times as instants, numbers by value, multi-valued
// attributes as unordered sets, and unassigned values (RFC 7643 §2.5) all
// alike. RFC 7644 §3.5.1 compares immutable attributes this way, and a PATCH
// that sets a value already held changes nothing.
func (a *Attribute) Equal(x, y any) bool {
	if Unassigned(x) || Unassigned(y) {
		return Unassigned(x) && Unassigned(y)
	}
	if a.MultiValued {
		xs, ys := AsList(x), AsList(y)
		if len(xs) != len(ys) {
			return false
		}
		used := make([]bool, len(ys))
	next:
		for _, xe := range xs {
			for j, ye := range ys {
				if !used[j] && a.EqualElement(xe, ye) {
					used[j] = true
					continue next
				}
			}
			return false
		}
		return true
	}
	return a.EqualElement(x, y)
}

// EqualElement reports whether x and y, single values of a (one element each
// when a is multi-valued), are the same value, as Equal compares them.
func (a *Attribute) EqualElement(x, y any) bool {
	if a.Type == Complex {
		xm, xok := x.(map[string]any)
		ym, yok := y.(map[string]any)
		if !xok || !yok {
			return reflect.DeepEqual(x, y)
		}
		for _, sub := range a.SubAttributes {
			xv, _ := Field(xm, sub.Name)
			yv, _ := Field(ym, sub.Name)
			if !sub.Equal(xv, yv) {
				return false
			}
		}
		return true
	}
	xs, xStr := x.(string)
	ys, yStr := y.(string)
	if xStr && yStr {
		switch {
		case a.Type == DateTime:
			xt, errX := time.Parse(time.RFC3339Nano, xs)
			yt, errY := time.Parse(time.RFC3339Nano, ys)
			if errX == nil && errY == nil {
				return xt.Equal(yt)
			}
		case !a.CaseExact && a.Type != Binary:
			return strings.EqualFold(xs, ys)
		}
		return xs == ys
	}
	if xf, ok := Number(x); ok {
		yf, ok := Number(y)
		return ok && xf == yf
	}
	// Booleans, or stored values of an unexpected shape; DeepEqual, unlike
	// ==, never panics on maps and slices.
	return reflect.DeepEqual(x, y)
}

// Number returns v as a float64 when it is a finite JSON number, in any of
// the forms a decoder or a Go caller produces.
func Number(v any) (float64, bool) {
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
		return float64(n), !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0)
	}
	return 0, false
}

// IsSimple reports whether v is a JSON string, number or boolean.
func IsSimple(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	_, ok := Number(v)
	return ok
}

// JSONKind names the JSON type of v for error details ("a string", "an
// object"), never its content.
func JSONKind(v any) string {
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
	if _, ok := Number(v); ok {
		return "a number"
	}
	return "an unsupported value"
}

// AsList returns v as the elements of a multi-valued attribute: an array's
// elements, a single value as one element, nil as none.
func AsList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	}
	return []any{v}
}

// Unassigned reports whether v is unassigned in the sense of RFC 7643 §2.5:
// absent, null, an empty array or an empty object.
func Unassigned(v any) bool {
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
