// Package translate holds the pure parts of the engine: validation and
// canonicalization of resource bodies, projection (attributes /
// excludedAttributes), sorting and filter planning. Nothing here does I/O;
// every function is driven by the attribute definitions of a
// scim.ResourceType, not by attribute names.
package translate

import (
	"maps"
	"slices"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Validate checks r, the body of a POST (current nil) or a PUT (current is
// the resource as stored) for resource type rt, and returns the canonical
// resource an adapter receives. It never modifies r or current; the result
// shares no maps or slices with r.
//
// What it does, per RFC 7643 and RFC 7644 §3.3 and §3.5.1:
//   - attribute and sub-attribute names are matched case-insensitively
//     (RFC 7643 §2.1) and rewritten in their defined case; extension
//     attributes end up in the object under their schema URN. A top-level
//     key that is a URN-qualified attribute ("urn:...:User:userName", or an
//     extension's "urn:...:enterprise:2.0:User:department") is accepted and
//     placed where it belongs, as is an object under the core schema URN.
//     Two keys naming the same attribute are a 400 invalidSyntax;
//   - an unknown attribute, sub-attribute or schema URN is a 400
//     invalidSyntax (the body does not conform to the schema, RFC 7644
//     §3.12); nothing a client sends is dropped silently, except what the
//     RFC says to ignore:
//   - readOnly attributes and sub-attributes (id, meta, User.groups,
//     members.display) are ignored (RFC 7643 §7 "mutability", RFC 7644
//     §3.5.1), whatever their value;
//   - null, an empty array and an empty object mean "unassigned" (RFC 7643
//     §2.5) and are left out;
//   - every value is type-checked against its definition (string, boolean,
//     decimal, integer, dateTime in RFC 3339 form, reference, base64
//     binary, complex with its sub-attributes): a mismatch is a 400
//     invalidValue naming the attribute;
//   - IdP dialects are coerced: a boolean sent as the string "True" or
//     "False" (any case) becomes a boolean, and a single value where a
//     multi-valued attribute is expected becomes a one-element array (safe:
//     the intent is unambiguous, and RFC 7643 §2.4 makes the array form the
//     only representation, so nothing else could be meant). An array where a
//     single value is expected is not coerced: which element would be meant
//     is ambiguous;
//   - a multi-valued attribute with more than one primary=true is a 400
//     invalidValue (RFC 7643 §2.4);
//   - a required attribute that is missing, null, or a blank string is a 400
//     invalidValue; so is a missing extension that the resource type marks
//     required (RFC 7643 §6);
//   - schemas: when absent it is derived (the endpoint already names the
//     resource type, so nothing is guessed); when present it must be an
//     array of strings that includes the core schema's URN, else 400
//     invalidSyntax. A listed URN that is no schema of rt is ignored when
//     the body holds nothing under it (Entra ID lists one of its own); an
//     unknown URN used as a key, with attributes under it, is a 400
//     invalidSyntax, since those attributes would otherwise be lost. The
//     result's schemas lists the core schema and
//     each extension whose object is present, in rt's order: an extension
//     object the body holds under its URN key declares itself, so a URN
//     missing from schemas is added rather than rejected;
//   - on PUT (current non-nil), an immutable attribute that current holds
//     must keep its value: a different value is a 400 mutability, and an
//     omitted one keeps the current value (RFC 7644 §3.5.1: "If one or more
//     values are already set for the attribute, the input value(s) MUST
//     match"; omitted attributes are "not asserted"). This applies to
//     top-level attributes and to sub-attributes of single-valued complex
//     attributes. Sub-attributes of multi-valued attributes (Group
//     members.value) are immutable per element: a PUT adds and removes
//     elements, and an element that changed its value is a different
//     element, so no per-element check applies.
func Validate(rt *scim.ResourceType, r, current scim.Resource) (scim.Resource, error) {
	if r == nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "the request body must be a JSON object")
	}
	v := validator{rt: rt, out: make(scim.Resource, len(r)+1)}
	var schemas any
	hasSchemas := false
	for _, k := range sortedKeys(r) {
		val := r[k]
		if strings.EqualFold(k, "schemas") {
			if hasSchemas {
				return nil, scim.BadRequest(scim.InvalidSyntax, "schemas is given more than once")
			}
			schemas, hasSchemas = val, true
			continue
		}
		if err := v.top(k, val); err != nil {
			return nil, err
		}
	}
	if err := v.checkSchemas(schemas, hasSchemas); err != nil {
		return nil, err
	}
	if current != nil {
		if err := v.immutable(current); err != nil {
			return nil, err
		}
	}
	if err := v.required(); err != nil {
		return nil, err
	}
	list := []any{rt.Schema.ID}
	for _, ext := range rt.Extensions {
		if _, ok := v.out[ext.ID]; ok {
			list = append(list, ext.ID)
		}
	}
	v.out["schemas"] = list
	return v.out, nil
}

