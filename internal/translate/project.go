package translate

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Projection selects the attributes a response carries, from the
// attributes and excludedAttributes of a request (RFC 7644 §3.4.2.5, §3.9)
// and the "returned" characteristic of each definition (RFC 7643 §7). It is
// immutable once built and safe for concurrent use.
//
// The rules, where the RFCs leave a choice:
//   - returned "always" attributes (id) are kept whatever is asked, and
//     "never" attributes (password) are dropped whatever is asked;
//   - schemas is not an attribute of any schema but the resource's own
//     declaration (RFC 7643 §3), so it is always kept; meta is a common
//     attribute returned by default (RFC 7643 §3.1 gives it no "always"),
//     so attributes=userName leaves it out, as RFC 7644 §3.9 does in its
//     example;
//   - attributes names what to return instead of the default set; a
//     sub-attribute ("name.givenName", "emails.value") returns its parent
//     with only that sub-attribute, and a schema URN returns every attribute
//     of that schema. A "request" attribute is returned only when named;
//   - excludedAttributes removes from the default set (or from what
//     attributes selected, when a caller sends both: RFC 7644 does not
//     forbid it, and applying both is the least surprising reading);
//   - a name that resolves to no attribute of the resource type is ignored.
//     RFC 7644 says nothing about it, and ignoring is what IdPs rely on: a
//     client asking every target for an extension attribute must not fail
//     on a target whose schema lacks it. Names match case-insensitively, with
//     or without their schema URN;
//   - a complex value left with no sub-attribute, an element of a
//     multi-valued attribute left empty, and an extension object left
//     empty, are dropped rather than returned as {}.
//
// Keys of a resource that no definition describes are kept when no
// attributes list is given and dropped otherwise.
type Projection struct {
	top       scope
	exts      []extScope
	selective bool // attributes was given
}

type extScope struct {
	urn string
	scope
}

// scope is the plan for the attributes of one schema (with the common
// attributes for the core one).
type scope struct {
	plans  map[string]*attrPlan // by defined name
	any    bool                 // some attribute is kept
	whole  bool                 // every attribute is kept whole: copy as is
	unsure bool                 // keep keys no definition describes
}

// attrPlan says what happens to one attribute.
type attrPlan struct {
	def  *scim.Attribute
	keep bool
	// subs lists the sub-attributes kept by defined name; nil keeps the
	// value whole.
	subs map[string]bool
}

// selection is what a list of names says about one attribute.
type selection struct {
	whole bool
	subs  map[string]bool
}

// NewProjection builds the projection for rt from the attributes and
// excludedAttributes parameters as a caller wrote them: each element may
// itself be a comma-separated list (the query string form), and white space
// around names is ignored.
//
// Projections are cached per resource type and parameters, since clients
// repeat the same few (none at all, or excludedAttributes=members); the
// returned value is shared and must not be modified.
func NewProjection(rt *scim.ResourceType, attributes, excludedAttributes []string) *Projection {
	key := projKey{rt: rt, attrs: strings.Join(attributes, ","), excl: strings.Join(excludedAttributes, ",")}
	if len(key.attrs)+len(key.excl) > maxCachedKey {
		return newProjection(rt, attributes, excludedAttributes)
	}
	if p, ok := projCache.Load(key); ok {
		return p.(*Projection)
	}
	p := newProjection(rt, attributes, excludedAttributes)
	if projCacheLen.Add(1) > maxCached {
		// Full: start over rather than track recency. Parameters that
		// vary without end (a client's random lists) then cost what an
		// uncached build costs, and the common ones return at once.
		projCache.Clear()
		projCacheLen.Store(1)
	}
	projCache.Store(key, p)
	return p
}

// The projection cache: keyed by resource type and the parameters as
// written, bounded in entries and key size.
var (
	projCache    sync.Map // projKey → *Projection
	projCacheLen atomic.Int64
)

const (
	maxCached    = 1024
	maxCachedKey = 512
)

type projKey struct {
	rt          *scim.ResourceType
	attrs, excl string
}

func newProjection(rt *scim.ResourceType, attributes, excludedAttributes []string) *Projection {
	incl := selections(rt, attributes)
	excl := selections(rt, excludedAttributes)
	p := &Projection{selective: incl != nil}
	p.top = p.plan(append(scim.CommonAttributes[:len(scim.CommonAttributes):len(scim.CommonAttributes)], rt.Schema.Attributes...), incl, excl)
	for _, ext := range rt.Extensions {
		p.exts = append(p.exts, extScope{urn: ext.ID, scope: p.plan(ext.Attributes, incl, excl)})
	}
	return p
}

// selections resolves a list of names to the attributes they select, or
// nil when the list names nothing at all (not even an unknown attribute).
func selections(rt *scim.ResourceType, lists []string) map[*scim.Attribute]*selection {
	var out map[*scim.Attribute]*selection
	get := func(a *scim.Attribute) *selection {
		if out[a] == nil {
			out[a] = &selection{}
		}
		return out[a]
	}
	for _, list := range lists {
		for name := range strings.SplitSeq(list, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if out == nil {
				out = map[*scim.Attribute]*selection{}
			}
			if s := rt.SchemaByURN(name); s != nil {
				for _, a := range s.Attributes {
					get(a).whole = true
				}
				continue
			}
			_, attr, sub, ok := rt.Resolve(scim.ParsePath(name))
			if !ok {
				continue // unknown names are ignored; see Projection
			}
			sel := get(attr)
			if sub == nil {
				sel.whole = true
				continue
			}
			if sel.subs == nil {
				sel.subs = map[string]bool{}
			}
			sel.subs[sub.Name] = true
		}
	}
	return out
}

