package telemetry_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

func ptr[T any](v T) *T { return &v }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     telemetry.Config
		wantErr []string // keys named in the error; nil means valid
	}{
		{"zero", telemetry.Config{}, nil},
		{"otlp grpc", telemetry.Config{Exporter: "otlp", Protocol: "grpc", Endpoint: "https://collector:4317", SampleRatio: ptr(0.5)}, nil},
		{"stdout, no metrics", telemetry.Config{Exporter: "stdout", SampleRatio: ptr(0.0), Metrics: ptr(false)}, nil},
		{"bad exporter", telemetry.Config{Exporter: "jaeger"}, []string{"exporter:"}},
		{"bad protocol", telemetry.Config{Protocol: "http/json"}, []string{"protocol:"}},
		{"endpoint without scheme", telemetry.Config{Endpoint: "collector:4318"}, []string{"endpoint:"}},
		{"endpoint with credentials", telemetry.Config{Endpoint: "https://u:hunter2@collector"}, []string{"endpoint:"}},
		{"endpoint with query", telemetry.Config{Endpoint: "https://collector/?k=v"}, []string{"endpoint:"}},
		{"ratio above 1", telemetry.Config{SampleRatio: ptr(1.01)}, []string{"sampleRatio:"}},
		{"ratio below 0", telemetry.Config{SampleRatio: ptr(-0.1)}, []string{"sampleRatio:"}},
		{"every problem at once", telemetry.Config{Exporter: "x", Protocol: "y", SampleRatio: ptr(2.0)}, []string{"exporter:", "protocol:", "sampleRatio:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr != nil)
			}
			for _, k := range tt.wantErr {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("Validate() = %v, want it to name %s", err, k)
				}
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() echoes a credential: %v", err)
			}
		})
	}
}

// otlpHTTPReceiver is a collector's OTLP/HTTP traces endpoint: protobuf at
// /v1/traces, gzip or not.
type otlpHTTPReceiver struct {
	mu    sync.Mutex
	reqs  []*coltracepb.ExportTraceServiceRequest
	paths []string
}

func (o *otlpHTTPReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a POST of application/x-protobuf", http.StatusBadRequest)
		return
	}
	req := new(coltracepb.ExportTraceServiceRequest)
	if err := proto.Unmarshal(b, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	o.reqs = append(o.reqs, req)
	o.paths = append(o.paths, r.URL.Path)
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (o *otlpHTTPReceiver) spans() ([]*tracepb.ResourceSpans, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var rs []*tracepb.ResourceSpans
	for _, r := range o.reqs {
		rs = append(rs, r.ResourceSpans...)
	}
	return rs, append([]string(nil), o.paths...)
}

// exported returns the names of the spans in rs and the resource's
// service.name and service.version.
func exported(rs []*tracepb.ResourceSpans) (names []string, service, version string) {
	for _, r := range rs {
		for _, kv := range r.GetResource().GetAttributes() {
			switch kv.Key {
			case "service.name":
				service = kv.GetValue().GetStringValue()
			case "service.version":
				version = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range r.ScopeSpans {
			for _, s := range ss.Spans {
				names = append(names, s.Name)
			}
		}
	}
	return names, service, version
}

// emit makes a parent and a child span through the package's helpers.
func emit(ctx context.Context) {
	ctx, parent := telemetry.Start(ctx, "test.Parent")
	_, child := telemetry.Start(ctx, "test.Child")
	child.End()
	telemetry.End(parent, &scim.Error{Status: 502, Detail: "vendor down"})
}

// TestOTLPHTTPExport sends spans to a collector over OTLP/HTTP as the
// configuration names it: they arrive at /v1/traces when Shutdown flushes.
func TestOTLPHTTPExport(t *testing.T) {
	recv := new(otlpHTTPReceiver)
	srv := httptest.NewServer(recv)
	defer srv.Close()
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: "otlp", Protocol: "http/protobuf",
		Endpoint: srv.URL, ServiceVersion: "v9.9.9", Metrics: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	emit(t.Context())
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	rs, paths := recv.spans()
	names, service, version := exported(rs)
	if strings.Join(names, ",") != "test.Child,test.Parent" && strings.Join(names, ",") != "test.Parent,test.Child" {
		t.Errorf("exported spans %v, want test.Parent and test.Child", names)
	}
	if service != "scim-gateway" || version != "v9.9.9" {
		t.Errorf("resource service.name %q service.version %q, want scim-gateway v9.9.9", service, version)
	}
	for _, p := range paths {
		if p != "/v1/traces" {
			t.Errorf("exported to %s, want /v1/traces", p)
		}
	}
}

// TestOTLPFromEnvironment configures the exporter with the standard
// variables only: exporter, endpoint (the exporter adds /v1/traces) and the
// service name.
func TestOTLPFromEnvironment(t *testing.T) {
	recv := new(otlpHTTPReceiver)
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "scim-gateway-eu")
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Metrics: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if tel.Exporter() != "otlp" {
		t.Errorf("Exporter() = %q, want otlp from OTEL_TRACES_EXPORTER", tel.Exporter())
	}
	emit(t.Context())
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	rs, paths := recv.spans()
	names, service, _ := exported(rs)
	if len(names) != 2 || service != "scim-gateway-eu" {
		t.Errorf("exported %v of service %q, want 2 spans of scim-gateway-eu", names, service)
	}
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Errorf("exported to %v, want /v1/traces", paths)
	}
}

// grpcReceiver is a collector's OTLP/gRPC trace service.
type grpcReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	spans atomic.Int64
	names chan string
}

