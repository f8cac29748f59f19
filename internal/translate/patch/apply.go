package patch

import (
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// applier carries out operations on res, a deep copy of the resource that
// only it holds, so that it may change maps and slices in place. An error
// leaves res half-changed; Apply then drops it (all or none).
type applier struct {
	rt  *scim.ResourceType
	res scim.Resource
}

// target is a PATCH path resolved against the resource type.
type target struct {
	schema *scim.Schema    // the schema holding the attribute; rt.Schema for common attributes
	def    *scim.Attribute // the attribute
	sub    *scim.Attribute // the sub-attribute ("name.givenName", "emails[...].value"), or nil
	filter filter.Expr     // the checked value filter of "emails[type eq \"work\"]", or nil
	name   string          // the attribute for error details: names only, never filter values
}

// op applies one operation.
func (a *applier) op(op scim.PatchOp) error {
	kind := strings.ToLower(op.Op)
	switch kind {
	case opAdd, opRemove, opReplace:
	default:
		return scim.BadRequest(scim.InvalidSyntax, `op %s is not "add", "remove" or "replace"`, quote(op.Op))
	}
	if strings.TrimSpace(op.Path) != "" {
		return a.path(kind, op.Path, op.Value)
	}
	if kind == opRemove {
		return scim.BadRequest(scim.NoTarget, "a remove operation needs a path (RFC 7644 §3.5.2.2)")
	}
	// RFC 7644 §3.5.2.1 and §3.5.2.3: without a path the target is the
	// resource itself, and the value holds the attributes to add or replace.
	obj, ok := op.Value.(map[string]any)
	if !ok {
		return scim.BadRequest(scim.InvalidValue, "without a path, the value of an %s operation must be an object of attributes, got %s", kind, scim.JSONKind(op.Value))
	}
	return a.attributes(kind, "", obj)
}

// attributes applies kind to each key of obj: the value of a path-less
// operation when urn is empty, else the value given for schema urn, whose
// keys are that schema's attributes. A key is read as a path, so the dotted
// and URN-qualified keys IdPs send resolve like any path (see Parse).
func (a *applier) attributes(kind, urn string, obj map[string]any) error {
	for _, k := range sortedKeys(obj) {
		p := k
		if urn == "" {
			if strings.EqualFold(k, "schemas") {
				continue // derived from the attributes present (RFC 7643 §3)
			}
		} else {
			p = urn + ":" + k
		}
		if err := a.path(kind, p, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// path applies kind at the path text with value.
func (a *applier) path(kind, text string, value any) error {
	pp, err := filter.ParsePatchPath(text)
	if err != nil {
		return err
	}
	if pp.Path.Attr == "" {
		if s := a.rt.SchemaByURN(pp.Path.URN); s != nil {
			return a.schema(kind, s, value)
		}
		// ParsePatchPath guesses that a URN-qualified name starting in
		// upper case names a schema; it may be an attribute written in
		// another case ("...:2.0:User:Manager").
		pp.Path = scim.ParsePath(pp.Path.URN)
	}
	t, err := a.resolve(pp)
	if err != nil {
		return err
	}
	scope := a.scope(t.schema, kind != opRemove)
	if scope == nil {
		// Removing from an extension the resource does not have.
		if t.filter != nil {
			return noMatch(t)
		}
		return nil
	}
	switch {
	case t.filter != nil:
		return a.filtered(kind, t, scope, value)
	case t.sub != nil && t.def.MultiValued:
		return a.eachSub(kind, t, scope, value)
	case t.sub != nil:
		return a.subAttr(kind, t, scope, value)
	}
	return a.attr(kind, t, scope, value)
}

// resolve finds the definitions a parsed path names.
func (a *applier) resolve(pp filter.PatchPath) (target, error) {
	canon, def, sub, ok := a.rt.Resolve(pp.Path)
	if !ok && pp.Path.URN != "" && strings.EqualFold(pp.Path.URN, a.rt.Schema.ID) {
		// A common attribute (id, externalId, meta) written with the core
		// schema's URN: RFC 7643 §3.1 puts it in no schema, but a client
		// that qualifies every name means the same attribute.
		c, d, s, found := a.rt.Resolve(scim.Path{Attr: pp.Path.Attr, Sub: pp.Path.Sub})
		if found && c.URN == "" {
			canon, def, sub, ok = c, d, s, true
		}
	}
	if !ok {
		if pp.Path.URN != "" && a.rt.SchemaByURN(pp.Path.URN) == nil {
			return target{}, scim.BadRequest(scim.InvalidPath, "%s is not a schema of %s", quote(pp.Path.URN), a.rt.Name)
		}
		return target{}, scim.BadRequest(scim.InvalidPath, "%s is not an attribute of %s", quote(pp.Path.String()), a.rt.Name)
	}
	t := target{schema: a.rt.Schema, def: def, sub: sub, name: def.Name}
	if canon.URN != "" && !strings.EqualFold(canon.URN, a.rt.Schema.ID) {
		t.schema = a.rt.SchemaByURN(canon.URN)
		t.name = t.schema.ID + ":" + def.Name
	}
	if sub != nil {
		t.name += "." + sub.Name
	}
	if pp.Filter == nil {
		return t, nil
	}
	// RFC 7644 §3.5.2: a valuePath selects elements of a multi-valued
	// attribute; their sub-attributes are complex-attribute members.
	if def.Type != scim.Complex || !def.MultiValued {
		return target{}, scim.BadRequest(scim.InvalidPath, "a value filter selects elements of a multi-valued complex attribute, and %s is not one", t.name)
	}
	e, err := filter.Check(&filter.ValuePath{Path: scim.Path{URN: canon.URN, Attr: canon.Attr}, Filter: pp.Filter}, a.rt)
	if err != nil {
		// In a PATCH, the filter is part of the path (RFC 7644 §3.12
		// invalidPath: "the path attribute was invalid or malformed").
		se := scim.AsError(err)
		return target{}, &scim.Error{Status: se.Status, ScimType: scim.InvalidPath, Detail: se.Detail}
	}
	vp, ok := e.(*filter.ValuePath)
	if !ok || vp.Filter == nil {
		return target{}, scim.BadRequest(scim.InvalidPath, "invalid value filter for %s", t.name)
	}
	t.filter = vp.Filter
	if pp.Sub != "" {
		if t.sub = def.Sub(pp.Sub); t.sub == nil {
			return target{}, scim.BadRequest(scim.InvalidPath, "%s is not a sub-attribute of %s", quote(pp.Sub), t.name)
		}
		t.name += "." + t.sub.Name
	}
	return t, nil
}

// scope returns the object holding the attributes of s: the resource for the
// core schema (and the common attributes), else the extension's object under
// its URN, created when create is set. An extension object found under
// another spelling of its URN is moved to the canonical key.
func (a *applier) scope(s *scim.Schema, create bool) map[string]any {
	if s == a.rt.Schema {
		return a.res
	}
	key, v, found := lookup(a.res, s.ID)
	m, isMap := v.(map[string]any)
	if found && isMap {
		if key != s.ID {
			delete(a.res, key)
			a.res[s.ID] = m
		}
		return m
	}
	if !create {
		return nil
	}
	if found {
		delete(a.res, key) // not an object: the stored value was unusable
	}
	m = map[string]any{}
	a.res[s.ID] = m
	return m
}

// attr applies kind to a whole attribute (no sub-attribute, no filter).
func (a *applier) attr(kind string, t target, scope map[string]any, value any) error {
	key, cur, _ := lookup(scope, t.def.Name)
	old := a.snapshot(t.def, cur)
	var next any
	switch {
	case kind == opRemove && value != nil:
		// IdP dialect: Microsoft Entra ID (without aadOptscim062020) removes
		// group members with {"op":"Remove","path":"members","value":[{"value":"id"}]}
		// (testdata/entra/groups-remove-members and
		// testdata/entra/groups-remove-member-value-array): the value lists
		// the elements to remove, not "all of them".
		if !t.def.MultiValued {
			return scim.BadRequest(scim.InvalidValue, "a remove operation takes no value, except to list elements of a multi-valued attribute to remove; %s is single-valued", t.name)
		}
		l, err := a.removeElements(t, cur, value)
		if err != nil {
			return err
		}
		next = l
	case kind == opRemove:
		next = nil
	default:
		v, err := checkValue(t.def, value, t.name)
		if err != nil {
			return err
		}
		switch {
		case v == nil && kind == opAdd:
			next = cur // adding nothing changes nothing
		case t.def.MultiValued && kind == opAdd:
			// RFC 7644 §3.5.2.1: "a new value is added to the attribute".
			l, err := a.addElements(t, cur, v.([]any))
			if err != nil {
				return err
			}
			next = l
		case t.def.Type == scim.Complex && !t.def.MultiValued && v != nil:
			// RFC 7644 §3.5.2.3: "Sub-attributes that are not specified in
			// the value parameter are left unchanged"; add, targeting a
			// complex attribute, sets the sub-attributes given (§3.5.2.1).
			obj, err := a.merge(t, kind, cur, v.(map[string]any))
			if err != nil {
				return err
			}
			next = obj
		default:
			// RFC 7644 §3.5.2.3: a single value, or without a filter
			// "the attribute and all values are replaced"; null makes it
			// unassigned (RFC 7643 §2.5).
			next = v
		}
	}
	if err := guard(t.def, t.name, old, next); err != nil {
		return err
	}
	if keepStored(kind, t.def, old, next) {
		return nil
	}
	store(scope, key, t.def.Name, next)
	return nil
}

// keepStored reports whether writing next over old, equal values of def,
// must leave the stored spelling alone: an add of a value the target
// "already contains" makes no change (RFC 7644 §3.5.2.1), and neither does
// writing its own value to a readOnly or immutable attribute. A replace of a
// readWrite attribute writes next, so that a client can correct the case of
// a case-insensitive value.
func keepStored(kind string, def *scim.Attribute, old, next any) bool {
	guarded := def.Mutability == scim.ReadOnly || def.Mutability == scim.Immutable
	return (kind == opAdd || guarded) && !scim.Unassigned(old) && def.Equal(old, next)
}

// subAttr applies kind to a sub-attribute of a single-valued complex
// attribute ("name.givenName", "urn:...:User:manager.value").
func (a *applier) subAttr(kind string, t target, scope map[string]any, value any) error {
	key, cur, _ := lookup(scope, t.def.Name)
	old := a.snapshot(t.def, cur)
	obj, _ := cur.(map[string]any)
	if obj == nil {
		if kind == opRemove {
			return nil
		}
		obj = map[string]any{}
	}
	if err := a.setSub(t, obj, kind, value, false); err != nil {
		return err
	}
	var next any = obj
	if len(obj) == 0 {
		next = nil
	}
	if err := guard(t.def, t.name, old, next); err != nil {
		return err
	}
	store(scope, key, t.def.Name, next)
	return nil
}

// eachSub applies kind to a sub-attribute of every element of a
// multi-valued attribute ("emails.type" without a filter).
func (a *applier) eachSub(kind string, t target, scope map[string]any, value any) error {
	key, cur, _ := lookup(scope, t.def.Name)
	old := a.snapshot(t.def, cur)
	list := elements(cur)
	if len(list) == 0 {
		if kind == opRemove {
			return nil
		}
		// RFC 7644 §3.5.2.3: replacing what does not exist is an add; the
		// attribute gets one element holding the sub-attribute.
		elem := map[string]any{}
		if err := a.setSub(t, elem, kind, value, true); err != nil {
			return err
		}
		if len(elem) > 0 {
			list = append(list, elem)
		}
	} else {
		if kind != opRemove && strings.EqualFold(t.sub.Name, "primary") && len(list) > 1 {
			if v, _ := checkAttr(t.sub, value, t.name); v == true {
				return scim.BadRequest(scim.InvalidValue, "%s cannot be true for every element; select one with a value filter", t.name)
			}
		}
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if err := a.setSub(t, m, kind, value, false); err != nil {
					return err
				}
			}
		}
		if kind == opRemove {
			list = dropEmpty(list)
		}
	}
	next := listValue(list)
	if err := guard(t.def, t.name, old, next); err != nil {
		return err
	}
	store(scope, key, t.def.Name, next)
	return nil
}

// filtered applies kind to the elements of a multi-valued attribute that a
// value filter selects (RFC 7644 §3.5.2), or to a sub-attribute of each.
func (a *applier) filtered(kind string, t target, scope map[string]any, value any) error {
	key, cur, _ := lookup(scope, t.def.Name)
	old := a.snapshot(t.def, cur)
	list := elements(cur)
	var matched []int
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && filter.MatchElement(t.filter, m, t.def) {
			matched = append(matched, i)
		}
	}
	switch {
	case len(matched) == 0 && kind != opAdd:
		// RFC 7644 §3.5.2.3: "If the target location is a multi-valued
		// attribute for which a value selection filter ("valuePath") has
		// been supplied and no record match was made, the service provider
		// SHALL indicate failure by returning HTTP status code 400 and a
		// "scimType" error code of "noTarget"." A remove that selects
		// nothing fails alike: the client named something that is not
		// there.
		return noMatch(t)
	case len(matched) == 0:
		// Nothing to add to: create the element the filter describes.
		// IdP dialect: Microsoft Entra ID sends
		// {"op":"Add","path":"emails[type eq \"work\"].value",...} for a user
		// without a work email (testdata/entra/users-add-work-email-none-yet).
		elem, ok := elementFrom(t.filter, t.def)
		if !ok {
			return scim.BadRequest(scim.NoTarget, "no element of %s matches the value filter, and an add can create one only from eq comparisons joined by and", t.name)
		}
		if t.sub != nil {
			v, err := checkAttr(t.sub, value, t.name)
			if err != nil || v == nil {
				return err // adding nothing changes nothing
			}
			elem[t.sub.Name] = v
		} else {
			v, err := checkElement(t, value)
			if err != nil || v == nil {
				return err
			}
			for k, sv := range v {
				elem[k] = sv
			}
		}
		list = append(list, elem)
		if isPrimary(elem) {
			clearPrimary(list, len(list)-1)
		}
	case kind == opRemove && t.sub == nil:
		// RFC 7644 §3.5.2.2: "the matching records are removed".
		drop := make(map[int]bool, len(matched))
		for _, i := range matched {
			drop[i] = true
		}
		kept := list[:0]
		for i, e := range list {
			if !drop[i] {
				kept = append(kept, e)
			}
		}
		list = kept
	case t.sub != nil:
		// RFC 7644 §3.5.2.3: "the matching sub-attribute of all matching
		// records is replaced"; add sets it the same way, and remove
		// unassigns it.
		if kind != opRemove && strings.EqualFold(t.sub.Name, "primary") && len(matched) > 1 {
			if v, _ := checkAttr(t.sub, value, t.name); v == true {
				return scim.BadRequest(scim.InvalidValue, "the value filter of %s selects %d elements, and only one can be primary", t.name, len(matched))
			}
		}
		for _, i := range matched {
			m := list[i].(map[string]any)
			if err := a.setSub(t, m, kind, value, false); err != nil {
				return err
			}
			if isPrimary(m) && kind != opRemove && strings.EqualFold(t.sub.Name, "primary") {
				clearPrimary(list, i)
			}
		}
		if kind == opRemove {
			list = dropEmpty(list)
		}
	default:
		v, err := checkElement(t, value)
		if err != nil {
			return err
		}
		if isPrimary(v) && len(matched) > 1 {
			return scim.BadRequest(scim.InvalidValue, "the value filter of %s selects %d elements, and only one can be primary", t.name, len(matched))
		}
		for _, i := range matched {
			m := list[i].(map[string]any)
			if kind == opAdd {
				// Add to a complex target sets the sub-attributes given
				// (RFC 7644 §3.5.2.1).
				_, err = a.merge(t, kind, m, v)
			} else {
				// RFC 7644 §3.5.2.3: "all matching record values SHALL be
				// replaced".
				err = a.replaceRecord(t, m, v)
			}
			if err != nil {
				return err
			}
			if isPrimary(m) {
				clearPrimary(list, i)
			}
		}
		if kind == opReplace {
			list = dropEmpty(list)
		}
	}
	next := listValue(list)
	if err := guard(t.def, t.name, old, next); err != nil {
		return err
	}
	store(scope, key, t.def.Name, next)
	return nil
}

// checkElement checks value as one element of t.def, given through a value
// filter: an object of sub-attributes (or a simple value for the "value"
// sub-attribute), not an array.
func checkElement(t target, value any) (map[string]any, error) {
	if _, isList := value.([]any); isList {
		return nil, scim.BadRequest(scim.InvalidValue, "the value filter of %s selects elements; give the sub-attributes of one element as an object, not an array", t.name)
	}
	if value == nil {
		return nil, nil
	}
	v, err := checkSingle(t.def, value, t.name)
	if err != nil || v == nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// setSub applies kind to t.sub inside obj, one object of t.def (the
// attribute's value, or an element of it), with value. fresh says obj is a
// new element, whose sub-attributes nothing guards yet.
func (a *applier) setSub(t target, obj map[string]any, kind string, value any, fresh bool) error {
	key, cur, _ := lookup(obj, t.sub.Name)
	var next any
	if kind != opRemove {
		v, err := checkAttr(t.sub, value, t.name)
		if err != nil {
			return err
		}
		if v == nil && kind == opAdd {
			return nil
		}
		next = v
	}
	if !fresh {
		if err := a.guardSub(t, t.sub, cur, next); err != nil {
			return err
		}
		if keepStored(kind, t.sub, cur, next) {
			return nil
		}
	}
	store(obj, key, t.sub.Name, next)
	return nil
}

// merge sets the sub-attributes in v, a checked value of t.def, on cur, the
// attribute's object or one of its elements (nil creates one), for an
// operation kind, and returns it.
func (a *applier) merge(t target, kind string, cur any, v map[string]any) (map[string]any, error) {
	obj, _ := cur.(map[string]any)
	fresh := obj == nil
	if fresh {
		obj = make(map[string]any, len(v))
	}
	for _, k := range sortedKeys(v) {
		sub := t.def.Sub(k)
		key, old, _ := lookup(obj, sub.Name)
		if !fresh {
			if err := a.guardSub(t, sub, old, v[k]); err != nil {
				return nil, err
			}
			if keepStored(kind, sub, old, v[k]) {
				continue
			}
		}
		store(obj, key, sub.Name, v[k])
	}
	return obj, nil
}

// replaceRecord replaces the content of rec, an element a value filter
// selected, with v. Read-only sub-attributes are the service provider's and
// stay; an immutable one keeps its value when v omits it, and v may not
// change it (RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has
// mutability "readOnly" or "immutable"").
func (a *applier) replaceRecord(t target, rec, v map[string]any) error {
	next := make(map[string]any, len(rec)+len(v))
	for _, sub := range t.def.SubAttributes {
		_, old, _ := lookup(rec, sub.Name)
		nv, given := v[sub.Name]
		keep := !given && !scim.Unassigned(old) && (sub.Mutability == scim.ReadOnly || sub.Mutability == scim.Immutable)
		if keep {
			next[sub.Name] = old
			continue
		}
		if err := a.guardSub(t, sub, old, nv); err != nil {
			return err
		}
		if given && keepStored(opReplace, sub, old, nv) {
			nv = old
		}
		if given {
			next[sub.Name] = nv
		}
	}
	clear(rec)
	for k, sv := range next {
		rec[k] = sv
	}
	return nil
}

// addElements appends the elements of v to cur, the values of the
// multi-valued attribute t.def. An element already present is merged into the
// present one instead of repeated (RFC 7644 §3.5.2.1: "If the target location
// already contains the value specified, no changes SHOULD be made").
func (a *applier) addElements(t target, cur any, v []any) (any, error) {
	list := elements(cur)
	for _, n := range v {
		i := index(t.def, list, n)
		if i < 0 {
			list = append(list, n)
			i = len(list) - 1
		} else if nm, ok := n.(map[string]any); ok {
			if _, err := a.merge(t, opAdd, list[i], nm); err != nil {
				return nil, err
			}
		}
		if isPrimary(n) {
			clearPrimary(list, i)
		}
	}
	return listValue(list), nil
}

// removeElements removes from cur, the values of the multi-valued attribute
// t.def, the elements value lists (matched as addElements matches them).
// Elements listed but not present are no error: the removal is idempotent, so
// that an IdP retrying it succeeds.
func (a *applier) removeElements(t target, cur, value any) (any, error) {
	v, err := checkValue(t.def, value, t.name)
	if err != nil {
		return nil, err
	}
	list := elements(cur)
	gone := scim.AsList(v)
	kept := list[:0]
	for _, e := range list {
		if index(t.def, gone, e) < 0 {
			kept = append(kept, e)
		}
	}
	return listValue(kept), nil
}

// removeExtension removes the object of extension s from the resource.
func (a *applier) removeExtension(s *scim.Schema) error {
	key, v, found := lookup(a.res, s.ID)
	if !found {
		return nil
	}
	if obj, ok := v.(map[string]any); ok {
		for _, k := range sortedKeys(obj) {
			if def := s.Attr(k); def != nil {
				if err := guard(def, s.ID+":"+def.Name, obj[k], nil); err != nil {
					return err
				}
			}
		}
	}
	delete(a.res, key)
	return nil
}

// schema applies kind to a path naming a whole schema by its URN.
func (a *applier) schema(kind string, s *scim.Schema, value any) error {
	if kind == opRemove {
		if s == a.rt.Schema {
			return scim.BadRequest(scim.InvalidPath, "the core schema %s cannot be removed; remove its attributes instead", s.ID)
		}
		if value != nil {
			return scim.BadRequest(scim.InvalidValue, "a remove of the extension %s takes no value", s.ID)
		}
		return a.removeExtension(s)
	}
	if value == nil {
		if kind == opReplace && s != a.rt.Schema {
			return a.removeExtension(s) // replaced by null: unassigned
		}
		return nil
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return scim.BadRequest(scim.InvalidValue, "the value for the schema %s must be an object of its attributes, got %s", s.ID, scim.JSONKind(value))
	}
	// The attributes are added or replaced one by one: attributes of the
	// extension that the value does not name are left as they are, as for
	// a path-less operation on the resource (RFC 7644 §3.5.2.3).
	return a.attributes(kind, s.ID, obj)
}

// snapshot returns what guard compares the attribute's new value with: cur
// itself, or a deep copy when def's mutability makes every change matter and
// the operation may change cur's elements in place.
func (a *applier) snapshot(def *scim.Attribute, cur any) any {
	if def.Mutability == scim.ReadOnly || def.Mutability == scim.Immutable {
		return scim.CloneValue(cur)
	}
	return cur
}

// guard enforces the mutability of attribute def (RFC 7643 §7, RFC 7644
// §3.5.2) on a change from old to next: a readOnly attribute cannot change,
// an immutable one cannot once it has a value, and a required one cannot
// become unassigned. Writing the value an attribute already has is no change
// (RFC 7644 §3.5.2.1); IdP dialect: Okta's group rename repeats the group's
// id in a path-less replace (testdata/okta/groups-rename).
func guard(def *scim.Attribute, name string, old, next any) error {
	switch def.Mutability {
	case scim.ReadOnly:
		if !def.Equal(old, next) {
			return scim.BadRequest(scim.Mutability, "attribute %s is readOnly and cannot be changed", name)
		}
	case scim.Immutable:
		if !scim.Unassigned(old) && !def.Equal(old, next) {
			return scim.BadRequest(scim.Mutability, "attribute %s is immutable and already has a value", name)
		}
	}
	return required(def, name, old, next)
}

// guardSub is guard for a sub-attribute inside an existing object of t.def.
// When t.def itself is readOnly or immutable, guard checks the whole value.
func (a *applier) guardSub(t target, sub *scim.Attribute, old, next any) error {
	if t.def.Mutability == scim.ReadOnly || t.def.Mutability == scim.Immutable {
		return nil
	}
	return guard(sub, t.def.Name+"."+sub.Name, old, next)
}

// required refuses to leave a required attribute that had a value
// unassigned (RFC 7644 §3.5.2.3: "If an attribute is removed or becomes
// unassigned and is defined as a required attribute or a read-only
// attribute, the server SHALL return ... "mutability""), and refuses a blank
// string for it.
func required(def *scim.Attribute, name string, old, next any) error {
	if !def.Required || def.Mutability == scim.ReadOnly {
		return nil
	}
	if scim.Unassigned(next) && !scim.Unassigned(old) {
		return scim.BadRequest(scim.Mutability, "attribute %s is required and cannot be removed", name)
	}
	if s, ok := next.(string); ok && strings.TrimSpace(s) == "" {
		return scim.BadRequest(scim.InvalidValue, "attribute %s is required and cannot be blank", name)
	}
	return nil
}

// index returns the position in list of an element equal to n for the
// purpose of add and value removal, or -1. For an attribute with a "value"
// sub-attribute (RFC 7643 §2.4), elements are the same when their values are
// equal and their types do not differ (a type missing on either side is no
// difference: {"value": "id"} names the member {"value": "id", "type":
// "User"}); for other complex attributes every sub-attribute but the
// read-only ones must be equal; simple values compare as values.
func index(def *scim.Attribute, list []any, n any) int {
	for i, e := range list {
		if sameElement(def, e, n) {
			return i
		}
	}
	return -1
}

func sameElement(def *scim.Attribute, e, n any) bool {
	if def.Type != scim.Complex {
		return def.EqualElement(e, n)
	}
	em, eok := e.(map[string]any)
	nm, nok := n.(map[string]any)
	if !eok || !nok {
		return false
	}
	if vs := def.Sub("value"); vs != nil {
		_, nv, _ := lookup(nm, vs.Name)
		if nv != nil {
			_, ev, _ := lookup(em, vs.Name)
			if !vs.Equal(ev, nv) {
				return false
			}
			if ts := def.Sub("type"); ts != nil {
				_, et, _ := lookup(em, ts.Name)
				_, nt, _ := lookup(nm, ts.Name)
				return scim.Unassigned(et) || scim.Unassigned(nt) || ts.Equal(et, nt)
			}
			return true
		}
	}
	for _, sub := range def.SubAttributes {
		if sub.Mutability == scim.ReadOnly && def.Mutability != scim.ReadOnly {
			continue
		}
		_, ev, _ := lookup(em, sub.Name)
		_, nv, _ := lookup(nm, sub.Name)
		if !sub.Equal(ev, nv) {
			return false
		}
	}
	return true
}

// elementFrom builds the element a value filter describes, when it is eq
// comparisons of sub-attributes joined by and (emails[type eq "work"] gives
// {"type": "work"}); ok is false for anything else.
func elementFrom(e filter.Expr, def *scim.Attribute) (map[string]any, bool) {
	elem := map[string]any{}
	var walk func(e filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch x := e.(type) {
		case *filter.And:
			return walk(x.Left) && walk(x.Right)
		case *filter.Compare:
			sub := def.Sub(x.Path.Attr)
			if x.Op != filter.Eq || x.Value == nil || sub == nil || x.Path.Sub != "" || sub.MultiValued ||
				(sub.Mutability == scim.ReadOnly && def.Mutability != scim.ReadOnly) {
				return false
			}
			if prev, dup := elem[sub.Name]; dup && !sub.EqualElement(prev, x.Value) {
				return false
			}
			elem[sub.Name] = x.Value
			return true
		}
		return false
	}
	if !walk(e) {
		return nil, false
	}
	return elem, true
}

// clearPrimary sets primary to false on every element of list but the one
// at keep (RFC 7644 §3.5.2: setting a value's primary to true "SHALL cause
// the server to automatically set "primary" to "false" for any other
// values").
func clearPrimary(list []any, keep int) {
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && i != keep && isPrimary(m) {
			m["primary"] = false
		}
	}
}

// elements returns a fresh slice of the elements of cur, a multi-valued
// attribute's value as stored (a single value counts as one element).
func elements(cur any) []any {
	l := scim.AsList(cur)
	out := make([]any, 0, len(l)+1)
	return append(out, l...)
}

// dropEmpty removes the elements left without any sub-attribute.
func dropEmpty(list []any) []any {
	kept := list[:0]
	for _, e := range list {
		if !scim.Unassigned(e) {
			kept = append(kept, e)
		}
	}
	return kept
}

// listValue returns list as an attribute value: nil when empty (RFC 7643
// §2.5: an empty array is unassigned).
func listValue(list []any) any {
	if len(list) == 0 {
		return nil
	}
	return list
}

// lookup finds obj's key for name, matching case-insensitively (RFC 7643
// §2.1), preferring the exact spelling.
func lookup(obj map[string]any, name string) (key string, v any, found bool) {
	if v, ok := obj[name]; ok {
		return name, v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", nil, false
}

// store writes v under name, the defined spelling, into obj, where key is
// the spelling found there (or ""); an unassigned v removes the attribute.
func store(obj map[string]any, key, name string, v any) {
	if key != "" && key != name {
		delete(obj, key)
	}
	if scim.Unassigned(v) {
		delete(obj, name)
		return
	}
	obj[name] = v
}

// noMatch is the error for a value filter that selects nothing.
func noMatch(t target) error {
	return scim.BadRequest(scim.NoTarget, "no element of %s matches the value filter", t.name)
}

// extensionsPresent reports which extensions of rt the resource holds.
func (a *applier) extensionsPresent() map[string]bool {
	present := make(map[string]bool, len(a.rt.Extensions))
	for _, ext := range a.rt.Extensions {
		_, v, found := lookup(a.res, ext.ID)
		present[ext.ID] = found && !scim.Unassigned(v)
	}
	return present
}

// settleSchemas removes extension objects left empty and makes schemas list
// the extensions present: added when an operation created one, dropped when
// its last attribute went (RFC 7643 §3: schemas names the schemas "used" by
// the resource). A required extension (RFC 7643 §6) that was present cannot
// go. before is extensionsPresent before the operations.
func (a *applier) settleSchemas(before map[string]bool) error {
	present := make(map[string]bool, len(a.rt.Extensions))
	for _, ext := range a.rt.Extensions {
		key, v, found := lookup(a.res, ext.ID)
		if found && scim.Unassigned(v) {
			delete(a.res, key)
			found = false
		}
		if !found && before[ext.ID] && a.rt.Required[ext.ID] {
			return scim.BadRequest(scim.Mutability, "the extension %s is required for a %s and cannot be removed", ext.ID, a.rt.Name)
		}
		present[ext.ID] = found
	}
	key, cur, hasSchemas := lookup(a.res, "schemas")
	if !hasSchemas {
		some := false
		for _, p := range present {
			some = some || p
		}
		if !some {
			return nil
		}
	}
	var list []any
	switch l := cur.(type) {
	case []any:
		list = l
	case []string:
		for _, s := range l {
			list = append(list, s)
		}
	}
	out := make([]any, 0, len(list)+len(present)+1)
	listed := map[string]bool{}
	hasCore := false
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			continue
		}
		if ext := a.rt.Extension(s); ext != nil {
			if !present[ext.ID] || listed[ext.ID] {
				continue
			}
			listed[ext.ID] = true
			s = ext.ID
		}
		hasCore = hasCore || strings.EqualFold(s, a.rt.Schema.ID)
		out = append(out, s)
	}
	if !hasCore {
		out = append([]any{a.rt.Schema.ID}, out...)
	}
	for _, ext := range a.rt.Extensions {
		if present[ext.ID] && !listed[ext.ID] {
			out = append(out, ext.ID)
		}
	}
	store(a.res, key, "schemas", out)
	return nil
}
