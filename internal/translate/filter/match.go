package filter

import (
	"cmp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Match reports whether r satisfies e, an Expr returned by Check for rt.
// Comparisons follow the attribute definitions: caseExact, type (string,
// boolean, decimal, integer, dateTime, ...) and multi-valued semantics.
//
// The rules, after RFC 7644 §3.4.2.2 and RFC 7643 §2:
//   - Strings compare case-insensitively unless the attribute is caseExact
//     (id, externalId and the meta sub-attributes other than the dates are;
//     userName is not); binary values always exactly. gt, ge, lt and le
//     order strings lexically by byte, after lower-casing when not
//     caseExact, as sorting does (RFC 7644 §3.4.2.3).
//   - dateTime values compare as instants (RFC 3339, any offset);
//     integer and decimal values as numbers; booleans only with eq and ne.
//   - A multi-valued attribute matches when any of its values does;
//     `emails.value eq "x"` when any element's value does.
//   - pr holds when the attribute has a value that is not null, not "" and
//     not an empty array or object.
//   - ne is the negation of eq: it holds when no value equals, so also when
//     the attribute is absent. eq null holds when pr does not, ne null when
//     it does.
//   - A value of the wrong type (a number where a string is defined) never
//     equals anything.
//
// Match also accepts an Expr that was not checked (names in any case, a
// complex attribute without its "value" sub-attribute); an attribute rt does
// not define is then read from r by name and compared by the JSON type of
// its value, case-insensitively for strings. Match never panics.
func Match(e Expr, r scim.Resource, rt *scim.ResourceType) bool {
	switch x := e.(type) {
	case *Compare:
		return x != nil && matchCompare(x, r, rt)
	case *And:
		return x != nil && Match(x.Left, r, rt) && Match(x.Right, r, rt)
	case *Or:
		return x != nil && (Match(x.Left, r, rt) || Match(x.Right, r, rt))
	case *Not:
		return x != nil && x.X != nil && !Match(x.X, r, rt)
	case *ValuePath:
		if x == nil {
			return false
		}
		urn, at, _, ok := lookup(rt, scim.Path{URN: x.Path.URN, Attr: x.Path.Attr})
		var v any
		if ok {
			v = attrValue(r, extURN(rt, urn), at.Name)
		} else {
			v, _ = r.Get(scim.Path{URN: x.Path.URN, Attr: x.Path.Attr})
		}
		switch t := v.(type) {
		case []any:
			for _, el := range t {
				if m, isMap := el.(map[string]any); isMap && MatchElement(x.Filter, m, at) {
					return true
				}
			}
		case map[string]any:
			return MatchElement(x.Filter, t, at)
		}
	}
	return false
}

// MatchElement reports whether one element of the multi-valued complex
// attribute parent satisfies e, a value filter whose paths name sub-attributes.
// Names match case-insensitively; parent may be nil, and then values compare
// by their JSON type as Match does for undefined attributes.
func MatchElement(e Expr, elem map[string]any, parent *scim.Attribute) bool {
	switch x := e.(type) {
	case *Compare:
		if x == nil {
			return false
		}
		var def *scim.Attribute
		if parent != nil && x.Path.URN == "" && x.Path.Sub == "" {
			def = subAttr(parent, x.Path.Attr)
		}
		name := x.Path.Attr
		if def != nil {
			name = def.Name
		}
		var v any
		if x.Path.URN == "" && x.Path.Sub == "" {
			v = field(elem, name)
		}
		return matchValue(def, x.Op, x.Value, v, "")
	case *And:
		return x != nil && MatchElement(x.Left, elem, parent) && MatchElement(x.Right, elem, parent)
	case *Or:
		return x != nil && (MatchElement(x.Left, elem, parent) || MatchElement(x.Right, elem, parent))
	case *Not:
		return x != nil && x.X != nil && !MatchElement(x.X, elem, parent)
	}
	return false
}

func matchCompare(x *Compare, r scim.Resource, rt *scim.ResourceType) bool {
	urn, at, sub, ok := lookup(rt, x.Path)
	if !ok {
		// Not an attribute of rt: read it by name, compare by JSON type.
		v := attrValue(r, x.Path.URN, x.Path.Attr)
		return matchValue(nil, x.Op, x.Value, v, x.Path.Sub)
	}
	def := at
	if sub == nil && at.Type == scim.Complex && at.MultiValued && x.Op != Pr {
		// An unchecked `emails co "x"` means emails.value, as Check makes it.
		sub = subAttr(at, "value")
	}
	subName := ""
	if sub != nil {
		def, subName = sub, sub.Name
	}
	return matchValue(def, x.Op, x.Value, attrValue(r, extURN(rt, urn), at.Name), subName)
}

// matchValue reports whether v, the value of an attribute defined by def
// (nil when unknown), satisfies `op want`. When sub is set, v is a complex
// value or an array of them and sub names the sub-attribute compared.
func matchValue(def *scim.Attribute, op Op, want, v any, sub string) bool {
	switch op {
	case Pr:
		return anyValue(v, sub, present)
	case Eq, Ne:
		var eq bool
		if want == nil {
			eq = !anyValue(v, sub, present)
		} else {
			eq = anyValue(v, sub, func(x any) bool { return compare(def, Eq, x, want) })
		}
		return eq == (op == Eq)
	case Co, Sw, Ew, Gt, Ge, Lt, Le:
		return anyValue(v, sub, func(x any) bool { return compare(def, op, x, want) })
	}
	return false
}

// anyValue reports whether f holds for a value of v: each element of an
// array, or v itself; with sub set, the sub-attribute of each complex value.
func anyValue(v any, sub string, f func(any) bool) bool {
	if sub == "" {
		if list, ok := v.([]any); ok {
			for _, el := range list {
				if f(el) {
					return true
				}
			}
			return false
		}
		return f(v)
	}
	switch t := v.(type) {
	case []any:
		for _, el := range t {
			if m, ok := el.(map[string]any); ok && f(field(m, sub)) {
				return true
			}
		}
	case map[string]any:
		return f(field(t, sub))
	}
	return false
}

// present is pr for one value (RFC 7644 §3.4.2.2: "If the attribute has a
// non-empty value, or if it contains a non-empty node for complex
// attributes, there is a match").
func present(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// compare reports whether the attribute value a satisfies `op b` for one
// value. def is the attribute's definition, or nil.
func compare(def *scim.Attribute, op Op, a, b any) bool {
	if s, ok := b.(string); ok && def != nil && def.Type == scim.Boolean {
		// The string booleans Check converts (see there), unchecked.
		switch {
		case strings.EqualFold(s, "true"):
			b = true
		case strings.EqualFold(s, "false"):
			b = false
		}
	}
	switch want := b.(type) {
	case string:
		got, ok := a.(string)
		if !ok {
			return false
		}
		substring := op == Co || op == Sw || op == Ew
		if def != nil && def.Type == scim.DateTime && !substring {
			return compareTime(op, got, want)
		}
		fold := def == nil || !def.CaseExact && def.Type != scim.Binary
		switch op {
		case Eq:
			if fold {
				return strings.EqualFold(got, want)
			}
			return got == want
		case Co, Sw, Ew:
			if fold {
				got, want = foldPair(got, want)
			}
			switch op {
			case Co:
				return strings.Contains(got, want)
			case Sw:
				return strings.HasPrefix(got, want)
			}
			return strings.HasSuffix(got, want)
		}
		if fold {
			return ordered(op, compareFold(got, want))
		}
		return ordered(op, strings.Compare(got, want))
	case bool:
		got, ok := a.(bool)
		return ok && op == Eq && got == want
	}
	wantF, ok := number(b)
	if !ok || op == Co || op == Sw || op == Ew {
		return false
	}
	gotF, ok := number(a)
	return ok && ordered(op, cmp.Compare(gotF, wantF))
}

// ordered turns a three-way comparison into the result of op.
func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

func compareTime(op Op, got, want string) bool {
	gt, err := time.Parse(time.RFC3339Nano, got)
	if err != nil {
		return false
	}
	wt, err := time.Parse(time.RFC3339Nano, want)
	if err != nil {
		return false
	}
	return ordered(op, gt.Compare(wt))
}

// foldPair returns a and b lower-cased for a case-insensitive substring
// test. ASCII strings of which neither has an upper-case letter come back
// unchanged, without allocating.
func foldPair(a, b string) (string, string) {
	if needsLower(a) {
		a = strings.ToLower(a)
	}
	if needsLower(b) {
		b = strings.ToLower(b)
	}
	return a, b
}

func needsLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// compareFold orders a and b as strings.Compare orders their lower-case
// forms (the order sorting uses), without allocating for ASCII.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca >= utf8.RuneSelf || cb >= utf8.RuneSelf {
			return strings.Compare(strings.ToLower(a[i:]), strings.ToLower(b[i:]))
		}
		if ca, cb = lower(ca), lower(cb); ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

// lookup finds the definitions for p in rt as resolve (rt.Resolve) does,
// but first by exact name, which is what a checked Expr holds, so the common
// case costs a few string comparisons and no allocation. urn is the
// canonical URN: the schema's ID, or "" for the common attributes and
// "schemas".
func lookup(rt *scim.ResourceType, p scim.Path) (urn string, at, sub *scim.Attribute, ok bool) {
	if rt == nil || rt.Schema == nil {
		if p.URN == "" {
			at = exact(scim.CommonAttributes, p.Attr)
		}
	} else {
		switch p.URN {
		case "":
			if at = exact(scim.CommonAttributes, p.Attr); at == nil {
				if at = exact(rt.Schema.Attributes, p.Attr); at != nil {
					urn = rt.Schema.ID
				}
			}
		case rt.Schema.ID:
			urn, at = rt.Schema.ID, exact(rt.Schema.Attributes, p.Attr)
		default:
			for _, s := range rt.Extensions {
				if s.ID == p.URN {
					urn, at = s.ID, exact(s.Attributes, p.Attr)
					break
				}
			}
		}
		if at == nil {
			canon, a, _, found := resolve(rt, scim.Path{URN: p.URN, Attr: p.Attr})
			if !found && strings.EqualFold(p.URN, rt.Schema.ID) {
				// A common attribute (id, externalId, meta) qualified with
				// the core schema's URN: RFC 7643 §3.1 puts it in no
				// schema, but a client that qualifies every name means the
				// same attribute (the patch package reads paths so too).
				a = find(scim.CommonAttributes, p.Attr)
				canon, found = scim.Path{}, a != nil
			}
			if !found {
				return "", nil, nil, false
			}
			urn, at = canon.URN, a
		}
	}
	if at == nil && p.URN == "" && p.Sub == "" && strings.EqualFold(p.Attr, schemasAttr.Name) {
		at = schemasAttr
	}
	if at == nil {
		return "", nil, nil, false
	}
	if p.Sub != "" {
		if sub = subAttr(at, p.Sub); sub == nil {
			return "", nil, nil, false
		}
	}
	return urn, at, sub, true
}

// extURN returns urn when it names an extension of rt, whose attributes
// live under it in a resource, and "" otherwise.
func extURN(rt *scim.ResourceType, urn string) string {
	if rt != nil && rt.Schema != nil && urn == rt.Schema.ID {
		return ""
	}
	return urn
}

// find returns the attribute named name in attrs, case-insensitively.
func find(attrs []*scim.Attribute, name string) *scim.Attribute {
	if a := exact(attrs, name); a != nil {
		return a
	}
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func exact(attrs []*scim.Attribute, name string) *scim.Attribute {
	for _, a := range attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// subAttr is parent.Sub(name), trying the exact name first.
func subAttr(parent *scim.Attribute, name string) *scim.Attribute {
	if a := exact(parent.SubAttributes, name); a != nil {
		return a
	}
	return parent.Sub(name)
}

// attrValue returns the value of attribute name of r, under the extension
// URN ext when it is set.
func attrValue(r scim.Resource, ext, name string) any {
	obj := map[string]any(r)
	if ext != "" {
		m, _ := field(obj, ext).(map[string]any)
		if m == nil {
			return nil
		}
		obj = m
	}
	return field(obj, name)
}

// field is scim.Field without the second result, trying the exact name
// first (the engine canonicalizes names, so that is the common case).
func field(obj map[string]any, name string) any {
	if v, ok := obj[name]; ok {
		return v
	}
	v, _ := scim.Field(obj, name)
	return v
}
