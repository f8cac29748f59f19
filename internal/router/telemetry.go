package router

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// Operations that name no resource type (docs/metrics.md, the operation
// label).
const (
	opDiscovery = "discovery"
	opBulk      = "bulk"
	opMe        = "me"
	opAll       = "all.list" // GET / and POST /.search: a query across resource types
	opUnknown   = "unknown"
)

// operational reports whether path is one of the endpoints for probes and
// scrapers, which get neither a span nor a count: they would drown the
// SCIM traffic.
func operational(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/version", "/metrics":
		return true
	}
	return false
}

// traced is the OpenTelemetry middleware: a server span per request that
// continues the caller's W3C trace context and is renamed, once routed,
// after the route pattern (never the raw path, which holds ids), and the
// request metrics of docs/metrics.md. It sits outside accessLog, so that the
// access-log line carries the span's ids, and outside recoverer, so that a
// panic still ends the span and is counted as the 500 it becomes.
func (s *server) traced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if operational(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		tp := s.tracerProvider
		if tp == nil {
			tp = otel.GetTracerProvider()
		}
		ctx := telemetry.ContextWithTracerProvider(telemetry.Extract(r.Context(), r.Header), tp)
		ctx, span := tp.Tracer(telemetry.ScopeName).Start(ctx, r.Method, serverKind)
		recording := span.IsRecording()
		if recording {
			span.SetAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.scheme", scheme(r)),
			)
			if ua := r.UserAgent(); ua != "" {
				// Tells the IdPs apart (Okta, Entra ID…).
				span.SetAttributes(attribute.String("user_agent.original", ua))
			}
			if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				span.SetAttributes(attribute.String("client.address", host))
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		// Deferred, so that a request aborted with http.ErrAbortHandler
		// still ends its span.
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK // the handler wrote nothing
			}
			ri := infoFrom(ctx)
			pattern, op, rt := route(r, ri.target)
			targetName := ""
			if ri.target != nil {
				targetName = ri.target.name
			}
			if recording {
				annotate(span, r.Method, pattern, op, rt, targetName, status, ri.err)
			}
			// Counted before the span ends, so that a span seen ended has
			// been counted (tests rely on it), and with the span in ctx, so
			// that the latency observation gets the trace as its exemplar.
			telemetry.RecordRequest(ctx, targetName, op, status, time.Since(start))
			span.End()
		}()
		next.ServeHTTP(sw, r)
	})
}

var serverKind = trace.WithSpanKind(trace.SpanKindServer)

// annotate names the server span after the route and sets what routing and
// the handler found out.
func annotate(span trace.Span, method, pattern, op, rt, target string, status int, err *scim.Error) {
	name := method
	if pattern != "" {
		name += " " + pattern
	}
	span.SetName(name)
	if target != "" {
		span.SetAttributes(attribute.String(telemetry.AttrTarget, target), attribute.String(telemetry.AttrSCIMTarget, target))
	}
	span.SetAttributes(
		attribute.String("http.route", pattern),
		attribute.Int("http.response.status_code", status),
		attribute.String(telemetry.AttrOperation, op),
	)
	if rt != "" {
		span.SetAttributes(attribute.String(telemetry.AttrResourceType, rt))
	}
	if status >= 500 {
		if err != nil {
			telemetry.SetError(span, err)
		} else {
			telemetry.SetError(span, errServerStatus)
		}
	}
}

var errServerStatus = &serverStatusError{}

// serverStatusError marks a span whose handler answered 5xx without a SCIM
// error (a 5xx written directly).
type serverStatusError struct{}

func (*serverStatusError) Error() string { return "server error status" }

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// route returns the routed request's pattern, with {endpoint} replaced by
// the resource type's endpoint when the target serves it (bounded by the
// configuration, so fit for span names), the operation label and the
// resource type's ID ("*" across resource types). Unrouted requests have
// an empty or wildcard pattern and operation "unknown".
func route(r *http.Request, t *target) (pattern, op, rt string) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return "", opUnknown, ""
	}
	pattern = rctx.RoutePattern()
	i := strings.Index(pattern, defaultPrefix)
	if i < 0 {
		return pattern, opUnknown, ""
	}
	rest := pattern[i+len(defaultPrefix):]
	switch rest {
	case "/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}":
		return pattern, opDiscovery, ""
	case "/Bulk":
		return pattern, opBulk, ""
	case "", "/", "/.search":
		return pattern, opAll, "*"
	case "/{endpoint}", "/{endpoint}/.search", "/{endpoint}/{id}":
	default:
		return pattern, opUnknown, ""
	}
	ep := pathParam(r, rctx.URLParam("endpoint"))
	var resource string
	switch rtype := resourceTypeOf(t, ep); {
	case rtype != nil:
		endpoint := strings.TrimPrefix(rtype.Endpoint, "/")
		pattern = strings.Replace(pattern, "{endpoint}", endpoint, 1)
		resource, rt = strings.ToLower(endpoint), rtype.ID
	case strings.EqualFold(ep, "Me"):
		// RFC 7644 §3.11; answered 501 unless served, counted apart.
		return strings.Replace(pattern, "{endpoint}", "Me", 1), opMe, ""
	default:
		return pattern, opUnknown, ""
	}
	switch {
	case rest == "/{endpoint}/.search", rest == "/{endpoint}" && r.Method == http.MethodGet:
		return pattern, resource + ".list", rt
	case rest == "/{endpoint}" && r.Method == http.MethodPost:
		return pattern, resource + ".create", rt
	case r.Method == http.MethodGet:
		return pattern, resource + ".get", rt
	case r.Method == http.MethodPut:
		return pattern, resource + ".replace", rt
	case r.Method == http.MethodPatch:
		return pattern, resource + ".patch", rt
	case r.Method == http.MethodDelete:
		return pattern, resource + ".delete", rt
	}
	return pattern, opUnknown, rt
}

func resourceTypeOf(t *target, endpoint string) *scim.ResourceType {
	if t == nil || endpoint == "" {
		return nil
	}
	return t.resourceType(endpoint)
}
