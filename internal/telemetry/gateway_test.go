package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

const callerToken = "caller-secret-token"

// authn admits callerToken to every target.
type authn struct{}

func (authn) Authenticate(_ context.Context, token string) (*auth.Principal, error) {
	if token == callerToken {
		return &auth.Principal{Subject: "idp", Targets: []string{"*"}, DefaultTarget: "webex"}, nil
	}
	return nil, &scim.Error{Status: http.StatusUnauthorized, Detail: "unknown bearer token"}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gateway is the whole request path on loopback: router, engine, the Webex
// adapter and its outbound client, and the Webex simulator, with telemetry
// set up as serve does (Setup installs the globals) and spans recorded.
type gateway struct {
	url  string
	sim  *webextest.Server
	rec  *tracetest.SpanRecorder
	tel  *telemetry.Telemetry
	logs *syncBuffer
}

type gatewayOptions struct {
	sim    []webextest.Option
	tokens func(sim *webextest.Server) outbound.TokenSource // nil: a static token
}

func newGateway(t *testing.T, o gatewayOptions) *gateway {
	t.Helper()
	g := &gateway{rec: tracetest.NewSpanRecorder(), logs: new(syncBuffer)}
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{
		Exporter:       telemetry.ExporterNone,
		ServiceVersion: "v1.2.3-test",
		SpanProcessors: []sdktrace.SpanProcessor{g.rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	g.tel = tel
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelInfo})))

	g.sim = webextest.NewServer(t, append([]webextest.Option{webextest.WithSeed(3)}, o.sim...)...)
	tokens := outbound.StaticToken(g.sim.IssueToken())
	if o.tokens != nil {
		tokens = o.tokens(g.sim)
	}
	// Retry waits are skipped (the clock's sleep returns at once), so
	// that a 429 with Retry-After: 1 costs no time.
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	a, err := webex.New(g.sim.URL, g.sim.OrgID(), tokens,
		[]outbound.Option{outbound.WithClock(time.Now, noSleep), outbound.WithLogger(log)}, webex.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	h, err := router.New(router.Config{
		Targets:       router.NewTargets(map[string]*engine.Engine{"webex": engine.New(a, engine.Options{})}),
		Authenticator: authn{},
		PublicURL:     "https://scim.example.com",
		Logger:        log,
		Metrics:       tel.MetricsHandler(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// do sends a request and reads the answer; header may set traceparent.
func (g *gateway) do(t *testing.T, method, path, body string, header map[string]string, want int) []byte {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(t.Context(), method, g.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Authorization", "Bearer "+callerToken)
	if body != "" {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d\n%s", method, path, resp.StatusCode, want, b)
	}
	return b
}

// serverSpans waits until n server spans have ended (a server span ends
// after its response is written) and returns every span ended by then.
func (g *gateway) serverSpans(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		spans := g.rec.Ended()
		got := 0
		for _, s := range spans {
			if s.SpanKind() == trace.SpanKindServer {
				got++
			}
		}
		if got >= n || time.Now().After(deadline) {
			if got != n {
				t.Fatalf("%d server spans ended, want %d", got, n)
			}
			return spans
		}
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func children(spans []sdktrace.ReadOnlySpan, parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

const (
	incomingTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	incomingParent = "00f067aa0ba902b7"
	traceparent    = "00-" + incomingTrace + "-" + incomingParent + "-01"
	// The seeded user's userName is the value searched for: an email,
	// which no span, label or log line may hold.
	seedUser = "seed0001@example.com"
)

// TestSpanTree follows one list request with a filter that Webex runs in
// part: server span → engine.Search (pushdown and residual) → the Webex
// adapter's vendor call → its HTTP client span, all in the caller's trace,
// and the simulator receives a traceparent naming the client span.
func TestSpanTree(t *testing.T) {
	g := newGateway(t, gatewayOptions{})
	filter := `userName eq "` + seedUser + `" and active eq true`
	g.do(t, "GET", "/targets/webex/scim/v2/Users?filter="+url.QueryEscape(filter), "",
		map[string]string{"traceparent": traceparent}, 200)
	spans := g.serverSpans(t, 1)

	server := named(spans, "GET /targets/{target}/scim/v2/Users")
	if len(server) != 1 {
		t.Fatalf("no server span named by the route; spans: %v", spanNames(spans))
	}
	srv := server[0]
	if srv.SpanContext().TraceID().String() != incomingTrace || srv.Parent().SpanID().String() != incomingParent {
		t.Errorf("server span in trace %s under %s, want the caller's %s under %s",
			srv.SpanContext().TraceID(), srv.Parent().SpanID(), incomingTrace, incomingParent)
	}
	if v := attr(srv, telemetry.AttrTarget).AsString(); v != "webex" {
		t.Errorf("server span target %q, want webex", v)
	}
	if v := attr(srv, telemetry.AttrOperation).AsString(); v != "users.list" {
		t.Errorf("server span operation %q, want users.list", v)
	}
	if got := srv.Resource().Set(); !hasAttr(got, "service.name", "scim-gateway") || !hasAttr(got, "service.version", "v1.2.3-test") {
		t.Errorf("resource %v, want service.name scim-gateway and service.version v1.2.3-test", got.Encoded(attribute.DefaultEncoder()))
	}

	plan := named(children(spans, srv), "engine.Search")
	if len(plan) != 1 {
		t.Fatalf("server span's children %v, want one engine.Search", spanNames(children(spans, srv)))
	}
	if v := attr(plan[0], telemetry.AttrFilterPushdown).AsString(); v != scim.UserSchema+`:userName eq "?"` {
		t.Errorf("pushdown %q, want the userName comparison with its value redacted", v)
	}
	if v := attr(plan[0], telemetry.AttrFilterResidual).AsString(); v != scim.UserSchema+`:active eq "?"` {
		t.Errorf("residual %q, want the active comparison with its value redacted", v)
	}
	if !attr(plan[0], telemetry.AttrSearchEmulated).AsBool() {
		t.Error("scim.search.emulated false for a search with a residual filter")
	}

	calls := children(spans, plan[0])
	if len(calls) == 0 {
		t.Fatal("engine.Search has no vendor call below it")
	}
	var clientIDs []string
	for _, c := range calls {
		if !strings.HasPrefix(c.Name(), "webex.") || c.SpanKind() != trace.SpanKindInternal {
			t.Errorf("vendor call span %q kind %v, want webex.* internal", c.Name(), c.SpanKind())
		}
		if v := attr(c, telemetry.AttrVendorStatus).AsInt64(); v != 200 {
			t.Errorf("%s: vendor.status %d, want 200", c.Name(), v)
		}
		if v := attr(c, telemetry.AttrVendorRetries); v.Type() != attribute.INT64 || v.AsInt64() != 0 {
			t.Errorf("%s: vendor.retries %v, want 0", c.Name(), v.String())
		}
		if v := attr(c, telemetry.AttrVendorTrackID).AsString(); !strings.HasPrefix(v, "SCIMGW_") {
			t.Errorf("%s: vendor.tracking_id %q, want the TrackingID the adapter sent and Webex echoed", c.Name(), v)
		}
		if v := attr(c, telemetry.AttrSCIMTarget).AsString(); v != "webex" {
			t.Errorf("%s: scim.target %q, want webex", c.Name(), v)
		}
		hs := children(spans, c)
		if len(hs) != 1 || hs[0].SpanKind() != trace.SpanKindClient || hs[0].Name() != "GET" {
			t.Fatalf("%s: children %v, want one GET client span", c.Name(), spanNames(hs))
		}
		if v := attr(hs[0], "http.response.status_code").AsInt64(); v != 200 {
			t.Errorf("client span status %d, want 200", v)
		}
		clientIDs = append(clientIDs, hs[0].SpanContext().SpanID().String())
	}

	// What the vendor saw: the caller's trace, under our client span.
	reqs := g.sim.Requests()
	if len(reqs) != len(calls) {
		t.Fatalf("simulator saw %d requests, want %d (one per vendor call)", len(reqs), len(calls))
	}
	for i, r := range reqs {
		parts := strings.Split(r.Header.Get("traceparent"), "-")
		if len(parts) != 4 || parts[1] != incomingTrace || parts[2] != clientIDs[i] {
			t.Errorf("request %d traceparent %q, want trace %s and parent %s (the client span)", i, r.Header.Get("traceparent"), incomingTrace, clientIDs[i])
		}
		if r.Header.Get("baggage") != "" {
			t.Errorf("request %d carries baggage to the vendor: %q", i, r.Header.Get("baggage"))
		}
	}

	// No span holds the searched email, the filter's values or a token.
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if v := kv.Value.String(); strings.Contains(v, seedUser) || strings.Contains(v, "Bearer") || strings.Contains(v, callerToken) {
				t.Errorf("span %s attribute %s = %q", s.Name(), kv.Key, v)
			}
		}
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

func hasAttr(set *attribute.Set, key, want string) bool {
	v, ok := set.Value(attribute.Key(key))
	return ok && v.AsString() == want
}

// TestRetriesAreClientSpans makes the vendor answer the first request 429
// with Retry-After: one vendor call span holds both attempts as client
// spans, and the retry, the wait and the statuses are counted.
func TestRetriesAreClientSpans(t *testing.T) {
	var n atomic.Int32
	g := newGateway(t, gatewayOptions{sim: []webextest.Option{webextest.WithFault(func(r *http.Request) webextest.Fault {
		if n.Add(1) == 1 {
			return webextest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}
		}
		return webextest.Fault{}
	})}})
	g.do(t, "GET", "/targets/webex/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+seedUser+`"`), "", nil, 200)
	spans := g.serverSpans(t, 1)

	var call sdktrace.ReadOnlySpan
	for _, s := range spans {
		if strings.HasPrefix(s.Name(), "webex.") && attr(s, telemetry.AttrVendorRetries).AsInt64() > 0 {
			call = s
		}
	}
	if call == nil {
		t.Fatalf("no vendor call span with retries; spans %v", spanNames(spans))
	}
	if r, a, w := attr(call, telemetry.AttrVendorRetries).AsInt64(), attr(call, telemetry.AttrVendorAttempts).AsInt64(),
		attr(call, telemetry.AttrVendorWaits).AsInt64(); r != 1 || a != 2 || w != 1 {
		t.Errorf("vendor.retries %d, vendor.attempts %d, vendor.rate_limit_waits %d; want 1, 2, 1", r, a, w)
	}
	hs := children(spans, call)
	if len(hs) != 2 {
		t.Fatalf("vendor call has %d client spans, want 2", len(hs))
	}
	if s0, s1 := attr(hs[0], "http.response.status_code").AsInt64(), attr(hs[1], "http.response.status_code").AsInt64(); s0 != 429 || s1 != 200 {
		t.Errorf("attempt statuses %d, %d; want 429, 200", s0, s1)
	}
	if v := attr(hs[1], "http.request.resend_count").AsInt64(); v != 1 {
		t.Errorf("second attempt http.request.resend_count %d, want 1", v)
	}
	if id0, id1 := attr(hs[0], telemetry.AttrVendorTrackID).AsString(), attr(hs[1], telemetry.AttrVendorTrackID).AsString(); id0 == "" || id1 == "" {
		t.Errorf("attempts' tracking ids %q, %q; want both", id0, id1)
	}

	m := g.scrape(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"scim_gateway_vendor_requests_total", map[string]string{"target": "webex", "status": "429"}, 1},
		{"scim_gateway_vendor_retries_total", map[string]string{"target": "webex", "reason": "status_429"}, 1},
		{"scim_gateway_rate_limit_waits_total", map[string]string{"target": "webex"}, 1},
		{"scim_gateway_requests_total", map[string]string{"target": "webex", "operation": "users.list", "status": "200"}, 1},
	} {
		if got := m.value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	calls := m.value("scim_gateway_vendor_requests_total", map[string]string{"target": "webex", "status": "200"})
	if count := m.value("scim_gateway_vendor_request_duration_seconds_count", map[string]string{"target": "webex"}); calls < 1 || count != calls+1 {
		t.Errorf("vendor duration count %v with %v answers 200 and one 429, want one observation per attempt", count, calls)
	}
}

// TestTokenRefreshCounted gets its vendor token from the simulator's
// refresh_token grant: the fetch is counted for the target, and traced as a
// child of the vendor call that needed it.
func TestTokenRefreshCounted(t *testing.T) {
	g := newGateway(t, gatewayOptions{tokens: func(sim *webextest.Server) outbound.TokenSource {
		sim.RegisterClient("client-id", "client-secret")
		grant := outbound.RefreshGrant{HTTPClient: sim.Client(), TokenURL: sim.TokenURL(),
			ClientID: "client-id", ClientSecret: "client-secret", RefreshToken: sim.IssueRefreshToken("client-id"),
			AuthStyle: outbound.AuthStyleParams}
		return outbound.NewTokenCache(grant.Fetch(), time.Minute)
	}})
	g.do(t, "GET", "/targets/webex/scim/v2/Users?count=1", "", nil, 200)
	g.do(t, "GET", "/targets/webex/scim/v2/Users?count=1", "", nil, 200)
	spans := g.serverSpans(t, 2)
	refresh := named(spans, "outbound.TokenRefresh")
	if len(refresh) != 1 {
		t.Fatalf("%d outbound.TokenRefresh spans, want 1 (the second request uses the cached token)", len(refresh))
	}
	var parent sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanContext().SpanID() == refresh[0].Parent().SpanID() {
			parent = s
		}
	}
	if parent == nil || !strings.HasPrefix(parent.Name(), "webex.") {
		t.Errorf("token refresh span's parent %v, want the vendor call", parent)
	}
	m := g.scrape(t)
	if got := m.value("scim_gateway_token_refreshes_total", map[string]string{"target": "webex", "result": "success"}); got != 1 {
		t.Errorf("token refreshes %v, want 1", got)
	}
}

// TestLogsHoldNoSecrets runs writes, searches and a retried vendor call
// with the router's, the outbound client's and the adapter's logs at info
// level: no line holds the caller's or the vendor's token, a token in the
// query, a password, or the user's email; access-log lines carry trace ids.
func TestLogsHoldNoSecrets(t *testing.T) {
	var n atomic.Int32
	g := newGateway(t, gatewayOptions{sim: []webextest.Option{webextest.WithFault(func(r *http.Request) webextest.Fault {
		if r.Method == http.MethodGet && n.Add(1) == 1 {
			return webextest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Second}
		}
		return webextest.Fault{}
	})}})
	const (
		email    = "grace.hopper@example.com"
		password = "p4ssw0rd-value"
	)
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + email + `",` +
		`"emails":[{"value":"` + email + `","type":"work","primary":true}],"password":"` + password + `"}`
	g.do(t, "GET", "/targets/webex/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+email+`"`)+"&access_token=query-secret", "", nil, 200)
	g.do(t, "POST", "/targets/webex/scim/v2/Users?token=query-secret-2", body, nil, 201)
	g.do(t, "POST", "/targets/webex/scim/v2/Users", body, nil, 409)
	g.serverSpans(t, 3)

	logs := g.logs.String()
	if !strings.Contains(logs, `"msg":"outbound retry"`) {
		t.Fatalf("the retried vendor call was not logged at info:\n%s", logs)
	}
	vendorToken := ""
	for _, r := range g.sim.Requests() {
		vendorToken = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	for _, s := range []string{callerToken, vendorToken, "query-secret", "query-secret-2", password, email, "Bearer"} {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, logs)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	lines := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"msg":"request"`) {
			lines++
		}
		// Every line is logged within a request: the access log and the
		// client's retry line alike carry the trace ids, once.
		if strings.Count(line, `"trace_id":"`) != 1 || strings.Count(line, `"span_id":"`) != 1 {
			t.Errorf("log line without exactly one trace_id and span_id: %s", line)
		}
	}
	if lines != 3 {
		t.Errorf("%d access-log lines, want 3", lines)
	}
}

// metrics is a scrape in the Prometheus text format.
type metrics []sample

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

func (g *gateway) scrape(t *testing.T) metrics {
	t.Helper()
	resp, err := http.Get(g.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	var m metrics
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s, ok := parseSample(line)
		if !ok {
			t.Fatalf("unparsable sample %q", line)
		}
		m = append(m, s)
	}
	return m
}

// parseSample parses `name{k="v",...} value`; label values here never
// hold an escaped quote.
func parseSample(line string) (sample, bool) {
	s := sample{labels: map[string]string{}}
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		s.name = line[:i]
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return s, false
		}
		for _, kv := range strings.Split(line[i+1:j], `",`) {
			k, v, ok := strings.Cut(kv, `="`)
			if !ok {
				continue
			}
			s.labels[k] = strings.TrimSuffix(v, `"`)
		}
		rest = strings.TrimSpace(line[j+1:])
	} else {
		var ok bool
		s.name, rest, ok = strings.Cut(line, " ")
		if !ok {
			return s, false
		}
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	s.value = v
	return s, err == nil
}

// value sums the samples of name whose labels include want.
func (m metrics) value(name string, want map[string]string) float64 {
	var sum float64
	for _, s := range m {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			sum += s.value
		}
	}
	return sum
}
