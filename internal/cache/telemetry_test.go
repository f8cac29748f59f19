package cache_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// observed is telemetry set up as the gateway does (Setup installs the
// global providers and the instruments), with spans recorded and the
// Prometheus handler on loopback.
type observed struct {
	rec     *tracetest.SpanRecorder
	tel     *telemetry.Telemetry
	metrics string // the scrape URL
}

func observe(t *testing.T) *observed {
	t.Helper()
	o := &observed{rec: tracetest.NewSpanRecorder()}
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{
		Exporter:       telemetry.ExporterNone,
		SpanProcessors: []sdktrace.SpanProcessor{o.rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	o.tel = tel
	srv := httptest.NewServer(tel.MetricsHandler())
	t.Cleanup(srv.Close)
	o.metrics = srv.URL + "/metrics"
	return o
}

// request returns ctx within a recorded span, as the router's server span
// is, and the span.
func (o *observed) request(ctx context.Context) (context.Context, trace.Span) {
	return o.tel.TracerProvider().Tracer("test").Start(ctx, "request")
}

// lookups returns scim_gateway_cache_requests_total of target by result, as
// scraped.
func (o *observed) lookups(t *testing.T, target string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(o.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		labels, ok := strings.CutPrefix(line, "scim_gateway_cache_requests_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(labels, "} ")
		if !ok || !strings.Contains(labels, `target="`+target+`"`) {
			continue
		}
		_, result, _ := strings.Cut(labels, `result="`)
		result, _, _ = strings.Cut(result, `"`)
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			t.Fatalf("unparsable sample %q", line)
		}
		got[result] += v
	}
	return got
}

// spans returns the ended spans named name, in the order they ended.
func (o *observed) spans(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range o.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// checkLookup checks a cache span: its parent, target and result.
func checkLookup(t *testing.T, s sdktrace.ReadOnlySpan, parent trace.Span, target string, want telemetry.CacheResult) {
	t.Helper()
	if s.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("%s: parent %s, want the request's span %s", s.Name(), s.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if v, _ := attr(s, telemetry.AttrSCIMTarget); v.AsString() != target {
		t.Errorf("%s: scim.target = %q, want %q", s.Name(), v.AsString(), target)
	}
	if v, ok := attr(s, telemetry.AttrCacheHit); !ok || v.AsBool() != (want == telemetry.CacheHit) {
		t.Errorf("%s: cache.hit = %v (set %v), want %v", s.Name(), v.AsBool(), ok, want == telemetry.CacheHit)
	}
	if v, _ := attr(s, telemetry.AttrCacheResult); v.AsString() != string(want) {
		t.Errorf("%s: cache.result = %q, want %q", s.Name(), v.AsString(), want)
	}
	if wantErr := want == telemetry.CacheError; (s.Status().Code == codes.Error) != wantErr {
		t.Errorf("%s: status %v, want an error %v", s.Name(), s.Status(), wantErr)
	}
}

func checkCounts(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for _, r := range []string{"hit", "miss", "error"} {
		if got[r] != want[r] {
			t.Errorf("scim_gateway_cache_requests_total{result=%q} = %v, want %v (all: %v)", r, got[r], want[r], got)
		}
	}
}

// tracedVendor is the memory adapter whose reads make a span, as a vendor
// adapter's calls do, to show where they sit in the trace.
type tracedVendor struct{ *memory.Adapter }

func (v tracedVendor) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	ctx, span := telemetry.Start(ctx, "vendor.Get")
	r, err := v.Adapter.Get(ctx, rt, id)
	telemetry.End(span, err)
	return r, err
}

func (v tracedVendor) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	ctx, span := telemetry.Start(ctx, "vendor.List")
	p, err := v.Adapter.List(ctx, rt, q)
	telemetry.End(span, err)
	return p, err
}

// TestTelemetryGet: a miss then a hit on one id make two cache.Get spans
// in the request's trace, the miss holding the vendor call, and count one
// miss and one hit.
func TestTelemetryGet(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		o := observe(t)
		inner := tracedVendor{memory.New()}
		u := mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "ada@example.com"})
		a := cache.Wrap(inner, s, cache.Options{Target: "webex"})

		ctx, req := o.request(t.Context())
		for range 2 {
			if r, err := a.Get(ctx, scim.UserType, u.ID()); err != nil || r.ID() != u.ID() {
				t.Fatalf("Get = %v, %v", r, err)
			}
		}
		req.End()

		gets := o.spans("cache.Get")
		if len(gets) != 2 {
			t.Fatalf("%d cache.Get spans, want 2", len(gets))
		}
		checkLookup(t, gets[0], req, "webex", telemetry.CacheMiss)
		checkLookup(t, gets[1], req, "webex", telemetry.CacheHit)
		calls := o.spans("vendor.Get")
		if len(calls) != 1 {
			t.Fatalf("%d vendor.Get spans, want 1 (the miss)", len(calls))
		}
		if calls[0].Parent().SpanID() != gets[0].SpanContext().SpanID() {
			t.Error("the vendor call of the miss is not inside its cache.Get span")
		}
		checkCounts(t, o.lookups(t, "webex"), map[string]float64{"miss": 1, "hit": 1})
	})
}

