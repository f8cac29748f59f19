package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// search answers a query over rt, or over every resource type when rt is nil
// (POST /.search at the root, RFC 7644 §3.4.3). Search calls it within its
// span (telemetry.go).
//
// The filter is parsed and checked against rt (a 400 invalidFilter when it
// does not parse or names an unknown attribute), then split by
// translate.Plan into what the adapter runs and a residual the engine
// evaluates. Paging follows RFC 7644 §3.4.2.4: startIndex below 1 is 1, a
// count not given is Options.DefaultPageSize, a count above
// Options.MaxPageSize is lowered to it, count 0 returns totalResults only,
// and itemsPerPage is the number of resources returned.
//
// What runs where:
//   - when the adapter runs the whole filter and the sort order (or there is
//     none), startIndex and count go to the adapter too, split into pages of
//     at most Capabilities.MaxPageSize;
//   - otherwise the engine pages through everything the pushed-down part
//     matches, evaluates the residual on each resource, and counts
//     totalResults exactly. Without a sort, or with a sort the adapter runs,
//     it keeps only the requested window; with a sort it must do itself, it
//     keeps at most twice startIndex+count resources at a time, so memory
//     stays bounded by the window asked for, not by the result size.
//
// Over every resource type, the filter and sortBy must make sense for at
// least one of them: a type whose schema lacks an attribute they name
// contributes no matches (filter) or sorts as "no value" (sortBy). Results
// come type after type, in the order of ResourceTypes, unless sorted.
func (e *Engine) search(ctx context.Context, rt *scim.ResourceType, q Query) (*scim.ListResponse, error) {
	start := max(q.StartIndex, 1)
	count := q.Count
	if count < 0 {
		count = e.opts.DefaultPageSize
	}
	count = min(count, e.opts.MaxPageSize)

	var expr filter.Expr
	if q.Filter != "" {
		var err error
		if expr, err = filter.Parse(q.Filter); err != nil {
			return nil, err
		}
	}
	rts := []*scim.ResourceType{rt}
	if rt == nil {
		rts = e.caps.ResourceTypes
	}
	plans := make([]*typePlan, 0, len(rts))
	var filterErr, sortErr error
	sortable := false
	for _, t := range rts {
		tp, fErr, sErr := e.planType(t, expr, q)
		if rt != nil {
			if fErr != nil {
				return nil, fErr
			}
			if sErr != nil {
				return nil, sErr
			}
		}
		// Across types, a type whose schema lacks what the query names
		// cannot match (filter) or has no value to sort by (sortBy); see
		// the doc comment. Failures other than the client's still fail.
		for _, err := range []error{fErr, sErr} {
			if err != nil && !isClientError(err) {
				return nil, err
			}
		}
		filterErr, sortErr = firstOf(filterErr, fErr), firstOf(sortErr, sErr)
		sortable = sortable || (sErr == nil && !tp.sort.IsZero())
		if fErr == nil {
			plans = append(plans, tp)
		}
	}
	switch {
	case len(plans) == 0 && filterErr != nil:
		return nil, filterErr
	case q.SortBy != "" && !sortable && sortErr != nil:
		return nil, sortErr
	}
	e.notePlan(ctx, plans)
	w := window{start: start, count: count}
	var err error
	if q.SortBy != "" && !(len(plans) == 1 && plans[0].native(e.caps)) {
		err = e.searchSorted(ctx, plans, &w)
	} else {
		err = e.searchInOrder(ctx, plans, &w)
	}
	if err != nil {
		return nil, err
	}
	resp := &scim.ListResponse{
		Schemas:      []string{scim.ListResponseSchema},
		TotalResults: w.total,
		StartIndex:   start,
		Resources:    make([]scim.Resource, 0, len(w.items)),
	}
	for _, it := range w.items {
		resp.Resources = append(resp.Resources, it.plan.proj.Apply(it.r))
	}
	resp.ItemsPerPage = len(resp.Resources)
	return resp, nil
}

// typePlan is a query prepared for one resource type.
type typePlan struct {
	rt                 *scim.ResourceType
	pushdown, residual filter.Expr
	sort               translate.SortBy // zero when unsorted, or sortBy unknown to rt at the root
	proj               *translate.Projection
}

// planType prepares q for rt. The filter's and sortBy's client errors come
// back apart, for Search across types to weigh; tp is never nil.
func (e *Engine) planType(rt *scim.ResourceType, expr filter.Expr, q Query) (tp *typePlan, filterErr, sortErr error) {
	tp = &typePlan{rt: rt, proj: translate.NewProjection(rt, q.Attributes, q.ExcludedAttributes)}
	if expr != nil {
		checked, err := filter.Check(expr, rt)
		if err != nil {
			filterErr = err
		} else {
			tp.pushdown, tp.residual = translate.Plan(checked, e.caps.Filter[rt.ID])
		}
	}
	tp.sort, sortErr = translate.ParseSort(rt, q.SortBy, q.SortOrder)
	return tp, filterErr, sortErr
}

// native reports whether the adapter runs the whole query, sort included.
func (tp *typePlan) native(caps adapters.Capabilities) bool {
	return tp.residual == nil && (tp.sort.IsZero() || caps.Sort)
}