// HasImmutable reports whether rt defines an attribute that Validate checks
// against the current resource on PUT, so that a caller knows whether it
// must read the resource first.
func HasImmutable(rt *scim.ResourceType) bool {
	for _, s := range rt.Schemas() {
		for _, a := range s.Attributes {
			if a.Mutability == scim.Immutable {
				return true
			}
			if a.Type == scim.Complex && !a.MultiValued {
				for _, sub := range a.SubAttributes {
					if sub.Mutability == scim.Immutable {
						return true
					}
				}
			}
		}
	}
	for _, a := range scim.CommonAttributes {
		if a.Mutability == scim.Immutable {
			return true
		}
	}
	return false
}

// validator builds the canonical form of one resource body.
type validator struct {
	rt  *scim.ResourceType
	out scim.Resource
}

// top handles one top-level key of the body.
func (v *validator) top(k string, val any) error {
	if s := v.rt.SchemaByURN(k); s != nil {
		if val == nil {
			return nil
		}
		obj, ok := val.(map[string]any)
		if !ok {
			return scim.BadRequest(scim.InvalidSyntax, "%s must be a JSON object holding the attributes of that schema, got %s", s.ID, scim.JSONKind(val))
		}
		for _, sk := range sortedKeys(obj) {
			def := s.Attr(sk)
			if def == nil && s == v.rt.Schema {
				def = commonAttr(sk)
			}
			if def == nil {
				return unknownAttr(s.ID+":"+sk, "")
			}
			if err := v.set(s, def, obj[sk]); err != nil {
				return err
			}
		}
		return nil
	}
	if strings.HasPrefix(strings.ToLower(k), "urn:") {
		p := scim.ParsePath(k)
		s := v.rt.SchemaByURN(p.URN)
		if s == nil {
			return scim.BadRequest(scim.InvalidSyntax, "%q is neither an attribute nor a schema of %s", k, v.rt.ID)
		}
		def := s.Attr(p.Attr)
		if def == nil || p.Sub != "" {
			return unknownAttr(k, "")
		}
		return v.set(s, def, val)
	}
	if def := commonAttr(k); def != nil {
		return v.set(v.rt.Schema, def, val)
	}
	if def := v.rt.Schema.Attr(k); def != nil {
		return v.set(v.rt.Schema, def, val)
	}
	for _, ext := range v.rt.Extensions {
		if ext.Attr(k) != nil {
			return unknownAttr(k, "; it belongs to the extension "+ext.ID+" and goes in the object under that URN")
		}
	}
	return unknownAttr(k, "")
}

func commonAttr(name string) *scim.Attribute {
	for _, a := range scim.CommonAttributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func unknownAttr(name, hint string) error {
	return scim.BadRequest(scim.InvalidSyntax, "unknown attribute %q%s", name, hint)
}

// scope returns the object that holds the attributes of schema s in the
// output: the resource itself for the core schema, else the extension's
// object, created when create is set.
func (v *validator) scope(s *scim.Schema, create bool) map[string]any {
	if s == v.rt.Schema {
		return v.out
	}
	m, _ := v.out[s.ID].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		v.out[s.ID] = m
	}
	return m
}

// set checks val as the value of def, an attribute of schema s, and stores
// it in canonical form.
func (v *validator) set(s *scim.Schema, def *scim.Attribute, val any) error {
	name := qualified(v.rt, s, def.Name)
	if def.Mutability == scim.ReadOnly {
		return nil
	}
	c, err := checkAttr(def, val, name)
	if err != nil || c == nil {
		return err
	}
	scope := v.scope(s, true)
	if _, dup := scope[def.Name]; dup {
		return scim.BadRequest(scim.InvalidSyntax, "attribute %s is given more than once", name)
	}
	scope[def.Name] = c
	return nil
}

// qualified names an attribute of s for error details: core attributes by
// name, extension attributes with their URN.
func qualified(rt *scim.ResourceType, s *scim.Schema, name string) string {
	if s == nil || s == rt.Schema {
		return name
	}
	return s.ID + ":" + name
}

