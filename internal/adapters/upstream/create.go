package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Create sends POST /Users (RFC 7644 §3.3) and never creates a resource
// twice. When the POST was sent but its answer was lost
// (outbound.ErrOutcomeUnknown: a timeout after sending, a dropped
// connection, a 502 or 504 from a proxy), the upstream may have created the
// resource, so Create looks it up by the attributes that identify it (see
// lookupKeys) and returns it when found. Only when the lookup shows for sure
// that it is absent is the POST sent once more (and resolved the same way).
// When the lookup itself fails, the outcome stays unknown and the 502/504 is
// returned: a caller that retries gets a 409 rather than a duplicate.
func (a *Adapter) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("upstream: create %s: %w", rt.ID, err)
	}
	return adapters.CreateOnce(ctx,
		func(ctx context.Context) (scim.Resource, error) { return a.post(ctx, rt, body) },
		func(ctx context.Context) (scim.Resource, error) { return a.lookup(ctx, rt, r) })
}

func (a *Adapter) post(ctx context.Context, rt *scim.ResourceType, body []byte) (scim.Resource, error) {
	resp, err := a.do(ctx, rt, "Create", http.MethodPost, endpoint(rt), nil, body, "")
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return nil, a.fail(rt, "", "create", resp)
	}
	return decodeResource(rt, "create", resp)
}

// lookupKeys returns the attributes of rt that identify a resource for a
// create whose outcome is unknown, most specific first: the attributes the
// core schema declares unique (User.userName), Group.displayName (not
// unique, RFC 7643 §4.2, but what IdPs match groups by), then externalId,
// the provisioning client's own identifier.
func lookupKeys(rt *scim.ResourceType) []scim.Path {
	var keys []scim.Path
	for _, at := range rt.Schema.Attributes {
		if at.Type == scim.String && !at.MultiValued && at.Mutability != scim.ReadOnly &&
			(at.Uniqueness == scim.UniqueServer || at.Uniqueness == scim.UniqueGlobal ||
				(strings.EqualFold(rt.Schema.ID, scim.GroupSchema) && at.Name == "displayName")) {
			keys = append(keys, scim.Path{URN: rt.Schema.ID, Attr: at.Name})
		}
	}
	return append(keys, scim.Path{Attr: "externalId"})
}

// lookup finds the resource a lost create of r made: it asks for the
// resources whose first identifying attribute (lookupKeys) equals r's, and
// keeps those that also agree with r on every other identifying attribute
// both hold, the newest (meta.created) first.
// Only a Group without externalId whose displayName another group shares is
// ambiguous: the newest of them is taken. It returns nil, nil when the
// resource is certainly absent, and an error when that cannot be told.
func (a *Adapter) lookup(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	var terms []*filter.Compare
	for _, p := range lookupKeys(rt) {
		if v, ok := r.Get(p); ok {
			if s, ok := v.(string); ok && s != "" {
				terms = append(terms, &filter.Compare{Path: p, Op: filter.Eq, Value: s})
			}
		}
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("%s has none of the attributes that identify it (%s)", rt.ID, keyNames(rt))
	}
	candidates, err := a.find(ctx, rt, terms[0])
	if err != nil {
		return nil, err
	}
	var best scim.Resource
	for _, c := range candidates {
		if !agrees(c, terms[1:], rt) {
			continue
		}
		// Ties (timestamps in whole milliseconds or seconds) go to the
		// later one in the upstream's order, by default creation order.
		if best == nil || !created(c).Before(created(best)) {
			best = c
		}
	}
	return best, nil
}

// agrees reports whether c has no value contradicting terms: a term whose
// attribute c lacks (a provider that does not keep externalId) is no
// contradiction.
func agrees(c scim.Resource, terms []*filter.Compare, rt *scim.ResourceType) bool {
	for _, t := range terms {
		if v, ok := c.Get(t.Path); ok && v != nil && !filter.Match(t, c, rt) {
			return false
		}
	}
	return true
}

// created returns meta.created of r; the zero time when it has none.
func created(r scim.Resource) time.Time {
	s, _ := r.Meta()["created"].(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func keyNames(rt *scim.ResourceType) string {
	var names []string
	for _, p := range lookupKeys(rt) {
		names = append(names, p.Attr)
	}
	return strings.Join(names, ", ")
}

// find returns every resource of rt that matches cmp: by an upstream filter
// when the upstream filters, else by reading every page and matching here.
func (a *Adapter) find(ctx context.Context, rt *scim.ResourceType, cmp *filter.Compare) ([]scim.Resource, error) {
	e, err := filter.Check(cmp, rt)
	if err != nil {
		return nil, err
	}
	q := adapters.Query{}
	if fs, ok := a.caps.Filter[rt.ID]; ok && (fs.Any || slices.Contains(fs.Ops[cmp.Path.String()], filter.Eq)) {
		q.Filter = e
	}
	var out []scim.Resource
	page := a.caps.MaxPageSize
	if page == 0 {
		page = 100
	}
	for start := 1; ; {
		q.StartIndex, q.Count = start, page
		p, err := a.List(ctx, rt, q)
		if err != nil {
			return nil, err
		}
		for _, r := range p.Resources {
			if filter.Match(e, r, rt) {
				out = append(out, r)
			}
		}
		start += len(p.Resources)
		if len(p.Resources) == 0 || start > p.TotalResults {
			return out, nil
		}
	}
}
