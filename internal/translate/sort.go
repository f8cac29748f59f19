package translate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// SortBy is a resolved sortBy and sortOrder (RFC 7644 §3.4.2.3). The zero
// value means "unsorted".
type SortBy struct {
	Path       scim.Path // canonical, as scim.ResourceType.Resolve returns it
	Descending bool

	attr *scim.Attribute // the attribute Path names
	def  *scim.Attribute // the definition whose values are compared
	ext  string          // the extension URN holding attr, or ""
}

// IsZero reports whether s sorts nothing.
func (s SortBy) IsZero() bool { return s.attr == nil }

// ParseSort resolves sortBy and sortOrder for rt. An empty sortBy yields the
// zero SortBy, whatever sortOrder says (RFC 7644 §3.4.2.3 defines sortOrder
// only as the order of sortBy).
//
// sortBy is an attribute in standard attribute notation (RFC 7644 §3.10),
// names matched case-insensitively, with or without the schema URN. A
// single-valued complex attribute must name a sub-attribute ("name" is
// rejected, "name.givenName" is not); a multi-valued complex attribute may
// be named alone and sorts by its "value" sub-attribute. sortOrder is
// "ascending" (the default) or "descending", in any case.
//
// Failures are a 400 invalidValue: RFC 7644 names no scimType for a bad
// sortBy, and invalidValue ("the value specified was not compatible with the
// operation or attribute type") fits a query parameter better than
// invalidPath, which §3.12 defines for PATCH paths. Sorting by a "never"
// returned attribute (password) is refused the same way, since the order
// would disclose what the attribute holds.
func ParseSort(rt *scim.ResourceType, sortBy, sortOrder string) (SortBy, error) {
	sortBy = strings.TrimSpace(sortBy)
	if sortBy == "" {
		return SortBy{}, nil
	}
	var s SortBy
	switch order := strings.TrimSpace(sortOrder); {
	case order == "" || strings.EqualFold(order, "ascending"):
	case strings.EqualFold(order, "descending"):
		s.Descending = true
	default:
		return SortBy{}, scim.BadRequest(scim.InvalidValue, `sortOrder must be "ascending" or "descending", got %q`, sortOrder)
	}
	canon, attr, sub, ok := rt.Resolve(scim.ParsePath(sortBy))
	if !ok {
		return SortBy{}, scim.BadRequest(scim.InvalidValue, "sortBy %q is not an attribute of %s", sortBy, rt.ID)
	}
	s.Path, s.attr, s.def = canon, attr, attr
	if sub != nil {
		s.def = sub
	} else if attr.Type == scim.Complex {
		if !attr.MultiValued {
			return SortBy{}, scim.BadRequest(scim.InvalidValue, "sortBy %q is a complex attribute: name a sub-attribute such as %s.%s", sortBy, attr.Name, attr.SubAttributes[0].Name)
		}
		if s.def = attr.Sub("value"); s.def == nil {
			return SortBy{}, scim.BadRequest(scim.InvalidValue, "sortBy %q has no value to sort by: name a sub-attribute", sortBy)
		}
	}
	if attr.Returned == scim.Never || s.def.Returned == scim.Never {
		return SortBy{}, scim.BadRequest(scim.InvalidValue, "sortBy %q names an attribute that is never returned", sortBy)
	}
	if rt.Extension(canon.URN) != nil {
		s.ext = rt.Extension(canon.URN).ID
	}
	return s, nil
}

// keyKind orders the kinds of sort keys. Values of one attribute share a
// kind; the order between kinds only makes a mix (a malformed value next to
// well-formed ones) sort deterministically.
type keyKind uint8

const (
	keyBool keyKind = iota + 1
	keyNumber
	keyTime
	keyString
	keyMissing
)

// Key is the value a resource sorts by, ready to compare. The zero Key is a
// resource without a value.
type Key struct {
	kind keyKind
	s    string
	f    float64
	t    time.Time
}

// Key returns the key of r. Following RFC 7644 §3.4.2.3, a multi-valued
// attribute sorts by its primary value, or else its first.
func (s SortBy) Key(r scim.Resource) Key {
	if s.attr == nil {
		return Key{}
	}
	obj := map[string]any(r)
	if s.ext != "" {
		m, ok := r[s.ext].(map[string]any)
		if !ok {
			m, _ = fieldMap(r, s.ext)
		}
		obj = m
	}
	v := field(obj, s.attr.Name)
	if s.attr.MultiValued {
		list := scim.AsList(v)
		if len(list) == 0 {
			return Key{}
		}
		v = list[0]
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["primary"] == true {
				v = e
				break
			}
		}
		if s.attr.Type == scim.Complex {
			m, _ := v.(map[string]any)
			v = field(m, s.def.Name)
		}
	} else if s.def != s.attr {
		m, _ := v.(map[string]any)
		v = field(m, s.def.Name)
	}
	return keyOf(s.def, v)
}

// field is scim.Field without the second result, trying the exact name first.
func field(obj map[string]any, name string) any {
	if v, ok := obj[name]; ok {
		return v
	}
	v, _ := scim.Field(obj, name)
	return v
}

func keyOf(def *scim.Attribute, v any) Key {
	switch x := v.(type) {
	case nil:
		return Key{}
	case bool:
		k := Key{kind: keyBool}
		if x {
			k.f = 1
		}
		return k
	case string:
		if def.Type == scim.DateTime {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return Key{kind: keyTime, t: t}
			}
		}
		// RFC 7644 §3.4.2.3: case-insensitive Unicode order unless the
		// attribute is caseExact.
		if !def.CaseExact {
			x = strings.ToLower(x)
		}
		return Key{kind: keyString, s: x}
	}
	if f, ok := scim.Number(v); ok {
		return Key{kind: keyNumber, f: f}
	}
	return Key{} // a complex value where a simple one belongs: no value
}

// Compare orders k and o ascending, a resource without a value last.
func (k Key) Compare(o Key) int {
	kk, ok := k.kind, o.kind
	if kk == 0 {
		kk = keyMissing
	}
	if ok == 0 {
		ok = keyMissing
	}
	if c := cmp.Compare(kk, ok); c != 0 {
		return c
	}
	switch kk {
	case keyBool, keyNumber:
		return cmp.Compare(k.f, o.f)
	case keyTime:
		return k.t.Compare(o.t)
	case keyString:
		return strings.Compare(k.s, o.s)
	}
	return 0
}

// Compare orders two keys in s's order. RFC 7644 §3.4.2.3: resources without
// a value "are ordered last if ascending and first if descending", so
// descending is the exact reverse of ascending.
func (s SortBy) Compare(a, b Key) int {
	if s.Descending {
		return b.Compare(a)
	}
	return a.Compare(b)
}

// Sort orders rs in place by s, stably: resources with equal keys keep
// their order.
func Sort(rs []scim.Resource, s SortBy) {
	if s.IsZero() || len(rs) < 2 {
		return
	}
	type item struct {
		r scim.Resource
		k Key
	}
	items := make([]item, len(rs))
	for i, r := range rs {
		items[i] = item{r, s.Key(r)}
	}
	slices.SortStableFunc(items, func(x, y item) int { return s.Compare(x.k, y.k) })
	for i, it := range items {
		rs[i] = it.r
	}
}