// checkAttr checks val against def and returns its canonical form, or nil
// when val is unassigned (null, empty array, empty object).
func checkAttr(def *scim.Attribute, val any, name string) (any, error) {
	if val == nil {
		return nil, nil
	}
	if !def.MultiValued {
		if _, isList := val.([]any); isList {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s is single-valued, got an array", name)
		}
		return checkSingle(def, val, name)
	}
	list := scim.AsList(val) // a single value is coerced to one element
	out := make([]any, 0, len(list))
	primary := false
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
		if m, ok := c.(map[string]any); ok && m["primary"] == true {
			// RFC 7643 §2.4: "The primary attribute value "true" MUST
			// appear no more than once."
			if primary {
				return nil, scim.BadRequest(scim.InvalidValue, "attribute %s has more than one primary value", name)
			}
			primary = true
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
		return nil, def.TypeError(val, name)
	}
	out := make(map[string]any, len(obj))
	for _, k := range sortedKeys(obj) {
		sub := def.Sub(k)
		if sub == nil {
			return nil, unknownAttr(name+"."+k, "")
		}
		if sub.Mutability == scim.ReadOnly {
			continue
		}
		subName := name + "." + sub.Name
		c, err := checkAttr(sub, obj[k], subName)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		if _, dup := out[sub.Name]; dup {
			return nil, scim.BadRequest(scim.InvalidSyntax, "attribute %s is given more than once", subName)
		}
		out[sub.Name] = c
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, sub := range def.SubAttributes {
		if sub.Required && sub.Mutability != scim.ReadOnly && blank(out[sub.Name]) {
			return nil, scim.BadRequest(scim.InvalidValue, "attribute %s.%s is required", name, sub.Name)
		}
	}
	return out, nil
}

// blank reports whether v is unassigned for a required check: absent, or a
// string of only white space.
func blank(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// checkSchemas checks the body's schemas attribute (RFC 7643 §3).
func (v *validator) checkSchemas(val any, given bool) error {
	if !given {
		return nil
	}
	var urns []string
	switch l := val.(type) {
	case []any:
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return scim.BadRequest(scim.InvalidSyntax, "schemas must be an array of schema URNs, got an element of type %s", scim.JSONKind(e))
			}
			urns = append(urns, s)
		}
	case []string:
		urns = l
	default:
		return scim.BadRequest(scim.InvalidSyntax, "schemas must be an array of schema URNs, got %s", scim.JSONKind(val))
	}
	core := false
	for _, u := range urns {
		// A URN that is not a schema of rt is ignored here: the body holds
		// no attributes under it (top rejects such a key), so nothing the
		// client sent is lost. IdP dialect: Microsoft Entra ID lists
		// "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"
		// when it creates a group (testdata/entra/groups-create.in.json).
		core = core || v.rt.SchemaByURN(u) == v.rt.Schema
	}
	if !core {
		return scim.BadRequest(scim.InvalidSyntax, "schemas must contain %s for a %s", v.rt.Schema.ID, v.rt.ID)
	}
	return nil
}

// required checks the required attributes and extensions (RFC 7643 §2.2,
// §6). Read-only attributes are assigned by the service provider, so a
// client cannot be required to send them.
func (v *validator) required() error {
	for _, s := range v.rt.Schemas() {
		scope := v.scope(s, false)
		if s != v.rt.Schema && scope == nil {
			if v.rt.Required[s.ID] {
				return scim.BadRequest(scim.InvalidValue, "the extension %s is required for a %s", s.ID, v.rt.ID)
			}
			continue
		}
		for _, a := range s.Attributes {
			if a.Required && a.Mutability != scim.ReadOnly && blank(scope[a.Name]) {
				return scim.BadRequest(scim.InvalidValue, "attribute %s is required", qualified(v.rt, s, a.Name))
			}
		}
	}
	return nil
}

// immutable enforces RFC 7644 §3.5.1 for immutable attributes against
// current, the stored resource (see Validate).
func (v *validator) immutable(current scim.Resource) error {
	check := func(s *scim.Schema, attrs []*scim.Attribute, curScope map[string]any) error {
		for _, a := range attrs {
			cur, _ := scim.Field(curScope, a.Name)
			if a.Mutability == scim.Immutable {
				if err := v.keep(s, a, "", cur); err != nil {
					return err
				}
				continue
			}
			if a.Type != scim.Complex || a.MultiValued {
				continue
			}
			curObj, _ := cur.(map[string]any)
			for _, sub := range a.SubAttributes {
				if sub.Mutability != scim.Immutable {
					continue
				}
				subCur, _ := scim.Field(curObj, sub.Name)
				if err := v.keep(s, a, sub.Name, subCur); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(v.rt.Schema, scim.CommonAttributes, current); err != nil {
		return err
	}
	for _, s := range v.rt.Schemas() {
		curScope := map[string]any(current)
		if s != v.rt.Schema {
			curScope, _ = fieldMap(current, s.ID)
		}
		if err := check(s, s.Attributes, curScope); err != nil {
			return err
		}
	}
	return nil
}

// keep compares the new value of immutable attribute a of s (its
// sub-attribute sub when not empty) with cur, the stored one: a stored value
// must not change, and an omitted one is kept.
func (v *validator) keep(s *scim.Schema, a *scim.Attribute, sub string, cur any) error {
	if cur == nil {
		return nil // not set yet: RFC 7643 §7 lets a PUT set it
	}
	def, name := a, qualified(v.rt, s, a.Name)
	if sub != "" {
		def, name = a.Sub(sub), name+"."+sub
	}
	scope := v.scope(s, true)
	holder := scope
	if sub != "" {
		obj, _ := scope[a.Name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			scope[a.Name] = obj
		}
		holder = obj
	}
	next, ok := holder[def.Name]
	if !ok {
		holder[def.Name] = scim.CloneValue(cur)
		return nil
	}
	if !def.Equal(next, cur) {
		return scim.BadRequest(scim.Mutability, "attribute %s is immutable and already set: it cannot change", name)
	}
	return nil
}

func fieldMap(obj map[string]any, name string) (map[string]any, bool) {
	v, _ := scim.Field(obj, name)
	m, ok := v.(map[string]any)
	return m, ok
}

// sortedKeys returns the keys of m in order, so that the first error
// reported does not depend on map iteration order.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
