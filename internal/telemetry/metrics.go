package telemetry

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The instruments of docs/metrics.md, which is their contract with the
// dashboard: names, units and labels change only together with it.
const (
	meterName = "github.com/scim-gateway/scim-gateway"

	metricRequests        = "scim_gateway.requests"
	metricRequestDuration = "scim_gateway.request.duration"
	metricVendorRequests  = "scim_gateway.vendor.requests"
	metricVendorDuration  = "scim_gateway.vendor.request.duration"
	metricVendorRetries   = "scim_gateway.vendor.retries"
	metricRateLimitWaits  = "scim_gateway.rate_limit.waits"
	metricCacheRequests   = "scim_gateway.cache.requests"
	metricTokenRefreshes  = "scim_gateway.token.refreshes"
	metricRedisUp         = "scim_gateway.redis.up"
)

// durationBuckets suit both the gateway and vendors, in seconds
// (docs/metrics.md).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Values of the reason label of scim_gateway_vendor_retries_total.
const (
	RetryStatus429 = "status_429" // a 429 answer
	RetryStatus5xx = "status_5xx" // a 502, 503 or 504 answer
	RetryTransport = "transport"  // no answer: dial, TLS, timeout, reset
	RetryToken     = "token"      // a 401 answered by re-sending with a fresh token
)

// CacheResult is the result label of scim_gateway_cache_requests_total.
type CacheResult string

// The results of a cache lookup.
const (
	CacheHit   CacheResult = "hit"
	CacheMiss  CacheResult = "miss"
	CacheError CacheResult = "error" // the store failed; the vendor answered
)

// StatusError is the status label of a vendor attempt that got no answer.
const StatusError = "error"

type instruments struct {
	requests        metric.Int64Counter
	requestDuration metric.Float64Histogram
	vendorRequests  metric.Int64Counter
	vendorDuration  metric.Float64Histogram
	vendorRetries   metric.Int64Counter
	rateLimitWaits  metric.Int64Counter
	cacheRequests   metric.Int64Counter
	tokenRefreshes  metric.Int64Counter
	redisUp         metric.Int64ObservableGauge
	reg             metric.Registration
}

// active holds the instruments the Record functions write to: Setup's, or
// nil (nothing is recorded).
var active atomic.Pointer[instruments]

