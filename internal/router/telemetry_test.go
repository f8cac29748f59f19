package router_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// tracedFixture is a fixture whose server spans go to a recorder.
func tracedFixture(t *testing.T, edit ...func(*router.Config)) (*fixture, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	f := newFixture(t, append([]func(*router.Config){func(c *router.Config) { c.TracerProvider = tp }}, edit...)...)
	return f, rec
}

// waitEnded waits for n server spans to end (a server span ends after the
// response is written, and a large response reaches the client before) and
// returns them; the engine's spans below them are left out.
func waitEnded(t *testing.T, rec *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		var spans []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.SpanKind() == trace.SpanKindServer {
				spans = append(spans, s)
			}
		}
		if len(spans) > n || len(spans) < n && time.Now().After(deadline) {
			t.Fatalf("%d server spans ended, want %d", len(spans), n)
		}
		if len(spans) == n {
			return spans
		}
	}
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestServerSpans(t *testing.T) {
	f, rec := tracedFixture(t)
	id, _ := f.createUser(t, memoryRoot, "span.user@example.com")
	tests := []struct {
		name         string
		rq           req
		wantStatus   int
		wantSpan     string
		wantOp       string
		wantTarget   string // "" when the span must not have one
		wantResource string
		wantError    bool
	}{
		{"get user", req{method: "GET", path: memoryRoot + "/Users/" + id, token: adminToken}, 200,
			"GET /targets/{target}/scim/v2/Users/{id}", "users.get", "memory", "User", false},
		{"default root list", req{method: "GET", path: "/scim/v2/Groups", token: adminToken}, 200,
			"GET /scim/v2/Groups", "groups.list", "memory", "Group", false},
		{"search", req{method: "POST", path: memoryRoot + "/Users/.search", token: adminToken, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`}, 200,
			"POST /targets/{target}/scim/v2/Users/.search", "users.list", "memory", "User", false},
		{"create", req{method: "POST", path: memoryRoot + "/Groups", token: adminToken, body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`}, 201,
			"POST /targets/{target}/scim/v2/Groups", "groups.create", "memory", "Group", false},
		{"delete missing", req{method: "DELETE", path: memoryRoot + "/Users/nope", token: adminToken}, 404,
			"DELETE /targets/{target}/scim/v2/Users/{id}", "users.delete", "memory", "User", false},
		{"discovery", req{method: "GET", path: memoryRoot + "/Schemas", token: adminToken}, 200,
			"GET /targets/{target}/scim/v2/Schemas", "discovery", "memory", "", false},
		{"bulk", req{method: "POST", path: memoryRoot + "/Bulk", token: adminToken, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}`}, 200,
			"POST /targets/{target}/scim/v2/Bulk", "bulk", "memory", "", false},
		{"root query", req{method: "GET", path: memoryRoot + "/", token: adminToken}, 200,
			"GET /targets/{target}/scim/v2", "all.list", "memory", "*", false},
		{"unknown target", req{method: "GET", path: "/targets/nope/scim/v2/Users", token: adminToken}, 404,
			"", "unknown", "", "", false},
		{"unauthenticated", req{method: "GET", path: memoryRoot + "/Users"}, 401,
			"", "unknown", "", "", false},
		{"endpoint not served", req{method: "GET", path: usersRoot + "/Groups", token: adminToken}, 404,
			"GET /targets/{target}/scim/v2/{endpoint}", "unknown", "usersonly", "", false},
		{"vendor failure", req{method: "GET", path: "/targets/faulty/scim/v2/Users/vendor", token: adminToken}, 500,
			"GET /targets/{target}/scim/v2/Users/{id}", "users.get", "faulty", "User", true},
		{"panic", req{method: "GET", path: "/targets/faulty/scim/v2/Users/panic", token: adminToken}, 500,
			"GET /targets/{target}/scim/v2/Users/{id}", "users.get", "faulty", "User", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.Reset()
			f.mustDo(t, tt.rq, tt.wantStatus)
			s := waitEnded(t, rec, 1)[0]
			if tt.wantSpan != "" && s.Name() != tt.wantSpan {
				t.Errorf("span name %q, want %q", s.Name(), tt.wantSpan)
			}
			if strings.Contains(s.Name(), "nope") || strings.Contains(s.Name(), id) {
				t.Errorf("span name %q holds a raw path segment", s.Name())
			}
			if s.SpanKind() != trace.SpanKindServer {
				t.Errorf("span kind %v, want server", s.SpanKind())
			}
			if v, _ := spanAttr(s, telemetry.AttrOperation); v.AsString() != tt.wantOp {
				t.Errorf("%s = %q, want %q", telemetry.AttrOperation, v.AsString(), tt.wantOp)
			}
			if v, _ := spanAttr(s, "http.response.status_code"); v.AsInt64() != int64(tt.wantStatus) {
				t.Errorf("http.response.status_code = %d, want %d", v.AsInt64(), tt.wantStatus)
			}
			v, ok := spanAttr(s, telemetry.AttrTarget)
			if ok != (tt.wantTarget != "") || v.AsString() != tt.wantTarget {
				t.Errorf("target = %q (set %v), want %q", v.AsString(), ok, tt.wantTarget)
			}
			if v, _ := spanAttr(s, telemetry.AttrSCIMTarget); v.AsString() != tt.wantTarget {
				t.Errorf("scim.target = %q, want %q", v.AsString(), tt.wantTarget)
			}
			if v, _ := spanAttr(s, telemetry.AttrResourceType); v.AsString() != tt.wantResource {
				t.Errorf("scim.resource_type = %q, want %q", v.AsString(), tt.wantResource)
			}
			if got := s.Status().Code == codes.Error; got != tt.wantError {
				t.Errorf("span error status %v (%q), want %v", got, s.Status().Description, tt.wantError)
			}
		})
	}
}

func TestOperationalEndpointsHaveNoSpan(t *testing.T) {
	f, rec := tracedFixture(t)
	for _, p := range []string{"/healthz", "/readyz", "/version"} {
		f.mustDo(t, req{method: "GET", path: p}, 200)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans for probes, want none", n)
	}
}

// TestAccessLogCarriesTraceContext sends a W3C traceparent: the server span
// continues that trace, and the access-log line names the trace and the
// server span.
func TestAccessLogCarriesTraceContext(t *testing.T) {
	f, rec := tracedFixture(t)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken,
		header: map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"}}, 200)
	s := waitEnded(t, rec, 1)[0]
	if s.SpanContext().TraceID().String() != traceID || s.Parent().SpanID().String() != parentID || !s.Parent().IsRemote() {
		t.Fatalf("span trace %s parent %s (remote %v), want trace %s parent %s",
			s.SpanContext().TraceID(), s.Parent().SpanID(), s.Parent().IsRemote(), traceID, parentID)
	}
	line := lastLogLine(t, f.logs.String())
	if line["trace_id"] != traceID || line["span_id"] != s.SpanContext().SpanID().String() {
		t.Errorf("access log trace_id %v span_id %v, want %s %s", line["trace_id"], line["span_id"], traceID, s.SpanContext().SpanID())
	}
}

func lastLogLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("log line: %v\n%s", err, logs)
	}
	return m
}

// TestAccessLogHoldsNoSecrets sends a bearer token, token query parameters
// and a body with a password and an email: none of them reaches the log at
// info level, while the line itself is there.
func TestAccessLogHoldsNoSecrets(t *testing.T) {
	f, rec := tracedFixture(t)
	secrets := []string{adminToken, "query-token-value", "query-access-token-value", "body-password-value", "body.email@example.com"}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"body.email@example.com","password":"body-password-value"}`
	f.mustDo(t, req{method: "POST", path: memoryRoot + "/Users?token=query-token-value&access_token=query-access-token-value",
		token: adminToken, body: body}, 201)
	f.mustDo(t, req{method: "GET", path: memoryRoot + `/Users?filter=userName+eq+"body.email@example.com"&access_token=query-access-token-value`,
		token: adminToken}, 200)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", header: map[string]string{"Authorization": "Bearer body-password-value"}}, 401)
	waitEnded(t, rec, 3) // each access-log line is written before its span ends
	logs := f.logs.String()
	if n := strings.Count(logs, `"msg":"request"`); n != 3 {
		t.Fatalf("%d access-log lines, want 3:\n%s", n, logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, logs)
		}
	}
}

// TestMetricsEndpoint scrapes /metrics after requests: the counters and
// histograms of docs/metrics.md, with their labels.
func TestMetricsEndpoint(t *testing.T) {
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: telemetry.ExporterNone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(t.Context()) })
	f, rec := tracedFixture(t, func(c *router.Config) { c.Metrics = tel.MetricsHandler() })
	id, _ := f.createUser(t, memoryRoot, "metrics.user@example.com")
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users/" + id, token: adminToken}, 200)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users/" + id, token: adminToken}, 200)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users/missing", token: adminToken}, 404)
	f.mustDo(t, req{method: "GET", path: "/targets/nope/scim/v2/Users", token: adminToken}, 404)
	f.mustDo(t, req{method: "GET", path: "/healthz"}, 200)
	waitEnded(t, rec, 5) // each request is counted before its span ends

	r := f.mustDo(t, req{method: "GET", path: "/metrics"}, 200)
	text := string(r.body)
	for _, want := range []string{
		`scim_gateway_requests_total{operation="users.create",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",status="201",target="memory"} 1`,
		`scim_gateway_requests_total{operation="users.get",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",status="200",target="memory"} 2`,
		`scim_gateway_requests_total{operation="users.get",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",status="404",target="memory"} 1`,
		`scim_gateway_requests_total{operation="unknown",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",status="404",target=""} 1`,
		`scim_gateway_request_duration_seconds_count{operation="users.get",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",target="memory"} 3`,
		`scim_gateway_request_duration_seconds_bucket{operation="users.get",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",target="memory",le="60"} 3`,
		`target_info{`,
		`service_name="scim-gateway"`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "healthz") || strings.Contains(text, `operation="unknown",otel_scope_name="github.com/scim-gateway/scim-gateway",otel_scope_schema_url="",otel_scope_version="",status="200"`) {
		t.Errorf("/metrics counts a probe:\n%s", text)
	}

	// OpenMetrics, as Prometheus asks for it when it stores exemplars: the
	// latency observations of sampled requests link to their traces.
	hr, err := http.NewRequestWithContext(t.Context(), "GET", f.url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := f.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `# {trace_id="`) {
		t.Errorf("OpenMetrics scrape has no exemplar with a trace_id:\n%s", b)
	}
}

// BenchmarkTelemetry measures GET /Users/{id} through the handler with
// telemetry off (no-op tracer, no instruments) and on (every request
// sampled, spans recorded but not exported, metrics recorded).
func BenchmarkTelemetry(b *testing.B) {
	run := func(b *testing.B, tp trace.TracerProvider) {
		f := newFixture(b, func(c *router.Config) { c.TracerProvider = tp })
		r := f.mustDo(b, req{method: "POST", path: memoryRoot + "/Users", token: adminToken,
			body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen"}`}, 201)
		path := memoryRoot + "/Users/" + str(r.json(b), "id")
		hr := httptest.NewRequest(http.MethodGet, path, nil)
		hr.Header.Set("Authorization", "Bearer "+adminToken)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, hr)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("off", func(b *testing.B) { run(b, noop.NewTracerProvider()) })
	b.Run("on", func(b *testing.B) {
		tel, err := telemetry.Setup(b.Context(), telemetry.Config{Exporter: telemetry.ExporterNone})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = tel.Shutdown(context.Background()) }()
		run(b, tel.TracerProvider())
	})
}