// TestTelemetryLookup: each index lookup is one cache.Lookup span naming
// the attribute and one count. The first finds nothing indexed (the
// vendor's List answers), the second finds the id but reads the resource
// from the vendor, the third is answered by the store alone: miss, miss,
// hit. The read of the candidate is part of the lookup, not a lookup of its
// own.
func TestTelemetryLookup(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		o := observe(t)
		inner := tracedVendor{memory.New()}
		mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "ada@example.com"})
		mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "bob@example.com", "externalId": "e-2"})
		mustCreate(t, inner, scim.GroupType, scim.Resource{"displayName": "Engineering"})
		a := cache.Wrap(inner, s, cache.Options{Target: "webex"})

		ctx, req := o.request(t.Context())
		lookups := []struct {
			rt     *scim.ResourceType
			filter string
			index  string
		}{
			{scim.UserType, `userName eq "ADA@example.com"`, "userName"},
			{scim.UserType, `externalId eq "e-2"`, "externalId"},
			{scim.GroupType, `displayName eq "Engineering"`, "displayName"},
		}
		for _, l := range lookups {
			f, err := filter.Parse(l.filter)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				page, err := a.List(ctx, l.rt, adapters.Query{Filter: f, Count: 10})
				if err != nil || page.TotalResults != 1 {
					t.Fatalf("List(%s) = %v, %v; want one match", l.filter, page, err)
				}
			}
		}
		// Not a lookup the index answers: no span, no count.
		f, err := filter.Parse(`userName sw "ada"`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.List(ctx, scim.UserType, adapters.Query{Filter: f, Count: 10}); err != nil {
			t.Fatal(err)
		}
		req.End()

		spans := o.spans("cache.Lookup")
		if len(spans) != 3*len(lookups) {
			t.Fatalf("%d cache.Lookup spans, want %d", len(spans), 3*len(lookups))
		}
		for i, l := range lookups {
			for j, want := range []telemetry.CacheResult{telemetry.CacheMiss, telemetry.CacheMiss, telemetry.CacheHit} {
				s := spans[3*i+j]
				checkLookup(t, s, req, "webex", want)
				if v, _ := attr(s, "cache.index"); v.AsString() != l.index {
					t.Errorf("%s lookup %d: cache.index = %q, want %q", l.filter, j+1, v.AsString(), l.index)
				}
			}
		}
		if n := len(o.spans("cache.Get")); n != 0 {
			t.Errorf("%d cache.Get spans, want none: the candidate's read is part of the lookup", n)
		}
		checkCounts(t, o.lookups(t, "webex"), map[string]float64{"miss": 6, "hit": 3})
	})
}

// failing is a store that never answers, as Redis does while it is down.
type failing struct{}

var errDown = errors.New("redis: connection refused")

func (failing) Get(context.Context, ...string) ([][]byte, error)         { return nil, errDown }
func (failing) Set(context.Context, time.Duration, ...cache.Entry) error { return errDown }
func (failing) Add(context.Context, string, []byte, time.Duration, ...[]byte) (bool, error) {
	return false, errDown
}
func (failing) Delete(context.Context, ...string) error { return errDown }

// TestTelemetryStoreDown: a lookup the vendor answers because the store
// failed is an error, in its span (whose status is an error) and its count,
// and the caller still gets its answer. A write's failed invalidation
// marks its cache.Invalidate span.
func TestTelemetryStoreDown(t *testing.T) {
	o := observe(t)
	inner := tracedVendor{memory.New()}
	u := mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "ada@example.com"})
	a := cache.Wrap(inner, failing{}, cache.Options{Target: "webex"})

	ctx, req := o.request(t.Context())
	if r, err := a.Get(ctx, scim.UserType, u.ID()); err != nil || r.ID() != u.ID() {
		t.Fatalf("Get = %v, %v", r, err)
	}
	f, err := filter.Parse(`userName eq "ada@example.com"`)
	if err != nil {
		t.Fatal(err)
	}
	if page, err := a.List(ctx, scim.UserType, adapters.Query{Filter: f, Count: 10}); err != nil || page.TotalResults != 1 {
		t.Fatalf("List = %v, %v", page, err)
	}
	u["displayName"] = "Ada"
	if _, err := a.Replace(ctx, scim.UserType, u.ID(), u, ""); err != nil {
		t.Fatal(err)
	}
	// Dirty now: the next lookup first tries to start a new generation.
	if _, err := a.Get(ctx, scim.UserType, u.ID()); err != nil {
		t.Fatal(err)
	}
	req.End()

	gets, lookups := o.spans("cache.Get"), o.spans("cache.Lookup")
	if len(gets) != 2 || len(lookups) != 1 {
		t.Fatalf("%d cache.Get and %d cache.Lookup spans, want 2 and 1", len(gets), len(lookups))
	}
	for _, s := range append(gets, lookups...) {
		checkLookup(t, s, req, "webex", telemetry.CacheError)
		if !strings.Contains(s.Status().Description, "connection refused") {
			t.Errorf("%s: status %q, want the store's failure", s.Name(), s.Status().Description)
		}
	}
	inv := o.spans("cache.Invalidate")
	if len(inv) != 1 || inv[0].Status().Code != codes.Error {
		t.Fatalf("cache.Invalidate spans %v, want one marked as an error", inv)
	}
	checkCounts(t, o.lookups(t, "webex"), map[string]float64{"error": 3})
}

