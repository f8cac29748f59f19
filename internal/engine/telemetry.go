package engine

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Search answers a query over rt, or over every resource type when rt is
// nil, as search describes, within an engine.Search span. The span tells
// what the plan split: the filter the adapter runs (scim.filter.pushdown)
// and the one the engine evaluates (scim.filter.residual), their values
// redacted, and whether the engine pages the result itself
// (scim.search.emulated). The adapter's calls are its children.
func (e *Engine) Search(ctx context.Context, rt *scim.ResourceType, q Query) (*scim.ListResponse, error) {
	name := "*"
	if rt != nil {
		name = rt.ID
	}
	ctx, span := telemetry.Start(ctx, "engine.Search",
		attribute.String(telemetry.AttrSCIMTarget, telemetry.TargetFrom(ctx)),
		attribute.String(telemetry.AttrResourceType, name))
	resp, err := e.search(ctx, rt, q)
	telemetry.End(span, err)
	return resp, err
}

// notePlan puts the plans of a search on its span.
func (e *Engine) notePlan(ctx context.Context, plans []*typePlan) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var push, resid []string
	emulated := false
	for _, tp := range plans {
		prefix := ""
		if len(plans) > 1 {
			prefix = tp.rt.ID + ": "
		}
		if tp.pushdown != nil {
			push = append(push, prefix+redact(tp.pushdown).String())
		}
		if tp.residual != nil {
			resid = append(resid, prefix+redact(tp.residual).String())
		}
		emulated = emulated || !tp.native(e.caps)
	}
	span.SetAttributes(
		attribute.String(telemetry.AttrFilterPushdown, strings.Join(push, "; ")),
		attribute.String(telemetry.AttrFilterResidual, strings.Join(resid, "; ")),
		attribute.Bool(telemetry.AttrSearchEmulated, emulated),
	)
}

// redacted stands for every value of a filter on a span: values are what
// callers search for (user names, emails), the shape is what tells why a
// query was slow.
const redacted = "?"

// redact returns a copy of x with every comparison value replaced by
// redacted (presence tests keep their nil).
func redact(x filter.Expr) filter.Expr {
	switch x := x.(type) {
	case *filter.Compare:
		c := *x
		if c.Value != nil {
			c.Value = redacted
		}
		return &c
	case *filter.And:
		return &filter.And{Left: redact(x.Left), Right: redact(x.Right)}
	case *filter.Or:
		return &filter.Or{Left: redact(x.Left), Right: redact(x.Right)}
	case *filter.Not:
		return &filter.Not{X: redact(x.X)}
	case *filter.ValuePath:
		return &filter.ValuePath{Path: x.Path, Filter: redact(x.Filter)}
	}
	return x
}
