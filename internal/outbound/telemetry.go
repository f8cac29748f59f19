package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// Telemetry of the client (docs/observability.md):
//
//   - each Do is one internal span named after Request.Op (webex.ListUsers)
//     with the target, the attempts, the retries, the rate-limit waits, the
//     final vendor status and the vendor's tracking id;
//   - each attempt is an HTTP client span below it, made by the transport,
//     that sends the W3C traceparent of that span to the vendor;
//   - the vendor metrics of docs/metrics.md, labelled with the target that
//     telemetry.WithTarget put in the context (the router does).
//
// Spans are made by the provider of WithTracerProvider, else by the one the
// context carries (the router's), else by the global one. Nothing records a
// URL query or a body: a filter can carry an email address.

// WithTracerProvider makes the client's spans with tp instead of the
// provider the request's context carries (or the global one). Nil is
// ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) {
		if tp != nil {
			o.tp = tp
		}
	}
}

// instrument wraps the transport, innermost, with the client spans, and
// returns the response headers that hold a vendor's tracking id: Webex's
// TrackingID, then those of WithLogHeaders.
func (o *options) instrument() (tracked []string) {
	tracked = append([]string{"TrackingID"}, o.logHeader...)
	o.wraps = append([]func(http.RoundTripper) http.RoundTripper{func(next http.RoundTripper) http.RoundTripper {
		return &tracingTransport{next: next, tracked: tracked}
	}}, o.wraps...)
	return tracked
}

// call is the telemetry state of one Do, kept in its context.
type call struct {
	span     trace.Span
	target   string
	tracked  []string
	mu       sync.Mutex // attempts of one Do are sequential, but a transport may run RoundTrip on a goroutine of its own
	attempts int
	retries  int
	waits    int
	waited   bool // the attempt being admitted waited already (one count per attempt)
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// startCall starts the span of one Do.
func (c *Client) startCall(ctx context.Context, req Request, method string) (context.Context, *call) {
	ctx = telemetry.ContextWithTracerProvider(ctx, c.tp)
	target := telemetry.TargetFrom(ctx)
	name := req.Op
	if name == "" {
		name = "outbound." + method
	}
	ctx, span := telemetry.Tracer(ctx).Start(ctx, name)
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String(telemetry.AttrSCIMTarget, target),
			attribute.String(telemetry.AttrVendorOp, req.Op),
			attribute.String("http.request.method", method),
			attribute.String("server.address", c.base.Hostname()),
		)
	}
	cl := &call{span: span, target: target, tracked: c.tracked}
	return context.WithValue(ctx, callKey{}, cl), cl
}

// attempt records one attempt's outcome in the vendor metrics.
func (cl *call) attempt(ctx context.Context, a attempt, elapsed time.Duration) {
	cl.mu.Lock()
	cl.attempts++
	cl.waited = false
	cl.mu.Unlock()
	status := 0
	if a.resp != nil {
		status = a.resp.Status
	}
	telemetry.RecordVendorAttempt(ctx, cl.target, status, elapsed)
}

// retry records that the attempt just made is retried, for reason.
func (cl *call) retry(ctx context.Context, reason string) {
	cl.mu.Lock()
	cl.retries++
	cl.mu.Unlock()
	if cl.span.IsRecording() {
		cl.span.AddEvent("retry", trace.WithAttributes(attribute.String("reason", reason)))
	}
	telemetry.RecordVendorRetry(ctx, cl.target, reason)
}

// retryReason is the reason label of a retried answer with status st.
func retryReason(st int) string {
	if st == http.StatusTooManyRequests {
		return telemetry.RetryStatus429
	}
	return telemetry.RetryStatus5xx
}

// noteWait records that the attempt being admitted waited: for the rate
// limit, or for a pause a vendor's Retry-After put on the target.
func noteWait(ctx context.Context) {
	cl := callFrom(ctx)
	if cl == nil {
		return
	}
	cl.mu.Lock()
	first := !cl.waited
	cl.waited = true
	if first {
		cl.waits++
	}
	cl.mu.Unlock()
	if first {
		telemetry.RecordRateLimitWait(ctx, cl.target)
	}
}

// end ends the span of a Do that returned resp and err.
func (cl *call) end(resp *Response, err error) {
	if !cl.span.IsRecording() {
		cl.span.End()
		return
	}
	cl.mu.Lock()
	cl.span.SetAttributes(
		attribute.Int(telemetry.AttrVendorAttempts, cl.attempts),
		attribute.Int(telemetry.AttrVendorRetries, cl.retries),
		attribute.Int(telemetry.AttrVendorWaits, cl.waits),
	)
	cl.mu.Unlock()
	var oe *OutcomeError
	if resp == nil && errors.As(err, &oe) {
		resp = oe.Response // the 502/504 that left the outcome open
	}
	if resp != nil {
		cl.span.SetAttributes(attribute.Int(telemetry.AttrVendorStatus, resp.Status))
		if id := trackingHeader(resp.Header, cl.tracked); id != "" {
			cl.span.SetAttributes(attribute.String(telemetry.AttrVendorTrackID, id))
		}
	}
	switch {
	case err != nil:
		telemetry.SetError(cl.span, err)
	case resp != nil && resp.Status >= 500:
		cl.span.SetStatus(codes.Error, "vendor status "+strconv.Itoa(resp.Status))
	}
	cl.span.End()
}

// trackingHeader is the first of the tracked response headers that is set.
func trackingHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// tracingTransport makes an HTTP client span of each attempt and sends its
// trace context to the vendor (traceparent, tracestate; never baggage).
type tracingTransport struct {
	next    http.RoundTripper
	tracked []string
}

func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := telemetry.Tracer(req.Context()).Start(req.Context(), req.Method, clientKind)
	if !span.SpanContext().IsValid() {
		// No tracing at all (the no-op provider): nothing to record or send.
		return t.next.RoundTrip(req)
	}
	// A RoundTripper must not modify its request: the header goes on a
	// copy. A trace that is not sampled is propagated too, so that the
	// vendor's side of it is not sampled either.
	out := req.Clone(ctx)
	telemetry.InjectTraceContext(ctx, out.Header)
	if !span.IsRecording() {
		return t.next.RoundTrip(out)
	}
	span.SetAttributes(
		attribute.String("http.request.method", req.Method),
		attribute.String("server.address", req.URL.Hostname()),
		// The path holds vendor ids, not PII; the query (a filter) may.
		attribute.String("url.path", req.URL.EscapedPath()),
	)
	if port := req.URL.Port(); port != "" {
		if n, err := strconv.Atoi(port); err == nil {
			span.SetAttributes(attribute.Int("server.port", n))
		}
	}
	if cl := callFrom(ctx); cl != nil {
		cl.mu.Lock()
		n := cl.attempts // attempts recorded so far: this one is a resend when > 0
		cl.mu.Unlock()
		if n > 0 {
			span.SetAttributes(attribute.Int("http.request.resend_count", n))
		}
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		span.SetStatus(codes.Error, errorType(err))
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if id := trackingHeader(resp.Header, t.tracked); id != "" {
		span.SetAttributes(attribute.String(telemetry.AttrVendorTrackID, id))
	}
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, "vendor status "+strconv.Itoa(resp.StatusCode))
	}
	// The span lasts until the body is read and closed, as the attempt does.
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// errorType names a transport failure for error.type without its text,
// which holds the URL and its query.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case connectError(err):
		return "connect"
	}
	return "transport"
}

// spanBody ends its span when the body is closed.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.span.End() })
	return err
}
