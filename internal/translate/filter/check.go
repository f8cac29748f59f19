package filter

import (
	"fmt"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Check resolves every attribute path of e against rt's definitions and
// returns an equivalent Expr whose paths are canonical (names in their defined
// case, URN set as scim.ResourceType.Resolve returns it). Unknown attributes,
// and comparisons the attribute's type does not allow (gt on a boolean, RFC
// 7644 §3.4.2.2), are a 400 invalidFilter. e is not modified; a nil e is
// returned as nil.
//
// Beyond names, Check settles what RFC 7644 leaves to the service provider:
//   - A common attribute (id, externalId, meta) may be qualified with the
//     core schema's URN, as clients that qualify every name write it; its
//     canonical path has no URN (RFC 7643 §3.1). "schemas" (RFC 7643 §3)
//     is a multi-valued reference attribute without URN.
//   - A comparison on a multi-valued complex attribute without a
//     sub-attribute (`emails co "x"`) compares its "value" sub-attribute, as
//     RFC 7644 §3.4.2.2 does in its `emails co "example.com"` example; the
//     result names it (`emails.value co "x"`). `emails pr` stays as it is:
//     some email is present. A single-valued complex attribute takes only pr.
//   - A sub-attribute of a multi-valued attribute (`emails.value eq "x"`)
//     matches when any element's sub-attribute does.
//   - Inside a value path the paths name sub-attributes of its attribute
//     (`emails[type eq "work"]`); value paths apply to complex attributes and
//     do not nest.
//   - The value must suit the attribute's type (RFC 7643 §2.3): a string for
//     string, reference and binary attributes; a number for integer and
//     decimal; true or false for boolean, where the strings "true" and
//     "false" in any case are accepted and converted (the dialect Microsoft
//     Entra ID uses for booleans elsewhere); an RFC 3339 date-time string
//     for dateTime with eq, ne, gt, ge, lt and le (co, sw and ew take any
//     string and compare the text).
//   - co, sw and ew apply to string-like types (string, reference, binary,
//     dateTime); gt, ge, lt and le not to boolean or binary (RFC 7644
//     §3.4.2.2); null only with eq (absent) and ne (present).
func Check(e Expr, rt *scim.ResourceType) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	return check(e, rt, nil)
}

// check checks e; parent is the attribute of the enclosing value path, or nil
// at the top level.
func check(e Expr, rt *scim.ResourceType, parent *scim.Attribute) (Expr, error) {
	switch x := e.(type) {
	case *Compare:
		if x != nil {
			return checkCompare(x, rt, parent)
		}
	case *And:
		if x != nil {
			l, r, err := check2(x.Left, x.Right, rt, parent)
			if err != nil {
				return nil, err
			}
			return &And{Left: l, Right: r}, nil
		}
	case *Or:
		if x != nil {
			l, r, err := check2(x.Left, x.Right, rt, parent)
			if err != nil {
				return nil, err
			}
			return &Or{Left: l, Right: r}, nil
		}
	case *Not:
		if x != nil && x.X != nil {
			inner, err := check(x.X, rt, parent)
			if err != nil {
				return nil, err
			}
			return &Not{X: inner}, nil
		}
	case *ValuePath:
		if x != nil && x.Filter != nil {
			return checkValuePath(x, rt, parent)
		}
	}
	return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: empty expression")
}

func check2(l, r Expr, rt *scim.ResourceType, parent *scim.Attribute) (Expr, Expr, error) {
	if l == nil || r == nil {
		return nil, nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: empty expression")
	}
	cl, err := check(l, rt, parent)
	if err != nil {
		return nil, nil, err
	}
	cr, err := check(r, rt, parent)
	if err != nil {
		return nil, nil, err
	}
	return cl, cr, nil
}

func checkValuePath(x *ValuePath, rt *scim.ResourceType, parent *scim.Attribute) (Expr, error) {
	if parent != nil {
		return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: the value filter of %s cannot hold the value filter %s", parent.Name, x.Path)
	}
	if x.Path.Sub != "" {
		return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: a value filter applies to an attribute, not to the sub-attribute %s", x.Path)
	}
	urn, at, _, ok := lookup(rt, x.Path)
	if !ok {
		return nil, unknown(x.Path, rt)
	}
	canon := scim.Path{URN: urn, Attr: at.Name}
	if at.Type != scim.Complex {
		return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: %s is not a complex attribute, so it takes no value filter [...]", x.Path)
	}
	f, err := check(x.Filter, rt, at)
	if err != nil {
		return nil, err
	}
	return &ValuePath{Path: canon, Filter: f}, nil
}

// schemasAttr defines "schemas", which every resource has (RFC 7643 §3)
// but no schema lists, so that `schemas eq "urn:..."` (an example of RFC
// 7644 §3.4.2.2) works. Schema URIs compare case-insensitively.
var schemasAttr = &scim.Attribute{
	Name: "schemas", Type: scim.Reference, MultiValued: true, Required: true,
	Mutability: scim.ReadOnly, Returned: scim.Always, Uniqueness: scim.UniqueNone,
	ReferenceTypes: []string{"uri"},
}

