package outbound

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// Defaults applied by New before the options.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 4
	DefaultBackoffBase      = 200 * time.Millisecond
	DefaultBackoffMax       = 10 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second // WX-SDK RETRY_429_MAX_WAIT, VENDORS.md 1.11
	DefaultWait429          = 5 * time.Second  // WX-SDK's wait when a 429 has no Retry-After, VENDORS.md 1.11
	DefaultBreakerFailures  = 10
	DefaultBreakerCooldown  = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
	DefaultUserAgent        = "scim-gateway"
)

// Option configures a Client. Options ignore nil and zero values, so a
// Config field left unset keeps the default.
type Option func(*options)

type options struct {
	hc        *http.Client
	timeout   time.Duration
	retry     RetryPolicy
	limit     rate.Limit
	burst     int
	shared    Limiter // WithLimiter (limiter.go); replaces limit and burst
	breaker   BreakerPolicy
	hooks     []func(*http.Request)
	wraps     []func(http.RoundTripper) http.RoundTripper
	log       *slog.Logger
	userAgent string
	maxBody   int64
	logHeader []string
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	tp        trace.TracerProvider // nil: the context's, else the global one (telemetry.go)
}

// RetryPolicy says how often and how long Do retries. Zero fields keep the
// defaults when passed to WithRetry.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most, the first
	// time included (1 means no retries). The one re-send after a 401 with
	// a fresh token does not count. Default 4.
	MaxAttempts int
	// Base is the backoff before the first retry; it doubles for each
	// further retry up to Max, and each wait is jittered to [d/2, d).
	// Defaults 200ms and 10s.
	Base, Max time.Duration
	// MaxRetryAfter is the longest wait a vendor may ask for (Retry-After)
	// that Do still sleeps; a longer one ends Do at once with the vendor's
	// answer. Default 60s (WX-SDK's cap, VENDORS.md 1.11).
	MaxRetryAfter time.Duration
	// Wait429 is the wait assumed for a 429 without Retry-After. Default 5s
	// (WX-SDK, VENDORS.md 1.11). A 503 without Retry-After uses the backoff.
	Wait429 time.Duration
}

// BreakerPolicy configures the circuit breaker. Zero fields keep the
// defaults when passed to WithBreaker; Failures < 0 switches it off.
type BreakerPolicy struct {
	// Failures is how many failures in a row (transport errors, timeouts
	// and 5xx answers other than 501 and 505; 4xx answers are the vendor
	// working) open the breaker. Default 10.
	Failures int
	// Cooldown is how long the breaker stays open before it lets one probe
	// request through (half-open). Default 30s.
	Cooldown time.Duration
}

func defaultOptions() options {
	return options{
		timeout: DefaultTimeout,
		retry: RetryPolicy{
			MaxAttempts:   DefaultMaxAttempts,
			Base:          DefaultBackoffBase,
			Max:           DefaultBackoffMax,
			MaxRetryAfter: DefaultMaxRetryAfter,
			Wait429:       DefaultWait429,
		},
		breaker:   BreakerPolicy{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown},
		userAgent: DefaultUserAgent,
		maxBody:   DefaultMaxResponseBytes,
		now:       time.Now,
		sleep:     sleepCtx,
	}
}

// WithHTTPClient sends the requests through hc (its Transport, redirect
// policy and Timeout) instead of the client's own tuned one; tests pass the
// simulator's client. The per-attempt timeout still applies.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc != nil {
			o.hc = hc
		}
	}
}

// WithRoundTripper wraps the transport, outermost last: instrumentation
// (e.g. an OpenTelemetry transport) goes here. Nil is ignored.
func WithRoundTripper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) {
		if wrap != nil {
			o.wraps = append(o.wraps, wrap)
		}
	}
}

// WithTimeout bounds each attempt (connect, send, and reading the whole
// answer). Default 30s.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithRetry sets the retry policy; its zero fields keep the defaults.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) {
		if p.MaxAttempts > 0 {
			o.retry.MaxAttempts = p.MaxAttempts
		}
		if p.Base > 0 {
			o.retry.Base = p.Base
		}
		if p.Max > 0 {
			o.retry.Max = p.Max
		}
		if p.MaxRetryAfter > 0 {
			o.retry.MaxRetryAfter = p.MaxRetryAfter
		}
		if p.Wait429 > 0 {
			o.retry.Wait429 = p.Wait429
		}
	}
}

// WithRateLimit limits the requests sent to the target to r per second
// with bursts of burst (every attempt counts). A zero r is ignored (no
// limit); a burst below 1 becomes max(1, ceil(r)).
func WithRateLimit(r rate.Limit, burst int) Option {
	return func(o *options) {
		if r > 0 {
			o.limit, o.burst = r, burst
		}
	}
}

// WithBreaker sets the circuit breaker policy; zero fields keep the
// defaults and Failures < 0 switches the breaker off.
func WithBreaker(b BreakerPolicy) Option {
	return func(o *options) {
		if b.Failures != 0 {
			o.breaker.Failures = b.Failures
		}
		if b.Cooldown > 0 {
			o.breaker.Cooldown = b.Cooldown
		}
	}
}

// WithRequestHook runs h on every attempt just before it is sent, after
// the client set its own headers (Authorization, User-Agent,
// Content-Type); W3C trace-context propagation is wired here. Hooks run in
// the order given and must not read or replace the body. Nil is ignored.
func WithRequestHook(h func(*http.Request)) Option {
	return func(o *options) {
		if h != nil {
			o.hooks = append(o.hooks, h)
		}
	}
}

// WithLogger logs attempts (debug), retries (info) and breaker state
// changes (warn) to l. Tokens, bodies and query strings are never logged.
// Default: nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithUserAgent sets the User-Agent header. Default "scim-gateway".
func WithUserAgent(s string) Option {
	return func(o *options) {
		if s != "" {
			o.userAgent = s
		}
	}
}

// WithMaxResponseBytes caps the response body read into memory. Default
// 16 MiB; a larger body fails the call (see Do).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBody = n
		}
	}
}

// WithLogHeaders names response headers whose values are logged with each
// attempt, e.g. Webex's "TrackingID", so vendor tracking ids are never lost.
func WithLogHeaders(names ...string) Option {
	return func(o *options) {
		for _, n := range names {
			if n != "" {
				o.logHeader = append(o.logHeader, http.CanonicalHeaderKey(n))
			}
		}
	}
}

// WithClock replaces the clock and the sleep used for backoff, Retry-After,
// the rate limit and the breaker, so that adapter tests of 429 handling run
// without real waits. sleep must return ctx's error if ctx ends first. Nil
// functions are ignored. The per-attempt timeout stays on the real clock,
// and callers' deadlines are real times compared with now, so now should
// start at the real time (and may then stand still or run ahead).
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
		if sleep != nil {
			o.sleep = sleep
		}
	}
}
