package router

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// location is the canonical URL of resource id of type rt.
func (t *target) location(rt *scim.ResourceType, id string) string {
	ep := rt.Endpoint
	if !strings.HasPrefix(ep, "/") {
		ep = "/" + ep // RFC 7643 §6 endpoints are relative ("/Users"); tolerate "Users"
	}
	return t.base + ep + "/" + url.PathEscape(id)
}

// present returns res as a response shows it: meta.location set to the
// canonical URL (when the projection p returns it), references' $ref
// rewritten to the gateway's URLs, and what withVersion added to p removed.
// rt is nil for a query across resource types; meta.resourceType then says
// each resource's type. res is not modified: the top level, meta and the
// rewritten attributes are copied.
func (t *target) present(res scim.Resource, rt *scim.ResourceType, p engine.Projection) scim.Resource {
	if res == nil {
		return nil
	}
	out := maps.Clone(res)
	if rt == nil {
		typ, _ := res.Meta()["resourceType"].(string)
		rt = t.resourceTypeByID(typ)
	}
	if meta := res.Meta(); meta != nil {
		switch {
		case !returns(p, "meta", ""):
			delete(out, "meta")
		default:
			meta = maps.Clone(meta)
			if !returns(p, "meta", "version") {
				delete(meta, "version")
			}
			if rt != nil && res.ID() != "" && returns(p, "meta", "location") {
				meta["location"] = t.location(rt, res.ID())
			}
			if len(meta) == 0 {
				delete(out, "meta")
			} else {
				out["meta"] = meta
			}
		}
	}
	if rt != nil {
		t.rewriteRefs(out, rt)
	}
	return out
}

// withVersion returns p extended so that the engine returns meta.version
// even when the caller's projection leaves it out: the router needs it for
// the ETag header and If-(None-)Match. present removes it again.
func withVersion(p engine.Projection) engine.Projection {
	if returns(p, "meta", "version") {
		return p
	}
	var q engine.Projection
	for _, e := range p.ExcludedAttributes {
		if n := attrName(e); !strings.EqualFold(n, "meta") && !strings.EqualFold(n, "meta.version") {
			q.ExcludedAttributes = append(q.ExcludedAttributes, e)
		}
	}
	if len(p.Attributes) > 0 {
		q.Attributes = append(append(q.Attributes, p.Attributes...), "meta.version")
	}
	return q
}

// returns reports whether projection p (RFC 7644 §3.9) returns the common
// attribute attr, or its sub-attribute sub when sub is set. Common
// attributes are returned by default, so this follows the names alone.
func returns(p engine.Projection, attr, sub string) bool {
	for _, e := range p.ExcludedAttributes {
		if n := attrName(e); strings.EqualFold(n, attr) || isSubPath(n, attr, sub) {
			return false
		}
	}
	if len(p.Attributes) == 0 {
		return true
	}
	for _, a := range p.Attributes {
		n := attrName(a)
		if strings.EqualFold(n, attr) || isSubPath(n, attr, sub) {
			return true
		}
		// "meta.created" asks for meta, though not for meta.version.
		if sub == "" && len(n) > len(attr) && n[len(attr)] == '.' && strings.EqualFold(n[:len(attr)], attr) {
			return true
		}
	}
	return false
}

// isSubPath reports whether name is "attr.sub", case-insensitively; never
// when sub is empty.
func isSubPath(name, attr, sub string) bool {
	return sub != "" && len(name) == len(attr)+1+len(sub) && name[len(attr)] == '.' &&
		strings.EqualFold(name[:len(attr)], attr) && strings.EqualFold(name[len(attr)+1:], sub)
}

// attrName drops the schema URN of a URN-qualified attribute name; common
// attributes have none, but a client may qualify them with the core URN.
func attrName(s string) string {
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			return s[i+1:]
		}
	}
	return s
}

// rewriteRefs rewrites, in place in out (a copy present made), the $ref of
// every reference to a resource (Group.members, User.groups, the Enterprise
// manager, and any such attribute of a vendor extension) to the gateway's
// canonical URL. The referenced type comes from the schema, not a list of
// attribute names: every complex attribute with a "$ref" sub-attribute is
// looked at. A $ref whose target the gateway cannot name is dropped rather
// than left pointing at a vendor (DESIGN.md: responses speak the gateway's
// URLs); $ref is optional (RFC 7643 §2.4).
func (t *target) rewriteRefs(out scim.Resource, rt *scim.ResourceType) {
	for i, s := range rt.Schemas() {
		container := map[string]any(out)
		if i > 0 {
			ext, ok := out[s.ID].(map[string]any)
			if !ok {
				continue
			}
			ext = maps.Clone(ext)
			out[s.ID] = ext
			container = ext
		}
		for _, a := range s.Attributes {
			ref := a.Sub("$ref")
			if a.Type != scim.Complex || ref == nil {
				continue
			}
			switch v := container[a.Name].(type) {
			case map[string]any:
				if _, has := v["$ref"]; has {
					v = maps.Clone(v)
					t.rewriteRef(v, ref)
					container[a.Name] = v
				}
			case []any:
				var copied []any
				for j, e := range v {
					m, ok := e.(map[string]any)
					if !ok {
						continue
					}
					if _, has := m["$ref"]; !has {
						continue
					}
					if copied == nil {
						copied = slices.Clone(v)
						container[a.Name] = copied
					}
					m = maps.Clone(m)
					t.rewriteRef(m, ref)
					copied[j] = m
				}
			}
		}
	}
}

// rewriteRef rewrites the $ref of one reference value m. The referenced
// resource type is, in order: the one its "type" names (Group.members), the
// only resource type among the $ref's referenceTypes that the target serves
// (manager → User), or the one whose endpoint the current $ref names
// (".../Groups/{id}", for User.groups, whose referenceTypes are User and
// Group).
func (t *target) rewriteRef(m map[string]any, def *scim.Attribute) {
	id, _ := m["value"].(string)
	var rt *scim.ResourceType
	if typ, ok := m["type"].(string); ok {
		rt = t.resourceTypeByID(typ)
	}
	if rt == nil {
		var served []*scim.ResourceType
		for _, name := range def.ReferenceTypes {
			if c := t.resourceTypeByID(name); c != nil {
				served = append(served, c)
			}
		}
		if len(served) == 1 {
			rt = served[0]
		}
	}
	if rt == nil {
		if old, ok := m["$ref"].(string); ok {
			rt = t.endpointOf(old)
		}
	}
	if rt == nil || id == "" {
		delete(m, "$ref")
		return
	}
	m["$ref"] = t.location(rt, id)
}

// endpointOf returns the resource type whose endpoint is the next-to-last
// path segment of the URL ref (".../Groups/{id}"), or nil.
func (t *target) endpointOf(ref string) *scim.ResourceType {
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) < 2 {
		return nil
	}
	return t.resourceType(segs[len(segs)-2])
}