func (g *grpcReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	names, _, _ := exported(req.ResourceSpans)
	for _, n := range names {
		g.spans.Add(1)
		g.names <- n
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func TestOTLPGRPCExport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recv := &grpcReceiver{names: make(chan string, 16)}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, recv)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()

	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: "otlp", Protocol: "grpc",
		Endpoint: "http://" + ln.Addr().String(), Metrics: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	emit(t.Context())
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := recv.spans.Load(); n != 2 {
		t.Errorf("collector received %d spans, want 2", n)
	}
}

// TestStdoutExporter: the development exporter writes each span as JSON.
func TestStdoutExporter(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  telemetry.Config
		env  string
	}{
		{"config", telemetry.Config{Exporter: "stdout"}, ""},
		{"environment", telemetry.Config{}, "console"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_EXPORTER", tt.env)
			var buf bytes.Buffer
			tt.cfg.Stdout, tt.cfg.Metrics = &buf, ptr(false)
			tel, err := telemetry.Setup(t.Context(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			emit(t.Context())
			if err := tel.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), `"Name":"test.Parent"`) || !strings.Contains(buf.String(), `"Description":"vendor down"`) {
				t.Errorf("stdout exporter wrote:\n%s", buf.String())
			}
		})
	}
}

func TestSetupRejectsUnknownEnvironment(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	if _, err := telemetry.Setup(t.Context(), telemetry.Config{}); err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Errorf("Setup with OTEL_TRACES_EXPORTER=zipkin: %v, want an error naming it", err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	if _, err := telemetry.Setup(t.Context(), telemetry.Config{}); err == nil || !strings.Contains(err.Error(), "protocol") {
		t.Errorf("Setup with OTEL_EXPORTER_OTLP_PROTOCOL=http/json: %v, want an error naming it", err)
	}
}

// TestSampling: a ratio of 0 records no new trace, but a request whose
// caller sampled its trace is recorded (parent-based); with 1 every trace.
func TestSampling(t *testing.T) {
	sampled := func(ratio float64, traceparent string) bool {
		var buf bytes.Buffer
		tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: "none", SampleRatio: ptr(ratio), Metrics: ptr(false), Stdout: &buf})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tel.Shutdown(context.Background()) }()
		ctx := t.Context()
		if traceparent != "" {
			ctx = telemetry.Extract(ctx, http.Header{"Traceparent": {traceparent}})
		}
		_, span := telemetry.Start(ctx, "test.Span")
		defer span.End()
		return span.SpanContext().IsSampled()
	}
	const parentSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const parentNotSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	for _, tt := range []struct {
		ratio       float64
		traceparent string
		want        bool
	}{
		{0, "", false},
		{1, "", true},
		{0, parentSampled, true},
		{1, parentNotSampled, false},
	} {
		if got := sampled(tt.ratio, tt.traceparent); got != tt.want {
			t.Errorf("ratio %v, traceparent %q: sampled %v, want %v", tt.ratio, tt.traceparent, got, tt.want)
		}
	}
}

// TestTraceIDs are the ids the access log shows.
func TestTraceIDs(t *testing.T) {
	if tid, sid := telemetry.TraceIDs(t.Context()); tid != "" || sid != "" {
		t.Errorf("TraceIDs without a span = %q, %q", tid, sid)
	}
	ctx := telemetry.Extract(t.Context(), http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	if tid, sid := telemetry.TraceIDs(ctx); tid != "4bf92f3577b34da6a3ce929d0e0e4736" || sid != "00f067aa0ba902b7" {
		t.Errorf("TraceIDs = %q, %q", tid, sid)
	}
	h := http.Header{}
	telemetry.InjectTraceContext(trace.ContextWithSpanContext(ctx, trace.SpanContextFromContext(ctx)), h)
	if h.Get("Traceparent") != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("injected traceparent %q", h.Get("Traceparent"))
	}
}

// setupMetrics sets up telemetry with metrics and returns a scraper.
func setupMetrics(t *testing.T) func() metrics {
	t.Helper()
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Exporter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	srv := httptest.NewServer(tel.MetricsHandler())
	t.Cleanup(srv.Close)
	g := &gateway{url: srv.URL} // the handler answers at any path, /metrics included
	return func() metrics { return g.scrape(t) }
}

