package cache

import (
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// patchEffects is what a PATCH's operations alone say about the entries it
// affects beyond its own resource.
type patchEffects struct {
	// complete is true when the operations say it all: for a user, none
	// touches a name other resources show; for a group, none renames it
	// and every member added or removed is named.
	complete bool
	members  []string // group: the members added or removed
}

// analyzePatch reads ops (normalized: op in lower case) against rt. What
// it cannot read leaves complete false, and the caller falls back to the
// resource as it was, or to a new generation.
func analyzePatch(rt *scim.ResourceType, ops []scim.PatchOp) patchEffects {
	p := patchEffects{complete: true}
	for _, op := range ops {
		if !p.op(rt, op) {
			return patchEffects{}
		}
	}
	return p
}

// names are the attributes other resources show of a user or group.
func isName(attr string) bool {
	return strings.EqualFold(attr, "displayName") || strings.EqualFold(attr, "userName")
}

func (p *patchEffects) op(rt *scim.ResourceType, op scim.PatchOp) bool {
	group := rt.ID == scim.GroupType.ID
	if op.Path == "" {
		// The value is an object of attributes to add or replace.
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range obj {
			attr := k
			if i := strings.LastIndexByte(k, ':'); i >= 0 {
				attr = k[i+1:] // a URN-qualified core attribute
			}
			switch {
			case isName(attr):
				return false
			case group && strings.EqualFold(attr, "members"):
				if op.Op != "add" || !p.values(v) {
					return false // a replace removes members unnamed
				}
			case strings.HasPrefix(k, "urn:"):
				if m, ok := v.(map[string]any); ok {
					for sub := range m {
						if isName(sub) {
							return false
						}
					}
				}
			}
		}
		return true
	}
	pp, err := filter.ParsePatchPath(op.Path)
	if err != nil || pp.Path.Attr == "" {
		return false // the wrapped adapter will refuse it, or a whole schema
	}
	if isName(pp.Path.Attr) {
		return false
	}
	if !group || !strings.EqualFold(pp.Path.Attr, "members") {
		return true
	}
	if pp.Filter != nil {
		cmp, ok := pp.Filter.(*filter.Compare)
		if !ok || cmp.Op != filter.Eq || !strings.EqualFold(cmp.Path.Attr, "value") {
			return false
		}
		id, ok := cmp.Value.(string)
		if !ok {
			return false
		}
		p.members = append(p.members, id)
		return op.Op == "remove" || p.values(op.Value)
	}
	switch op.Op {
	case "add":
		return p.values(op.Value)
	case "remove":
		// Entra ID removes members with a value list; without one, every
		// member goes.
		return op.Value != nil && p.values(op.Value)
	}
	return false
}

// values records the member ids of v, a member or a list of them; false
// when one has no value.
func (p *patchEffects) values(v any) bool {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		id, ok := m["value"].(string)
		if !ok || id == "" {
			return false
		}
		p.members = append(p.members, id)
	}
	return true
}