// newInstruments creates the gateway's instruments on mp. The OpenTelemetry
// API never fails instrument creation for valid names: an error would come
// with a no-op instrument, which is what we would fall back to anyway.
func newInstruments(mp metric.MeterProvider) *instruments {
	m := mp.Meter(meterName)
	in := new(instruments)
	in.requests, _ = m.Int64Counter(metricRequests, metric.WithUnit("{request}"),
		metric.WithDescription("SCIM requests answered, counted when the response is written."))
	in.requestDuration, _ = m.Float64Histogram(metricRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("Time from the request's arrival to its last response byte."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	in.vendorRequests, _ = m.Int64Counter(metricVendorRequests, metric.WithUnit("{request}"),
		metric.WithDescription("Vendor API calls, one per attempt."))
	in.vendorDuration, _ = m.Float64Histogram(metricVendorDuration, metric.WithUnit("s"),
		metric.WithDescription("Time of one vendor attempt, from sending to the whole response body."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	in.vendorRetries, _ = m.Int64Counter(metricVendorRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("Vendor attempts that were retried."))
	in.rateLimitWaits, _ = m.Int64Counter(metricRateLimitWaits, metric.WithUnit("{wait}"),
		metric.WithDescription("Vendor calls that waited before being sent, for the rate limit or a vendor Retry-After."))
	in.cacheRequests, _ = m.Int64Counter(metricCacheRequests, metric.WithUnit("{lookup}"),
		metric.WithDescription("Cache lookups."))
	in.tokenRefreshes, _ = m.Int64Counter(metricTokenRefreshes, metric.WithUnit("{fetch}"),
		metric.WithDescription("Vendor access tokens fetched from a token endpoint."))
	// No unit: the Prometheus exporter would turn "1" into a _ratio suffix.
	in.redisUp, _ = m.Int64ObservableGauge(metricRedisUp,
		metric.WithDescription("1 when the last Redis check succeeded, 0 while serving without Redis."))
	in.reg, _ = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		observeRedis(o, in.redisUp)
		return nil
	}, in.redisUp)
	return in
}

func install(in *instruments) { active.Store(in) }

// uninstall stops recording to in, unless a later Setup replaced it.
func uninstall(in *instruments) {
	if in.reg != nil {
		_ = in.reg.Unregister()
	}
	active.CompareAndSwap(in, nil)
}

func attrs(kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(kv...))
}

// RecordRequest counts a SCIM request answered with status and its
// duration, under the target's name ("" when none was resolved) and the
// operation (see docs/metrics.md for both label value sets). ctx should hold
// the request's span, which becomes the exemplar of the observation.
func RecordRequest(ctx context.Context, target, operation string, status int, d time.Duration) {
	in := active.Load()
	if in == nil {
		return
	}
	t, op := attribute.String("target", target), attribute.String("operation", operation)
	in.requests.Add(ctx, 1, attrs(t, op, attribute.String("status", strconv.Itoa(status))))
	in.requestDuration.Record(ctx, d.Seconds(), attrs(t, op))
}

// RecordVendorAttempt counts one attempt of a vendor call of target and its
// duration; status is the HTTP status, or 0 when no answer came.
func RecordVendorAttempt(ctx context.Context, target string, status int, d time.Duration) {
	in := active.Load()
	if in == nil {
		return
	}
	st := StatusError
	if status > 0 {
		st = strconv.Itoa(status)
	}
	t := attribute.String("target", target)
	in.vendorRequests.Add(ctx, 1, attrs(t, attribute.String("status", st)))
	in.vendorDuration.Record(ctx, d.Seconds(), attrs(t))
}

// RecordVendorRetry counts a vendor attempt of target that is retried, for
// reason (RetryStatus429, RetryStatus5xx, RetryTransport, RetryToken).
func RecordVendorRetry(ctx context.Context, target, reason string) {
	if in := active.Load(); in != nil {
		in.vendorRetries.Add(ctx, 1, attrs(attribute.String("target", target), attribute.String("reason", reason)))
	}
}

// RecordRateLimitWait counts a vendor call of target that waited before
// being sent (client-side rate limit, or a target paused by Retry-After).
func RecordRateLimitWait(ctx context.Context, target string) {
	if in := active.Load(); in != nil {
		in.rateLimitWaits.Add(ctx, 1, attrs(attribute.String("target", target)))
	}
}

// RecordTokenRefresh counts an access token fetched for target from a token
// endpoint (not served from the token cache), successful or not.
func RecordTokenRefresh(ctx context.Context, target string, ok bool) {
	in := active.Load()
	if in == nil {
		return
	}
	result := "success"
	if !ok {
		result = "failure"
	}
	in.tokenRefreshes.Add(ctx, 1, attrs(attribute.String("target", target), attribute.String("result", result)))
}

// RecordCacheLookup counts a cache lookup of target (a resource by id, or
// the userName/externalId index) with its result. StartCache records it too.
func RecordCacheLookup(ctx context.Context, target string, result CacheResult) {
	if in := active.Load(); in != nil {
		in.cacheRequests.Add(ctx, 1, attrs(attribute.String("target", target), attribute.String("result", string(result))))
	}
}

// redisChecks are the functions RegisterRedisUp registered.
var redisChecks struct {
	sync.Mutex
	next int
	m    map[int]func() bool
}

// RegisterRedisUp makes scim_gateway_redis_up report up() at each scrape:
// 1 when the replica's last Redis check succeeded, 0 while it serves without
// Redis. up must be cheap and safe for concurrent use (report a stored
// state, don't ping). Without a registration the series is absent, as it
// should be when no Redis is configured. The returned func unregisters.
func RegisterRedisUp(up func() bool) (unregister func()) {
	redisChecks.Lock()
	defer redisChecks.Unlock()
	if redisChecks.m == nil {
		redisChecks.m = map[int]func() bool{}
	}
	id := redisChecks.next
	redisChecks.next++
	redisChecks.m[id] = up
	return func() {
		redisChecks.Lock()
		delete(redisChecks.m, id)
		redisChecks.Unlock()
	}
}

// observeRedis reports the worst of the registered checks (one Redis per
// replica in practice).
func observeRedis(o metric.Observer, g metric.Int64ObservableGauge) {
	redisChecks.Lock()
	defer redisChecks.Unlock()
	if len(redisChecks.m) == 0 {
		return
	}
	v := int64(1)
	for _, up := range redisChecks.m {
		if !up() {
			v = 0
		}
	}
	o.ObserveInt64(g, v)
}
