package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

func spanAttr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// rotatingTokens hands out t1, then t2 after Invalidate, as a token cache
// over a token endpoint would.
func rotatingTokens() TokenSource {
	var n atomic.Int32
	return NewTokenCache(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "t" + string(rune('0'+n.Add(1)))}, nil
	}, 0)
}

// TestCallTelemetry sends one GET that is refused once for its token, then
// answered 503, then cut off, then answered: one call span, four client
// spans under it, each sending its own traceparent, and each retry counted
// with its reason.
func TestCallTelemetry(t *testing.T) {
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: telemetry.ExporterNone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	// The 503 closes its connection, so that the cut-off attempt comes on a
	// new one: net/http itself re-sends a GET cut off on a reused one.
	srv := newScripted(t, status(401), status(503, "Connection", "close"), hangUp, status(200, "TrackingID", "VENDOR_1"))
	c, _ := newTestClient(t, srv.URL, rotatingTokens(), WithTracerProvider(tp))

	header := http.Header{"X-Extra": {"1"}}
	ctx := telemetry.WithTarget(t.Context(), "acme")
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/Users/1", Query: map[string][]string{"filter": {`userName eq "a@example.com"`}},
		Header: header, Op: "acme.GetUser"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("Do = %v, %v; want 200", resp, err)
	}
	if len(header) != 1 {
		t.Errorf("the caller's header map was modified: %v", header)
	}

	var call sdktrace.ReadOnlySpan
	var attempts []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.SpanKind() {
		case trace.SpanKindInternal:
			call = s
		case trace.SpanKindClient:
			attempts = append(attempts, s)
		}
	}
	if call == nil || call.Name() != "acme.GetUser" {
		t.Fatalf("no call span acme.GetUser among %d spans", len(rec.Ended()))
	}
	for k, want := range map[string]int64{telemetry.AttrVendorAttempts: 4, telemetry.AttrVendorRetries: 3, telemetry.AttrVendorStatus: 200} {
		if got := spanAttr(call, k).AsInt64(); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	if got := spanAttr(call, telemetry.AttrVendorTrackID).AsString(); got != "VENDOR_1" {
		t.Errorf("vendor.tracking_id %q, want VENDOR_1", got)
	}
	if got := spanAttr(call, telemetry.AttrSCIMTarget).AsString(); got != "acme" {
		t.Errorf("scim.target %q, want acme", got)
	}
	var reasons []string
	for _, e := range call.Events() {
		for _, kv := range e.Attributes {
			reasons = append(reasons, kv.Value.AsString())
		}
	}
	if strings.Join(reasons, ",") != "token,status_5xx,transport" {
		t.Errorf("retry events %v, want token, status_5xx, transport", reasons)
	}
	if len(attempts) != 4 {
		t.Fatalf("%d client spans, want 4", len(attempts))
	}
	wantStatus := []int64{401, 503, 0, 200}
	for i, a := range attempts {
		if a.Parent().SpanID() != call.SpanContext().SpanID() {
			t.Errorf("attempt %d is not a child of the call span", i)
		}
		if got := spanAttr(a, "http.response.status_code").AsInt64(); got != wantStatus[i] {
			t.Errorf("attempt %d status %d, want %d", i, got, wantStatus[i])
		}
		if got := spanAttr(a, "http.request.resend_count").AsInt64(); got != int64(i) {
			t.Errorf("attempt %d resend_count %d, want %d", i, got, i)
		}
		if tp := srv.request(i).Header.Get("Traceparent"); !strings.Contains(tp, a.SpanContext().SpanID().String()) {
			t.Errorf("request %d traceparent %q, want its client span %s", i, tp, a.SpanContext().SpanID())
		}
		for _, kv := range a.Attributes() {
			if strings.Contains(kv.Value.String(), "example.com") {
				t.Errorf("attempt %d attribute %s holds the query: %q", i, kv.Key, kv.Value.String())
			}
		}
	}
	if got := spanAttr(attempts[2], "error.type").AsString(); got != "transport" || attempts[2].Status().Code != codes.Error {
		t.Errorf("cut-off attempt error.type %q status %v, want transport, error", got, attempts[2].Status().Code)
	}

	w := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	scrape := w.Body.String()
	for _, want := range []string{
		`scim_gateway_vendor_requests_total{[^}]*status="401",target="acme"} 1`,
		`scim_gateway_vendor_requests_total{[^}]*status="503",target="acme"} 1`,
		`scim_gateway_vendor_requests_total{[^}]*status="error",target="acme"} 1`,
		`scim_gateway_vendor_requests_total{[^}]*status="200",target="acme"} 1`,
		`scim_gateway_vendor_retries_total{[^}]*reason="token",target="acme"} 1`,
		`scim_gateway_vendor_retries_total{[^}]*reason="status_5xx",target="acme"} 1`,
		`scim_gateway_vendor_retries_total{[^}]*reason="transport",target="acme"} 1`,
		`scim_gateway_vendor_request_duration_seconds_count{[^}]*target="acme"} 4`,
		`scim_gateway_token_refreshes_total{[^}]*result="success",target="acme"} 2`,
	} {
		if !regexp.MustCompile(`(?m)^` + strings.ReplaceAll(want, "{[", `\{[`) + `$`).MatchString(scrape) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestOutcomeUnknownSpan: a POST cut off after sending fails its call span.
func TestOutcomeUnknownSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	srv := newScripted(t, hangUp)
	c, _ := newTestClient(t, srv.URL, StaticToken("tok"), WithTracerProvider(tp))
	_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/Users", Body: []byte(`{}`), Op: "acme.CreateUser"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("Do = %v, want ErrOutcomeUnknown", err)
	}
	for _, s := range rec.Ended() {
		if s.Name() == "acme.CreateUser" && s.Status().Code != codes.Error {
			t.Errorf("call span status %v, want error", s.Status())
		}
	}
}

// TestNoTracer: without a tracer provider nothing is sent to the vendor
// but what the caller's trace context says (here: nothing).
func TestNoTracer(t *testing.T) {
	srv := newScripted(t, status(200))
	c, _ := newTestClient(t, srv.URL, StaticToken("tok"))
	if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/Users", Op: "acme.ListUsers"}); err != nil {
		t.Fatal(err)
	}
	if tp := srv.request(0).Header.Get("Traceparent"); tp != "" {
		t.Errorf("traceparent %q sent without a trace", tp)
	}
}

// BenchmarkDoTraced is BenchmarkDo's plain GET with every call sampled
// (spans made and ended, not exported).
func BenchmarkDoTraced(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"2819c223"}`))
	}))
	defer srv.Close()
	tp := sdktrace.NewTracerProvider()
	c, err := New(srv.URL+"/scim/v2", StaticToken("token"), WithTracerProvider(tp))
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Method: http.MethodGet, Path: "/Users/2819c223", Op: "bench.Get"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}
