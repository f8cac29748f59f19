package webextest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

// page is the startIndex and count of a list request (VENDORS.md 1.4).
type page struct {
	start, count int
}

// parsePage reads startIndex (1-based, default 1; below 1 reads as 1) and
// count (default def, clamped to [0, limit]) from q.
func parsePage(q url.Values, def, limit int) (page, error) {
	p := page{start: 1, count: min(def, limit)}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return page{}, badRequest(scim.InvalidValue, "startIndex must be an integer.")
		}
		p.start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return page{}, badRequest(scim.InvalidValue, "count must be an integer.")
		}
		p.count = min(max(n, 0), limit)
	}
	return p, nil
}

// slice returns the page's part of n items as [from, to).
func (p page) slice(n int) (from, to int) {
	from = min(p.start-1, n)
	to = min(from+p.count, n)
	return from, to
}

// sortResources orders rs by sortBy/sortOrder, which must name one of
// allowed (VENDORS.md 1.5: userName|id|meta.lastModified for users,
// displayName|id|meta.lastModified for groups). Without sortBy rs keeps its
// order (creation order).
func sortResources(rt *scim.ResourceType, rs []scim.Resource, q url.Values, allowed ...string) error {
	by := strings.TrimSpace(q.Get("sortBy"))
	if by == "" {
		return nil
	}
	if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, by) }) {
		return badRequest(scim.InvalidValue, "sortBy %q is not supported; use one of %s.", by, strings.Join(allowed, ", "))
	}
	s, err := translate.ParseSort(rt, by, q.Get("sortOrder"))
	if err != nil {
		return err
	}
	translate.Sort(rs, s)
	return nil
}

// project applies attributes and excludedAttributes from q; schemas is
// always kept.
func project(rt *scim.ResourceType, r scim.Resource, q url.Values) scim.Resource {
	attrs, excl := q.Get("attributes"), q.Get("excludedAttributes")
	if attrs == "" && excl == "" {
		return r
	}
	var a, e []string
	if attrs != "" {
		a = []string{attrs}
	}
	if excl != "" {
		e = []string{excl}
	}
	out := translate.NewProjection(rt, a, e).Apply(r)
	// The live service returns schemas and firstAdmin whatever attributes
	// asks for (VENDORS.md 1.5, WX-TEST test_search_attrs).
	out["schemas"] = r["schemas"]
	if v, ok := r["firstAdmin"]; ok {
		out["firstAdmin"] = v
	}
	return out
}

// listResponse is a ListResponse body.
func listResponse(total int, p page, resources []any) map[string]any {
	return map[string]any{
		"schemas":      []any{scim.ListResponseSchema},
		"totalResults": total,
		"itemsPerPage": len(resources),
		"startIndex":   p.start,
		"Resources":    resources,
	}
}

// boolParam reads a true/false query parameter (any case); anything else is
// false.
func boolParam(q url.Values, name string) bool {
	return strings.EqualFold(q.Get(name), "true")
}