// resolve is rt.Resolve that also knows "schemas" (see schemasAttr).
func resolve(rt *scim.ResourceType, p scim.Path) (canon scim.Path, attr, sub *scim.Attribute, ok bool) {
	if p.URN == "" && p.Sub == "" && strings.EqualFold(p.Attr, schemasAttr.Name) {
		return scim.Path{Attr: schemasAttr.Name}, schemasAttr, nil, true
	}
	return rt.Resolve(p)
}

func unknown(p scim.Path, rt *scim.ResourceType) error {
	if p.URN != "" && rt.SchemaByURN(p.URN) == nil {
		return scim.BadRequest(scim.InvalidFilter, "invalid filter: %s is not a schema of %s", p.URN, rt.Name)
	}
	return scim.BadRequest(scim.InvalidFilter, "invalid filter: %s is not an attribute of %s", p, rt.Name)
}

func checkCompare(x *Compare, rt *scim.ResourceType, parent *scim.Attribute) (Expr, error) {
	var canon scim.Path
	var def *scim.Attribute
	if parent != nil {
		if x.Path.URN != "" || x.Path.Sub != "" {
			return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: inside the value filter of %s, name one of its sub-attributes, such as %s, not %s", parent.Name, exampleSub(parent), x.Path)
		}
		if def = parent.Sub(x.Path.Attr); def == nil {
			return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: %s is not a sub-attribute of %s", x.Path.Attr, parent.Name)
		}
		canon = scim.Path{Attr: def.Name}
	} else {
		var at, sub *scim.Attribute
		var ok bool
		var urn string
		if urn, at, sub, ok = lookup(rt, x.Path); !ok {
			return nil, unknown(x.Path, rt)
		}
		canon = scim.Path{URN: urn, Attr: at.Name}
		if sub != nil {
			canon.Sub = sub.Name
		}
		def = at
		if sub != nil {
			def = sub
		} else if at.Type == scim.Complex && x.Op != Pr {
			if v := at.Sub("value"); at.MultiValued && v != nil {
				canon.Sub, def = v.Name, v
			} else {
				return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: %s is a complex attribute; compare one of its sub-attributes, such as %s.%s", x.Path, x.Path, exampleSub(at))
			}
		}
	}
	op := Op(strings.ToLower(string(x.Op)))
	v, err := checkValue(def, op, x.Value, x.Path, parent)
	if err != nil {
		return nil, err
	}
	return &Compare{Path: canon, Op: op, Value: v}, nil
}

// checkValue checks op and v against def and returns v in the form Match
// compares: string, float64, bool or nil. path, inside the value filter of
// parent when that is set, names the attribute in error details.
func checkValue(def *scim.Attribute, op Op, v any, path scim.Path, parent *scim.Attribute) (any, error) {
	bad := func(format string, args ...any) error {
		name := path.String()
		if parent != nil {
			name = parent.Name + "[" + name + "]"
		}
		return scim.BadRequest(scim.InvalidFilter, "invalid filter: %s %s: %s", name, op, fmt.Sprintf(format, args...))
	}
	switch op {
	case Pr:
		if v != nil {
			return nil, bad("pr takes no value")
		}
		return nil, nil
	case Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le:
	default:
		return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: unknown operator %q", op)
	}
	ordering := op == Gt || op == Ge || op == Lt || op == Le
	substring := op == Co || op == Sw || op == Ew
	switch {
	case def.Type == scim.Complex:
		return nil, bad("a complex attribute takes only pr")
	case ordering && (def.Type == scim.Boolean || def.Type == scim.Binary):
		// RFC 7644 §3.4.2.2: "Boolean and Binary attributes SHALL cause a
		// failed response (HTTP status code 400) with "scimType" of
		// "invalidFilter"" for gt, ge, lt and le.
		return nil, bad("%s attributes have no order (RFC 7644 §3.4.2.2)", def.Type)
	case substring && (def.Type == scim.Boolean || def.Type == scim.Integer || def.Type == scim.Decimal):
		return nil, bad("%s applies to strings, not to %s attributes", op, def.Type)
	}
	if v == nil {
		if op != Eq && op != Ne {
			return nil, bad("null can only be compared with eq or ne")
		}
		return nil, nil
	}
	switch def.Type {
	case scim.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch {
			case strings.EqualFold(b, "true"):
				return true, nil
			case strings.EqualFold(b, "false"):
				return false, nil
			}
		}
		return nil, bad("a boolean attribute takes true or false, not %s", kind(v))
	case scim.Integer, scim.Decimal:
		if _, ok := v.(float64); ok {
			return v, nil // already the form Match compares; no new allocation
		}
		if f, ok := number(v); ok {
			return f, nil
		}
		return nil, bad("an %s attribute takes a number, not %s", def.Type, kind(v))
	case scim.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a dateTime attribute takes a date-time string, not %s", kind(v))
		}
		if !substring {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return nil, bad("a dateTime attribute takes an RFC 3339 date-time such as \"2011-05-13T04:42:34Z\", not %s", quoteToken(s))
			}
		}
		return v, nil
	}
	// string, reference, binary
	if _, ok := v.(string); !ok {
		return nil, bad("a %s attribute takes a string, not %s", def.Type, kind(v))
	}
	return v, nil
}

// kind names the JSON type of a filter value for error details.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// exampleSub names a sub-attribute of a for an error detail.
func exampleSub(a *scim.Attribute) string {
	if len(a.SubAttributes) == 0 {
		return "value"
	}
	return a.SubAttributes[0].Name
}