// TestRedisUp: the gauge is absent until the cache registers its check,
// then reports it, and is absent again once unregistered.
func TestRedisUp(t *testing.T) {
	scrape := setupMetrics(t)
	if m := scrape(); m.has("scim_gateway_redis_up") {
		t.Error("scim_gateway_redis_up present without Redis")
	}
	var up atomic.Bool
	up.Store(true)
	unregister := telemetry.RegisterRedisUp(up.Load)
	if v := scrape().value("scim_gateway_redis_up", nil); v != 1 {
		t.Errorf("redis_up = %v with Redis up, want 1", v)
	}
	up.Store(false)
	if m := scrape(); !m.has("scim_gateway_redis_up") || m.value("scim_gateway_redis_up", nil) != 0 {
		t.Errorf("redis_up = %v (present %v) with Redis down, want 0", m.value("scim_gateway_redis_up", nil), m.has("scim_gateway_redis_up"))
	}
	unregister()
	if scrape().has("scim_gateway_redis_up") {
		t.Error("scim_gateway_redis_up present after unregistering")
	}
}

// TestCacheHelper is what the cache decorator calls around a lookup.
func TestCacheHelper(t *testing.T) {
	scrape := setupMetrics(t)
	for _, r := range []telemetry.CacheResult{telemetry.CacheHit, telemetry.CacheHit, telemetry.CacheMiss} {
		_, done := telemetry.StartCache(t.Context(), "Get", "webex")
		done(r, nil)
	}
	_, done := telemetry.StartCache(t.Context(), "Get", "webex")
	done(telemetry.CacheError, errors.New("redis: connection refused"))
	m := scrape()
	for result, want := range map[string]float64{"hit": 2, "miss": 1, "error": 1} {
		if got := m.value("scim_gateway_cache_requests_total", map[string]string{"target": "webex", "result": result}); got != want {
			t.Errorf("cache lookups %s = %v, want %v", result, got, want)
		}
	}
}

// TestMetricsContract records every instrument once and checks the scrape
// against the table of docs/metrics.md: each metric listed is exposed, of
// its type, with exactly its labels (besides the exporter's scope labels).
func TestMetricsContract(t *testing.T) {
	scrape := setupMetrics(t)
	ctx := t.Context()
	telemetry.RecordRequest(ctx, "webex", "users.get", 200, 30*time.Millisecond)
	telemetry.RecordVendorAttempt(ctx, "webex", 429, 10*time.Millisecond)
	telemetry.RecordVendorAttempt(ctx, "webex", 0, time.Second)
	telemetry.RecordVendorRetry(ctx, "webex", telemetry.RetryStatus429)
	telemetry.RecordRateLimitWait(ctx, "webex")
	telemetry.RecordCacheLookup(ctx, "webex", telemetry.CacheHit)
	telemetry.RecordTokenRefresh(ctx, "webex", false)
	defer telemetry.RegisterRedisUp(func() bool { return true })()
	m := scrape()

	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(scim_gateway_[a-z_]+)` \\| `[^`]+` \\| (counter|histogram|gauge) \\| [^|]+ \\| ([^|]+) \\|")
	rows := row.FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 9 {
		t.Fatalf("docs/metrics.md lists %d metrics, want its table of 9", len(rows))
	}
	for _, r := range rows {
		name, kind := r[1], r[2]
		var want []string
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(r[3], -1) {
			want = append(want, l[1])
		}
		series := name
		if kind == "histogram" {
			series = name + "_count"
		}
		s, ok := m.first(series)
		if !ok {
			t.Errorf("%s (%s) is not exposed", name, kind)
			continue
		}
		var got []string
		for k := range s.labels {
			if !strings.HasPrefix(k, "otel_scope_") {
				got = append(got, k)
			}
		}
		if !sameSet(got, want) {
			t.Errorf("%s labels %v, want %v", name, got, want)
		}
		if kind == "histogram" {
			// The contract's buckets, 0.005 to 60 seconds.
			count := m.value(series, nil)
			if first, last := m.value(name+"_bucket", map[string]string{"le": "0.005"}), m.value(name+"_bucket", map[string]string{"le": "60"}); count == 0 || first != 0 || last != count {
				t.Errorf("%s buckets: le=0.005 holds %v, le=60 %v of %v observations; want 0 and all", name, first, last, count)
			}
		}
	}
	if m.value("scim_gateway_vendor_requests_total", map[string]string{"status": "error"}) != 1 {
		t.Error(`a vendor attempt without an answer is not counted with status="error"`)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

func (m metrics) has(name string) bool {
	_, ok := m.first(name)
	return ok
}

func (m metrics) first(name string) (sample, bool) {
	for _, s := range m {
		if s.name == name {
			return s, true
		}
	}
	return sample{}, false
}
