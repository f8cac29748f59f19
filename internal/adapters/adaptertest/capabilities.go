package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

var allOps = []filter.Op{filter.Eq, filter.Ne, filter.Co, filter.Sw, filter.Ew, filter.Pr, filter.Gt, filter.Ge, filter.Lt, filter.Le}

// testCapabilities checks that what the adapter declares native works
// natively: it calls the adapter itself, not the engine, with every declared
// filter operator on every declared attribute, the declared combinators,
// sort order, page size, ETag and PATCH, and compares with what the gateway's
// own evaluator says over the same resources.
func testCapabilities(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	caps := a.Capabilities()
	// The engine serves exactly the declared resource types.
	var declared, served []string
	for _, rt := range caps.ResourceTypes {
		declared = append(declared, rt.ID)
	}
	for _, rt := range x.e.ResourceTypes() {
		served = append(served, rt.ID)
	}
	slices.Sort(declared)
	slices.Sort(served)
	if !slices.Equal(declared, served) {
		t.Errorf("engine serves %v, adapter declares %v", served, declared)
	}
	if (x.groups != nil) != slices.Contains(declared, "Group") {
		t.Errorf(`engine.ResourceType("Group") = %v, adapter declares %v`, x.groups, declared)
	}

	seed := seedUsers(x)
	// More users than one native page, so paging shows.
	for i := range caps.MaxPageSize + 2 {
		x.user(fmt.Sprintf("filler%03d", i), "")
	}
	if x.groups != nil {
		x.group("Admins", seed["bjensen"].ID(), seed["jsmith"].ID())
		x.group("Staff", seed["Alice.Wong"].ID())
	}
	for _, rt := range caps.ResourceTypes {
		support, ok := caps.Filter[rt.ID]
		if !ok {
			continue
		}
		t.Run("Filter"+rt.ID, func(t *testing.T) { checkFilterSupport(t, a, rt, support) })
	}
	if caps.Sort {
		t.Run("Sort", func(t *testing.T) { checkSort(t, a, x.users) })
	}
	t.Run("PageSize", func(t *testing.T) { checkPageSize(t, x) })
	if caps.ETag {
		t.Run("ETag", func(t *testing.T) { checkETag(t, a, x.users, seed["zed"].ID(), x.alt("displayName")) })
	}
	if caps.Patch {
		t.Run("Patch", func(t *testing.T) { checkPatch(t, x, seed["zed"].ID(), caps.ETag) })
	}
}

// listAll pages through the adapter's native List.
func listAll(ctx context.Context, a adapters.Adapter, rt *scim.ResourceType, q adapters.Query) (ids []string, total int, err error) {
	page := a.Capabilities().MaxPageSize
	if page == 0 {
		page = 50
	}
	for start := 1; ; start += page {
		q.StartIndex, q.Count = start, page
		p, err := a.List(ctx, rt, q)
		if err != nil {
			return nil, 0, err
		}
		total = p.TotalResults
		for _, r := range p.Resources {
			ids = append(ids, r.ID())
		}
		if len(p.Resources) == 0 || len(ids) >= total {
			return ids, total, nil
		}
		if start > 100000 {
			return nil, 0, errors.New("native List pages never end")
		}
	}
}

// leafPaths returns every filterable attribute path of rt: simple
// attributes and the sub-attributes of complex ones, URN-qualified.
func leafPaths(rt *scim.ResourceType) []scim.Path {
	var out []scim.Path
	add := func(urn string, attrs []*scim.Attribute) {
		for _, at := range attrs {
			if at.Type != scim.Complex {
				out = append(out, scim.Path{URN: urn, Attr: at.Name})
				continue
			}
			for _, sub := range at.SubAttributes {
				out = append(out, scim.Path{URN: urn, Attr: at.Name, Sub: sub.Name})
			}
		}
	}
	add("", scim.CommonAttributes)
	for _, s := range rt.Schemas() {
		add(s.ID, s.Attributes)
	}
	return out
}

// sampleValue returns a value found at p in one of rs, shaped for op: a
// substring for co, sw and ew. It falls back to a constant of the type.
func sampleValue(rs []scim.Resource, p scim.Path, def *scim.Attribute, op filter.Op) any {
	for _, r := range rs {
		v, ok := r.Get(scim.Path{URN: p.URN, Attr: p.Attr})
		if !ok || v == nil {
			continue
		}
		if list, isList := v.([]any); isList {
			if len(list) == 0 {
				continue
			}
			v = list[0]
		}
		if p.Sub != "" {
			m, isMap := v.(map[string]any)
			if !isMap {
				continue
			}
			if v, ok = scim.Field(m, p.Sub); !ok || v == nil {
				continue
			}
		}
		if s, isStr := v.(string); isStr && len(s) >= 3 {
			switch op {
			case filter.Co:
				return s[1 : len(s)-1]
			case filter.Sw:
				return s[:len(s)-1]
			case filter.Ew:
				return s[1:]
			}
		}
		return v
	}
	switch def.Type {
	case scim.Boolean:
		return true
	case scim.Integer, scim.Decimal:
		return float64(1)
	case scim.DateTime:
		return "2000-01-01T00:00:00Z"
	}
	return "x"
}