// TestTelemetryInvalidate: a write within a recorded trace shows what it
// invalidated.
func TestTelemetryInvalidate(t *testing.T) {
	o := observe(t)
	inner := memory.New()
	u := mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "ada@example.com"})
	a := cache.Wrap(inner, cache.NewMemory(0, nil), cache.Options{Target: "webex"})

	ctx, req := o.request(t.Context())
	mustGet(t, a, scim.UserType, u.ID()) // so that the write knows the user as it was
	u["title"] = "Engineer"              // no name changes: the user's entry alone
	if _, err := a.Replace(ctx, scim.UserType, u.ID(), u, ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, scim.UserType, u.ID(), ""); err != nil { // every entry
		t.Fatal(err)
	}
	req.End()

	inv := o.spans("cache.Invalidate")
	if len(inv) != 2 {
		t.Fatalf("%d cache.Invalidate spans, want 2", len(inv))
	}
	for i, want := range []struct {
		marks int64
		gen   bool
	}{{1, false}, {0, true}} {
		s := inv[i]
		if s.Parent().SpanID() != req.SpanContext().SpanID() || s.Status().Code == codes.Error {
			t.Errorf("cache.Invalidate %d: parent %s, status %v", i, s.Parent().SpanID(), s.Status())
		}
		marks, _ := attr(s, "cache.marks")
		gen, _ := attr(s, "cache.new_generation")
		if marks.AsInt64() != want.marks || gen.AsBool() != want.gen {
			t.Errorf("cache.Invalidate %d: marks %d, new generation %v; want %d, %v", i, marks.AsInt64(), gen.AsBool(), want.marks, want.gen)
		}
		if v, _ := attr(s, telemetry.AttrSCIMTarget); v.AsString() != "webex" {
			t.Errorf("cache.Invalidate %d: scim.target = %q", i, v.AsString())
		}
	}
}

// TestTelemetryUntraced: outside a recorded trace a lookup is counted but
// makes no span; without Options.Target the request's target labels it.
func TestTelemetryUntraced(t *testing.T) {
	o := observe(t)
	inner := memory.New()
	u := mustCreate(t, inner, scim.UserType, scim.Resource{"userName": "ada@example.com"})
	a := cache.Wrap(inner, cache.NewMemory(0, nil), cache.Options{})

	ctx := telemetry.WithTarget(t.Context(), "ringcentral")
	// A span that is not sampled, as under sampleRatio 0.
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	for _, ctx := range []context.Context{ctx, trace.ContextWithRemoteSpanContext(ctx, unsampled)} {
		if _, err := a.Get(ctx, scim.UserType, u.ID()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(o.rec.Ended()); n != 0 {
		t.Errorf("%d spans ended, want none", n)
	}
	checkCounts(t, o.lookups(t, "ringcentral"), map[string]float64{"miss": 1, "hit": 1})
}

// BenchmarkTelemetry is a Get answered by the in-process store: without
// telemetry (no Setup), with metrics only, and within a recorded trace.
func BenchmarkTelemetry(b *testing.B) {
	inner := memory.New()
	u, err := inner.Create(b.Context(), scim.UserType, scim.Resource{"userName": "ada@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, ctx context.Context) {
		a := cache.Wrap(inner, cache.NewMemory(0, nil), cache.Options{Target: "webex"})
		if _, err := a.Get(ctx, scim.UserType, u.ID()); err != nil { // fill
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Get(ctx, scim.UserType, u.ID()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("off", func(b *testing.B) { run(b, b.Context()) })
	setup := func(b *testing.B) *telemetry.Telemetry {
		tel, err := telemetry.Setup(b.Context(), telemetry.Config{Exporter: telemetry.ExporterNone})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
		return tel
	}
	b.Run("metrics", func(b *testing.B) {
		setup(b)
		run(b, b.Context())
	})
	b.Run("traced", func(b *testing.B) {
		tel := setup(b)
		ctx, span := tel.TracerProvider().Tracer("bench").Start(b.Context(), "request")
		defer span.End()
		run(b, ctx)
	})
}
