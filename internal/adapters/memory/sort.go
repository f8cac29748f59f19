package memory

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// sortResources orders res by the attribute at by (RFC 7644 §3.4.2.3): by
// its type, strings case-insensitively unless caseExact, a multi-valued
// attribute by its primary value or else its first. Resources without a
// value come last in either order. The sort is stable.
func sortResources(res []scim.Resource, rt *scim.ResourceType, by scim.Path, desc bool) {
	_, attr, sub, ok := rt.Resolve(by)
	if !ok {
		return
	}
	def := attr
	if sub != nil {
		def = sub
	}
	type item struct {
		r   scim.Resource
		key any
	}
	items := make([]item, len(res))
	for i, r := range res {
		items[i] = item{r, sortKey(r, by, attr)}
	}
	slices.SortStableFunc(items, func(x, y item) int {
		switch {
		case x.key == nil && y.key == nil:
			return 0
		case x.key == nil:
			return 1
		case y.key == nil:
			return -1
		}
		c := compareKeys(x.key, y.key, def)
		if desc {
			c = -c
		}
		return c
	})
	for i, it := range items {
		res[i] = it.r
	}
}

// sortKey returns the value r is sorted by, or nil.
func sortKey(r scim.Resource, by scim.Path, attr *scim.Attribute) any {
	v, ok := r.Get(scim.Path{URN: by.URN, Attr: by.Attr})
	if !ok || v == nil {
		return nil
	}
	if attr.MultiValued {
		list, _ := v.([]any)
		if len(list) == 0 {
			return nil
		}
		v = list[0]
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["primary"] == true {
				v = e
				break
			}
		}
		if by.Sub == "" {
			if m, ok := v.(map[string]any); ok {
				v = m["value"]
			}
		}
	}
	if by.Sub != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v, _ = scim.Field(m, by.Sub)
	}
	return v
}

func compareKeys(x, y any, def *scim.Attribute) int {
	switch xv := x.(type) {
	case string:
		yv, ok := y.(string)
		if !ok {
			return 0
		}
		if def.Type == scim.DateTime {
			xt, errX := time.Parse(time.RFC3339Nano, xv)
			yt, errY := time.Parse(time.RFC3339Nano, yv)
			if errX == nil && errY == nil {
				return xt.Compare(yt)
			}
		}
		if !def.CaseExact {
			return cmp.Compare(strings.ToLower(xv), strings.ToLower(yv))
		}
		return cmp.Compare(xv, yv)
	case float64:
		yv, _ := y.(float64)
		return cmp.Compare(xv, yv)
	case bool:
		yv, _ := y.(bool)
		switch {
		case xv == yv:
			return 0
		case !xv:
			return -1
		}
		return 1
	}
	return 0
}
