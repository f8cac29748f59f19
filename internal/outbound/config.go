package outbound

import (
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Config is the YAML `client` block that an HTTP adapter's settings embed:
//
//	client:
//	  timeout: 30s
//	  maxAttempts: 4
//	  rateLimit: 5   # requests per second to the target
//
// Zero values keep the defaults (the Default* constants). Durations are
// Go durations ("250ms", "1m30s"), decoded by the config loader like every
// other duration in the file.
type Config struct {
	// Timeout bounds one attempt. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is how many times one request is sent at most. Default 4.
	MaxAttempts int `yaml:"maxAttempts"`
	// BackoffBase is the wait before the first retry; it doubles per retry.
	// Default 200ms.
	BackoffBase time.Duration `yaml:"backoffBase"`
	// BackoffMax caps the backoff. Default 10s.
	BackoffMax time.Duration `yaml:"backoffMax"`
	// MaxRetryAfter is the longest vendor Retry-After still waited for.
	// Default 60s.
	MaxRetryAfter time.Duration `yaml:"maxRetryAfter"`
	// RateLimit is requests per second to the target; 0 means no limit.
	RateLimit float64 `yaml:"rateLimit"`
	// Burst is the rate limit's burst; default max(1, ceil(rateLimit)).
	Burst int `yaml:"burst"`
	// BreakerFailures is how many failures in a row open the circuit
	// breaker; default 10, -1 switches the breaker off.
	BreakerFailures int `yaml:"breakerFailures"`
	// BreakerCooldown is how long the breaker stays open. Default 30s.
	BreakerCooldown time.Duration `yaml:"breakerCooldown"`
	// MaxResponseBytes caps a response body. Default 16 MiB.
	MaxResponseBytes int64 `yaml:"maxResponseBytes"`
}

// maxAttemptsLimit keeps a typo from turning one call into a storm.
const maxAttemptsLimit = 20

// Validate reports every problem of c at once, each prefixed by its key
// ("timeout: must not be negative"); an adapter prefixes them with its
// own path ("client."). It has no side effects.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	nonNegative := func(key string, d time.Duration) {
		if d < 0 {
			bad(key, "must not be negative, got %s", d)
		}
	}
	nonNegative("timeout", c.Timeout)
	nonNegative("backoffBase", c.BackoffBase)
	nonNegative("backoffMax", c.BackoffMax)
	nonNegative("maxRetryAfter", c.MaxRetryAfter)
	nonNegative("breakerCooldown", c.BreakerCooldown)
	if c.MaxAttempts < 0 || c.MaxAttempts > maxAttemptsLimit {
		bad("maxAttempts", "must be between 1 and %d (0 for the default %d), got %d", maxAttemptsLimit, DefaultMaxAttempts, c.MaxAttempts)
	}
	if c.BackoffBase > 0 && c.BackoffMax > 0 && c.BackoffMax < c.BackoffBase {
		bad("backoffMax", "must not be below backoffBase (%s), got %s", c.BackoffBase, c.BackoffMax)
	}
	switch {
	case math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0):
		bad("rateLimit", "must be a finite number of requests per second")
	case c.RateLimit < 0:
		bad("rateLimit", "must be 0 (no limit) or positive, got %g", c.RateLimit)
	}
	if c.Burst < 0 {
		bad("burst", "must not be negative, got %d", c.Burst)
	} else if c.Burst > 0 && c.RateLimit == 0 {
		bad("burst", "set without rateLimit; it has no effect")
	}
	if c.BreakerFailures < -1 {
		bad("breakerFailures", "must be -1 (off), 0 (default %d) or positive, got %d", DefaultBreakerFailures, c.BreakerFailures)
	}
	if c.BreakerFailures == -1 && c.BreakerCooldown > 0 {
		bad("breakerCooldown", "set while the breaker is off (breakerFailures: -1)")
	}
	if c.MaxResponseBytes < 0 {
		bad("maxResponseBytes", "must not be negative, got %d", c.MaxResponseBytes)
	}
	return errors.Join(errs...)
}

// ValidateAs is Validate for a block written under key in a larger
// configuration: each problem is prefixed with "key." (client.timeout: ...).
func (c *Config) ValidateAs(key string) []error {
	err := c.Validate()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s.%w", key, e)
	}
	return out
}

// Options turns c into options for New; zero fields add nothing, so the
// defaults stay. Call Validate first.
func (c *Config) Options() []Option {
	return []Option{
		WithTimeout(c.Timeout),
		WithRetry(RetryPolicy{MaxAttempts: c.MaxAttempts, Base: c.BackoffBase, Max: c.BackoffMax, MaxRetryAfter: c.MaxRetryAfter}),
		WithRateLimit(rate.Limit(c.RateLimit), c.Burst),
		WithBreaker(BreakerPolicy{Failures: c.BreakerFailures, Cooldown: c.BreakerCooldown}),
		WithMaxResponseBytes(c.MaxResponseBytes),
	}
}