// query is the adapters.Query for the pushed-down part of tp.
func (tp *typePlan) query(caps adapters.Capabilities) adapters.Query {
	q := adapters.Query{Filter: tp.pushdown}
	if !tp.sort.IsZero() && caps.Sort {
		q.SortBy, q.Descending = tp.sort.Path, tp.sort.Descending
	}
	return q
}

// window collects the requested page of a result and counts the result.
type window struct {
	start, count int // 1-based start; count ≥ 0
	total        int
	items        []item
}

type item struct {
	r    scim.Resource
	plan *typePlan
	key  translate.Key
	seq  int // arrival order, to keep a sort stable
}

// searchNative pushes everything, paging included, to the adapter: the
// window w, whose start is relative to tp's own results, is fetched in pages
// of at most Capabilities.MaxPageSize.
func (e *Engine) searchNative(ctx context.Context, tp *typePlan, w *window) error {
	q := tp.query(e.caps)
	pos := w.start // 1-based index of the next resource wanted
	for {
		q.StartIndex = pos
		q.Count = w.count - len(w.items)
		if e.caps.MaxPageSize > 0 {
			q.Count = min(q.Count, e.caps.MaxPageSize)
		}
		page, err := e.adapter.List(ctx, tp.rt, q)
		if err != nil {
			return fmt.Errorf("engine: list %s: %w", tp.rt.ID, err)
		}
		w.total = page.TotalResults
		for _, r := range page.Resources[:min(len(page.Resources), w.count-len(w.items))] {
			w.items = append(w.items, item{r: r, plan: tp})
		}
		pos += len(page.Resources)
		if len(w.items) >= w.count || len(page.Resources) == 0 || pos > w.total {
			return nil
		}
	}
}

// scan pages through everything the pushed-down part of tp matches and
// calls keep with each resource that also matches the residual.
func (e *Engine) scan(ctx context.Context, tp *typePlan, keep func(scim.Resource)) error {
	q := tp.query(e.caps)
	// The adapter's page limit, or the engine's own when it has none, so
	// that one response stays bounded.
	q.Count = e.opts.MaxPageSize
	if e.caps.MaxPageSize > 0 {
		q.Count = e.caps.MaxPageSize
	}
	for q.StartIndex = 1; ; {
		page, err := e.adapter.List(ctx, tp.rt, q)
		if err != nil {
			return fmt.Errorf("engine: list %s: %w", tp.rt.ID, err)
		}
		for _, r := range page.Resources {
			if tp.residual == nil || filter.Match(tp.residual, r, tp.rt) {
				keep(r)
			}
		}
		q.StartIndex += len(page.Resources)
		if len(page.Resources) == 0 || q.StartIndex > page.TotalResults {
			return nil
		}
	}
}

// searchInOrder serves an unsorted query, or one the adapter sorts, type
// after type. A type whose query the adapter runs whole serves its part of
// the window natively; any other is scanned, keeping only the window.
func (e *Engine) searchInOrder(ctx context.Context, plans []*typePlan, w *window) error {
	for _, tp := range plans {
		if tp.native(e.caps) {
			// The window relative to this type: it starts after the results
			// of the types before, or at once when it already started.
			sub := window{start: max(1, w.start-w.total), count: w.count - len(w.items)}
			if err := e.searchNative(ctx, tp, &sub); err != nil {
				return err
			}
			w.total += sub.total
			w.items = append(w.items, sub.items...)
			continue
		}
		err := e.scan(ctx, tp, func(r scim.Resource) {
			w.total++
			if w.total >= w.start && len(w.items) < w.count {
				w.items = append(w.items, item{r: r, plan: tp})
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// searchSorted serves a query the engine sorts. It keeps the best
// start-1+count resources seen so far, trimming whenever twice that many
// have accumulated, then returns the window.
func (e *Engine) searchSorted(ctx context.Context, plans []*typePlan, w *window) error {
	limit := w.start - 1 + w.count
	var sortBy translate.SortBy
	for _, tp := range plans {
		if !tp.sort.IsZero() {
			sortBy = tp.sort // the order (Descending) is the same for every type
			break
		}
	}
	less := func(a, b item) int {
		if c := sortBy.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.seq - b.seq
	}
	var kept []item
	seq := 0
	for _, tp := range plans {
		err := e.scan(ctx, tp, func(r scim.Resource) {
			w.total++
			if limit == 0 {
				return
			}
			kept = append(kept, item{r: r, plan: tp, key: tp.sort.Key(r), seq: seq})
			seq++
			if len(kept) >= 2*limit {
				slices.SortFunc(kept, less)
				clear(kept[limit:])
				kept = kept[:limit]
			}
		})
		if err != nil {
			return err
		}
	}
	slices.SortFunc(kept, less)
	if w.start-1 < len(kept) {
		w.items = kept[w.start-1 : min(len(kept), limit)]
	}
	return nil
}

// isClientError reports whether err is a 4xx *scim.Error.
func isClientError(err error) bool {
	var se *scim.Error
	return errors.As(err, &se) && se.Status >= 400 && se.Status < 500
}

// firstOf returns first, or err when first is nil.
func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