func checkFilterSupport(t *testing.T, a adapters.Adapter, rt *scim.ResourceType, support adapters.FilterSupport) {
	ctx := t.Context()
	// The truth: every resource in full, from the adapter.
	ids, _, err := listAll(ctx, a, rt, adapters.Query{})
	if err != nil {
		t.Fatalf("List %s: %v", rt.ID, err)
	}
	var full []scim.Resource
	for _, id := range ids {
		r, err := a.Get(ctx, rt, id)
		if err != nil {
			t.Fatalf("Get %s %s: %v", rt.ID, id, err)
		}
		full = append(full, r)
	}
	check := func(e filter.Expr) {
		t.Helper()
		var want []string
		for _, r := range full {
			if filter.Match(e, r, rt) {
				want = append(want, r.ID())
			}
		}
		got, total, err := listAll(ctx, a, rt, adapters.Query{Filter: e})
		if err != nil {
			t.Errorf("native List(%s): %v", e, err)
			return
		}
		if slices.Sort(got); !equal(got, sorted(want...)) || total != len(want) {
			t.Errorf("native List(%s) = %d of %d, want %d", e, len(got), total, len(want))
		}
	}
	var terms []filter.Expr
	tried := 0
	for _, p := range leafPaths(rt) {
		canon, at, sub, ok := rt.Resolve(p)
		if !ok {
			t.Fatalf("leaf path %s does not resolve", p)
		}
		def := at
		if sub != nil {
			def = sub
		}
		opList := support.Ops[canon.String()]
		if support.Any {
			opList = allOps
		}
		for _, op := range opList {
			cmp := &filter.Compare{Path: canon, Op: op}
			if op != filter.Pr {
				cmp.Value = sampleValue(full, canon, def, op)
			}
			e, err := filter.Check(cmp, rt)
			if err != nil {
				if !support.Any {
					t.Errorf("declared %s %s, but the filter %s does not check: %v", canon, op, cmp, err)
				}
				continue // an operator the attribute's type does not allow
			}
			tried++
			check(e)
			if len(terms) < 2 && op == filter.Eq && at.Type == scim.String && !at.MultiValued {
				terms = append(terms, e)
			}
		}
	}
	t.Logf("%s: %d native filters checked against the gateway's evaluator", rt.ID, tried)
	if tried == 0 && (support.Any || len(support.Ops) > 0) {
		t.Errorf("filter support declared for %s, but no filter was tried", rt.ID)
	}
	if len(terms) == 2 {
		if support.And {
			check(&filter.And{Left: terms[0], Right: terms[1]})
		}
		if support.Or {
			check(&filter.Or{Left: terms[0], Right: terms[1]})
		}
		if support.Not {
			check(&filter.Not{X: terms[0]})
		}
	}
}

// checkSort checks native sort orders by the attribute's rules: strings
// case-insensitively, every resource once.
func checkSort(t *testing.T, a adapters.Adapter, users *scim.ResourceType) {
	ctx := t.Context()
	all, _, err := listAll(ctx, a, users, adapters.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		desc bool
	}{{"userName", false}, {"userName", true}, {"name.familyName", false}, {"meta.created", true}} {
		canon, _, _, ok := users.Resolve(scim.ParsePath(tt.path))
		if !ok {
			t.Fatalf("%s does not resolve", tt.path)
		}
		var got []scim.Resource
		for start := 1; ; {
			p, err := a.List(ctx, users, adapters.Query{SortBy: canon, Descending: tt.desc, StartIndex: start, Count: 2})
			if err != nil {
				t.Fatalf("native List sortBy %s: %v", tt.path, err)
			}
			got = append(got, p.Resources...)
			start += len(p.Resources)
			if len(p.Resources) == 0 || len(got) >= p.TotalResults {
				break
			}
		}
		if len(got) != len(all) {
			t.Errorf("native List sortBy %s: %d resources, want %d", tt.path, len(got), len(all))
		}
		// Resources without a value may go anywhere; the others must be in
		// order: dateTimes by time, strings case-insensitively.
		var keys []string
		for _, r := range got {
			s := str(r, tt.path)
			if s == "" {
				continue
			}
			if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && strings.HasPrefix(tt.path, "meta.") {
				s = ts.UTC().Format("2006-01-02T15:04:05.000000000")
			}
			keys = append(keys, strings.ToLower(s))
		}
		if tt.desc {
			slices.Reverse(keys)
		}
		if !slices.IsSorted(keys) {
			t.Errorf("native List sortBy %s descending=%v: order %v", tt.path, tt.desc, keys)
		}
	}
}

