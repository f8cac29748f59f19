package scim

import (
	"maps"
	"strings"
)

// Resource is one SCIM resource as decoded JSON: keys are attribute names
// (extension attributes live under their schema URN), values are string,
// float64, bool, nil, map[string]any or []any. The engine canonicalizes
// attribute names to their defined case before adapters see a resource.
type Resource map[string]any

// ID returns the resource's "id", or "".
func (r Resource) ID() string {
	s, _ := r["id"].(string)
	return s
}

// Meta returns the resource's "meta" object, or nil.
func (r Resource) Meta() map[string]any {
	m, _ := r["meta"].(map[string]any)
	return m
}

// Version returns meta.version (a weak ETag such as W/"3"), or "".
func (r Resource) Version() string {
	s, _ := r.Meta()["version"].(string)
	return s
}

// Get returns the value at p (core attribute, or extension attribute under its
// URN), following the sub-attribute of a single-valued complex attribute.
// Names match case-insensitively.
func (r Resource) Get(p Path) (any, bool) {
	var obj map[string]any = r
	if p.URN != "" {
		// An extension attribute lives under its URN; a core attribute
		// written with the core URN lives at the top level.
		if ext, ok := Field(r, p.URN); ok {
			if m, isMap := ext.(map[string]any); isMap {
				obj = m
			}
		}
	}
	v, ok := Field(obj, p.Attr)
	if !ok || p.Sub == "" {
		return v, ok
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, false
	}
	return Field(m, p.Sub)
}

// Field returns obj[name] matching the name case-insensitively (RFC 7643 §2.1).
func Field(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// Clone returns a deep copy of r: maps and slices are copied, so changing the
// copy never changes r.
func (r Resource) Clone() Resource {
	if r == nil {
		return nil
	}
	return Resource(cloneMap(r))
}

func cloneMap(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = CloneValue(v)
	}
	return out
}

// CloneValue deep-copies a decoded JSON value.
func CloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = CloneValue(e)
		}
		return out
	default:
		return v
	}
}
