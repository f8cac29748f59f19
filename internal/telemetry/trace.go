package telemetry

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// ScopeName is the instrumentation scope of the gateway's spans.
const ScopeName = "github.com/scim-gateway/scim-gateway"

// Span attribute names (docs/observability.md). Values never hold a user
// name, an email, a token or a filter value.
const (
	AttrTarget          = "target"               // the server span's target, as the dashboard's TraceQL expects
	AttrSCIMTarget      = "scim.target"          // the configured target's name
	AttrResourceType    = "scim.resource_type"   // "User", "Group"; "*" across resource types
	AttrOperation       = "scim.operation"       // users.get, groups.patch, bulk, discovery… (docs/metrics.md)
	AttrFilterPushdown  = "scim.filter.pushdown" // the part of the filter the vendor runs, values redacted
	AttrFilterResidual  = "scim.filter.residual" // the part the gateway evaluates, values redacted
	AttrSearchEmulated  = "scim.search.emulated" // the engine pages (and filters or sorts) itself
	AttrCacheHit        = "cache.hit"
	AttrCacheResult     = "cache.result" // hit, miss, error
	AttrVendorOp        = "vendor.operation"
	AttrVendorStatus    = "vendor.status" // the final HTTP status of a vendor call
	AttrVendorRetries   = "vendor.retries"
	AttrVendorAttempts  = "vendor.attempts"
	AttrVendorWaits     = "vendor.rate_limit_waits"
	AttrVendorTrackID   = "vendor.tracking_id" // e.g. Webex's TrackingID response header
	AttrTokenRefreshRes = "token.result"
)

// Propagator is the W3C trace-context and baggage propagator the gateway
// reads incoming requests with; Setup also installs it as the global one.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Extract returns ctx with the remote span context (and baggage) of an
// incoming request's headers.
func Extract(ctx context.Context, h http.Header) context.Context {
	return Propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// InjectTraceContext writes traceparent (and tracestate) for the span in ctx
// into h. Baggage is not sent: vendors are third parties, and baggage is
// whatever the gateway's callers put there.
func InjectTraceContext(ctx context.Context, h http.Header) {
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
}

type ctxKey int

const (
	providerKey ctxKey = iota
	targetKey
)

// ContextWithTracerProvider returns ctx whose spans (Start, Tracer) are made
// by tp. The router puts its provider there, so that a request is traced by
// one provider from its server span down to the vendor calls.
func ContextWithTracerProvider(ctx context.Context, tp trace.TracerProvider) context.Context {
	if tp == nil {
		return ctx
	}
	return context.WithValue(ctx, providerKey, tp)
}

// Tracer returns the gateway's tracer of the provider in ctx, or of the
// global provider.
func Tracer(ctx context.Context) trace.Tracer {
	if tp, ok := ctx.Value(providerKey).(trace.TracerProvider); ok {
		return tp.Tracer(ScopeName)
	}
	return otel.GetTracerProvider().Tracer(ScopeName)
}

// Start starts an internal span named name (`layer.Operation`, e.g.
// cache.Get) as a child of the span in ctx.
func Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return Tracer(ctx).Start(ctx, name, trace.WithAttributes(attrs...))
}

// End ends span after an operation that returned err. Only failures that
// are the gateway's or the vendor's (5xx, and anything that is not a
// *scim.Error) mark the span as an error: a 404 or 409 is a correct answer.
func End(span trace.Span, err error) {
	SetError(span, err)
	span.End()
}

// SetError marks span as failed when err is a 5xx or an unexpected error;
// client errors (4xx) leave it unset.
func SetError(span trace.Span, err error) {
	if err == nil {
		return
	}
	var se *scim.Error
	if errors.As(err, &se) && se.Status < 500 {
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, errText(err))
}

// errText is the span status message: a SCIM error's detail (safe to show a
// client), else the error.
func errText(err error) string {
	var se *scim.Error
	if errors.As(err, &se) && se.Detail != "" {
		return se.Detail
	}
	return err.Error()
}

// WithTarget returns ctx naming the configured target a request addresses;
// the outbound client and the cache label their metrics and spans with it.
func WithTarget(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, targetKey, name)
}

// TargetFrom returns the target name WithTarget put in ctx, or "".
func TargetFrom(ctx context.Context) string {
	s, _ := ctx.Value(targetKey).(string)
	return s
}

// TraceIDs returns the trace and span ids of the span in ctx, in hex, or
// empty strings when there is none; log lines carry them as trace_id and
// span_id.
func TraceIDs(ctx context.Context) (traceID, spanID string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", ""
	}
	return sc.TraceID().String(), sc.SpanID().String()
}

// StartCache starts a span "cache."+op (e.g. cache.Get) for a lookup in
// target's cache. Call the returned func once with the lookup's result: it
// sets cache.hit and cache.result on the span, counts the lookup in
// scim_gateway_cache_requests_total, and ends the span. A miss that loads
// from the vendor under the returned ctx shows the vendor call inside the
// cache span, so call done after the load.
func StartCache(ctx context.Context, op, target string) (context.Context, func(result CacheResult, err error)) {
	ctx, span := Start(ctx, "cache."+op, attribute.String(AttrSCIMTarget, target))
	return ctx, func(result CacheResult, err error) {
		span.SetAttributes(attribute.Bool(AttrCacheHit, result == CacheHit), attribute.String(AttrCacheResult, string(result)))
		RecordCacheLookup(ctx, target, result)
		End(span, err)
	}
}