// checkPageSize checks List honours Count and the declared MaxPageSize, and
// that pages cover every resource once.
func checkPageSize(t *testing.T, x *target) {
	a, ctx := x.a, t.Context()
	limit := a.Capabilities().MaxPageSize
	_, total, err := listAll(ctx, a, x.users, adapters.Query{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.List(ctx, x.users, adapters.Query{StartIndex: 1, Count: 2})
	if err != nil || len(p.Resources) != 2 || p.TotalResults != total {
		t.Errorf("native List count 2: %d resources, totalResults %d, %v; want 2, %d", len(p.Resources), p.TotalResults, err, total)
	}
	if limit > 0 {
		p, err := a.List(ctx, x.users, adapters.Query{StartIndex: 1, Count: limit * 3})
		if err != nil || len(p.Resources) > limit || p.TotalResults != total {
			t.Errorf("native List count %d: %d resources, totalResults %d, %v; want at most MaxPageSize %d",
				limit*3, len(p.Resources), p.TotalResults, err, limit)
		}
	}
	ids, n, err := listAll(ctx, a, x.users, adapters.Query{})
	if err != nil || n != total || len(ids) != total {
		t.Errorf("native pages: %d ids, totalResults %d, %v; want %d", len(ids), n, err, total)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(ids) {
		t.Errorf("native pages repeat resources")
	}
}

// checkETag writes text to the attribute text of user id.
func checkETag(t *testing.T, a adapters.Adapter, users *scim.ResourceType, id, text string) {
	ctx := t.Context()
	r, err := a.Get(ctx, users, id)
	if err != nil {
		t.Fatal(err)
	}
	stale := `W/"stale-version"`
	_, err = a.Replace(ctx, users, id, r, stale)
	wantError(t, "native Replace with a stale version", err, http.StatusPreconditionFailed, "")
	wantError(t, "native Delete with a stale version", a.Delete(ctx, users, id, stale), http.StatusPreconditionFailed, "")
	put(r, text, "etag checked")
	got, err := a.Replace(ctx, users, id, r, r.Version())
	if err != nil {
		t.Fatalf("native Replace with the current version: %v", err)
	}
	if got.Version() == r.Version() {
		t.Errorf("native Replace kept version %s", got.Version())
	}
}

// checkPatch adds a simple value and an element of a multi-valued attribute
// to user id: an email, or, where a user has only its work email, a phone
// number.
func checkPatch(t *testing.T, x *target, id string, etag bool) {
	a, users := x.a, x.users
	p, ok := a.(adapters.Patcher)
	if !ok {
		t.Fatalf("Capabilities.Patch is set, but %T does not implement adapters.Patcher", a)
	}
	ctx := t.Context()
	text := x.alt("nickName")
	multi, value := "emails", "native@example.com"
	elem := `{"value": "native@example.com", "type": "work"}`
	if x.oneEmail {
		multi, value = "phoneNumbers", "+15550177"
		_, typ, ok := x.phoneTypes()
		if !ok {
			multi = ""
			t.Log("native Patch of a multi-valued attribute: left out, the target's users have one email and no phoneNumbers of two types")
		}
		elem = fmt.Sprintf(`{"value": %q, "type": %q}`, value, typ)
	}
	body := fmt.Sprintf(`[{"op": "add", "path": %q, "value": "native"}`, text)
	if multi != "" {
		body += fmt.Sprintf(`, {"op": "add", "path": %q, "value": [%s]}`, multi, elem)
	}
	o := ops(t, body+"]")
	if etag {
		_, err := p.Patch(ctx, users, id, o, `W/"stale-version"`)
		wantError(t, "native Patch with a stale version", err, http.StatusPreconditionFailed, "")
	}
	r, err := p.Patch(ctx, users, id, o, "")
	if errors.Is(err, adapters.ErrPatchNotNative) && multi != "" {
		// A vendor may take only some forms (adapters.Patcher): the
		// engine emulates the rest. The simple one must be native.
		t.Logf("native Patch declined the multi-valued add (%v); the engine emulates it", err)
		multi = ""
		o = ops(t, fmt.Sprintf(`[{"op": "add", "path": %q, "value": "native"}]`, text))
		r, err = p.Patch(ctx, users, id, o, "")
	}
	if err != nil {
		t.Fatalf("native Patch: %v", err)
	}
	got, err := a.Get(ctx, users, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []scim.Resource{r, got} {
		if str(r, text) != "native" || (multi != "" && element(r, multi, value) == nil) {
			t.Errorf("after native Patch: %v", r)
		}
	}
	_, err = p.Patch(ctx, users, "does-not-exist", o, "")
	wantError(t, "native Patch of a missing resource", err, http.StatusNotFound, "")
}
