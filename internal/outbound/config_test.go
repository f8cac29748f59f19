package outbound

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/time/rate"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want []string // one substring per problem, in order
	}{
		{"zero is valid", Config{}, nil},
		{"all set", Config{Timeout: time.Second, MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Second,
			MaxRetryAfter: time.Minute, RateLimit: 0.5, Burst: 2, BreakerFailures: 5, BreakerCooldown: time.Second, MaxResponseBytes: 1 << 10}, nil},
		{"breaker off", Config{BreakerFailures: -1}, nil},
		{"negatives", Config{Timeout: -1, MaxAttempts: -1, BackoffBase: -1, BackoffMax: -1, MaxRetryAfter: -1, RateLimit: -1,
			Burst: -1, BreakerFailures: -2, BreakerCooldown: -1, MaxResponseBytes: -1},
			[]string{"timeout: ", "backoffBase: ", "backoffMax: ", "maxRetryAfter: ", "breakerCooldown: ", "maxAttempts: ",
				"rateLimit: ", "burst: ", "breakerFailures: ", "maxResponseBytes: "}},
		{"too many attempts", Config{MaxAttempts: 21}, []string{"maxAttempts: must be between 1 and 20"}},
		{"max below base", Config{BackoffBase: time.Second, BackoffMax: time.Millisecond}, []string{"backoffMax: must not be below backoffBase"}},
		{"infinite rate", Config{RateLimit: math.Inf(1)}, []string{"rateLimit: must be a finite"}},
		{"burst without rate", Config{Burst: 3}, []string{"burst: set without rateLimit"}},
		{"cooldown without breaker", Config{BreakerFailures: -1, BreakerCooldown: time.Second}, []string{"breakerCooldown: set while"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			var got []error
			if err != nil {
				got = err.(interface{ Unwrap() []error }).Unwrap()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i].Error(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], w)
				}
			}
		})
	}
}

func TestConfigYAMLAndOptions(t *testing.T) {
	const doc = `
timeout: 5s
maxAttempts: 2
backoffBase: 50ms
backoffMax: 1s
maxRetryAfter: 20s
rateLimit: 2.5
burst: 4
breakerFailures: 3
breakerCooldown: 1m
maxResponseBytes: 1024
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := New("http://example.com", nil, cfg.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	want := RetryPolicy{MaxAttempts: 2, Base: 50 * time.Millisecond, Max: time.Second, MaxRetryAfter: 20 * time.Second, Wait429: DefaultWait429}
	if c.timeout != 5*time.Second || c.retry != want || c.maxBody != 1024 ||
		c.limiter.Limit() != rate.Limit(2.5) || c.limiter.Burst() != 4 ||
		c.breaker.failures != 3 || c.breaker.cooldown != time.Minute {
		t.Errorf("client from config: timeout %v retry %+v maxBody %d limit %v/%d breaker %d/%v",
			c.timeout, c.retry, c.maxBody, c.limiter.Limit(), c.limiter.Burst(), c.breaker.failures, c.breaker.cooldown)
	}

	var zero Config
	c, err = New("http://example.com", nil, zero.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || c.retry != defaultOptions().retry || c.limiter != nil || c.breaker == nil ||
		c.breaker.failures != DefaultBreakerFailures || c.maxBody != DefaultMaxResponseBytes {
		t.Errorf("zero config changed the defaults: %+v", c)
	}
	// The default burst of a fractional rate is rounded up.
	c, _ = New("http://example.com", nil, WithRateLimit(2.5, 0))
	if c.limiter.Burst() != 3 {
		t.Errorf("burst %d, want 3", c.limiter.Burst())
	}
}

func TestConfigUnknownKey(t *testing.T) {
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader("retries: 3\n"))
	dec.KnownFields(true)
	var te *yaml.TypeError
	if err := dec.Decode(&cfg); !errors.As(err, &te) {
		t.Fatalf("Decode(unknown key) = %v, want a type error", err)
	}
}