// plan decides, for each attribute of one schema, whether and how it is
// returned.
func (p *Projection) plan(attrs []*scim.Attribute, incl, excl map[*scim.Attribute]*selection) scope {
	sc := scope{plans: make(map[string]*attrPlan, len(attrs)), whole: true, unsure: !p.selective}
	for _, a := range attrs {
		in, ex := incl[a], excl[a]
		ap := &attrPlan{def: a}
		switch a.Returned {
		case scim.Never:
		case scim.Always:
			ap.keep = true
		default:
			if p.selective {
				ap.keep = in != nil && (in.whole || len(in.subs) > 0)
			} else {
				ap.keep = a.Returned != scim.OnRequest
			}
			if ex != nil && ex.whole {
				ap.keep = false
			}
		}
		if ap.keep && a.Type == scim.Complex {
			ap.subs = subPlan(a, in, ex, p.selective)
			if ap.subs != nil && len(ap.subs) == 0 {
				ap.keep = false
			}
		}
		sc.plans[a.Name] = ap
		sc.any = sc.any || ap.keep
		sc.whole = sc.whole && ap.keep && ap.subs == nil
	}
	return sc
}

// subPlan returns the sub-attributes of a kept complex attribute a to
// keep, or nil when all are.
func subPlan(a *scim.Attribute, in, ex *selection, selective bool) map[string]bool {
	kept := make(map[string]bool, len(a.SubAttributes))
	for _, sub := range a.SubAttributes {
		var keep bool
		switch {
		case sub.Returned == scim.Never:
		case sub.Returned == scim.Always:
			keep = true
		case selective && in != nil && !in.whole:
			keep = in.subs[sub.Name]
		case selective && in != nil:
			keep = sub.Returned != scim.OnRequest || in.subs[sub.Name]
		default:
			// Not selective, or an "always" parent that attributes did not
			// name: the default set of sub-attributes.
			keep = sub.Returned != scim.OnRequest
		}
		if keep && ex != nil && ex.subs[sub.Name] && sub.Returned != scim.Always {
			keep = false
		}
		if keep {
			kept[sub.Name] = true
		}
	}
	if len(kept) == len(a.SubAttributes) {
		return nil
	}
	return kept
}

// Apply returns the projection of r, a resource of the type p was built
// for. r is not modified; the result shares with r the values it keeps
// whole, so a caller that owns r owns the result.
func (p *Projection) Apply(r scim.Resource) scim.Resource {
	if r == nil {
		return nil
	}
	out := make(scim.Resource, len(r))
	for k, v := range r {
		if k == "schemas" || strings.EqualFold(k, "schemas") {
			out[k] = v
			continue
		}
		if ext := p.ext(k); ext != nil {
			if !ext.any {
				continue
			}
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if ext.whole {
				out[k] = obj
				continue
			}
			if m := ext.apply(obj); len(m) > 0 {
				out[k] = m
			}
			continue
		}
		p.top.put(out, k, v)
	}
	return out
}

func (p *Projection) ext(k string) *extScope {
	for i := range p.exts {
		if p.exts[i].urn == k {
			return &p.exts[i]
		}
	}
	if !strings.HasPrefix(k, "urn:") && !strings.HasPrefix(k, "URN:") {
		return nil
	}
	for i := range p.exts {
		if strings.EqualFold(p.exts[i].urn, k) {
			return &p.exts[i]
		}
	}
	return nil
}

func (sc *scope) apply(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		sc.put(out, k, v)
	}
	return out
}

// put copies the attribute k of value v into out as the plan says.
func (sc *scope) put(out map[string]any, k string, v any) {
	ap := sc.lookup(k)
	if ap == nil {
		if sc.unsure {
			out[k] = v
		}
		return
	}
	if !ap.keep {
		return
	}
	if ap.subs == nil {
		out[k] = v
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if m := keepSubs(v, ap.subs); len(m) > 0 {
			out[k] = m
		}
	case []any:
		list := make([]any, 0, len(v))
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if m = keepSubs(m, ap.subs); len(m) > 0 {
				list = append(list, m)
			}
		}
		if len(list) > 0 {
			out[k] = list
		}
	}
}

func (sc *scope) lookup(k string) *attrPlan {
	if ap, ok := sc.plans[k]; ok {
		return ap
	}
	for name, ap := range sc.plans {
		if strings.EqualFold(name, k) {
			return ap
		}
	}
	return nil
}

// keepSubs returns the members of obj whose sub-attribute is in subs
// (matched case-insensitively).
func keepSubs(obj map[string]any, subs map[string]bool) map[string]any {
	out := make(map[string]any, len(subs))
	for k, v := range obj {
		if subs[k] {
			out[k] = v
			continue
		}
		for name := range subs {
			if strings.EqualFold(name, k) {
				out[k] = v
				break
			}
		}
	}
	return out
}
