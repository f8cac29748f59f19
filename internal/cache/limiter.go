package cache

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// LimiterOptions tune SharedLimiter; zero values take the defaults noted.
type LimiterOptions struct {
	// Replicas is the number of gateway replicas expected to share the
	// limit. While Redis is degraded each replica limits itself, alone, to
	// the limit divided by Replicas, so that together they still stay
	// under it. Default 1: a lone replica keeps the whole limit, and more
	// replicas than estimated together exceed it while Redis is down.
	Replicas int
}

// Limiter is an outbound.Limiter whose state lives in Redis, shared by
// every replica: see SharedLimiter. It is safe for concurrent use.
type Limiter struct {
	r     *Redis
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	local *rate.Limiter // while Redis is degraded; nil: no limit at all

	fallbacks atomic.Uint64
}

var _ outbound.Limiter = (*Limiter)(nil)

// SharedLimiter returns a limit of limit requests per second, in bursts of
// at most burst, on the requests every replica sends to target (and, when
// group is not empty, to that usage group of it, such as RingCentral's
// light and heavy). It is a GCRA (generic cell rate algorithm) limiter
// kept in Redis by github.com/go-redis/redis_rate/v10: one Lua script per
// request reads and moves the key's theoretical arrival time atomically,
// on Redis' own clock, so the replicas' clocks do not matter. The key is
// rate:scimgw:v1:<target>:rate[:<group>] (redis_rate prefixes "rate:").
//
// A zero limit (or rate.Inf) is no limit, as with outbound.WithRateLimit,
// and a burst below 1 becomes max(1, ceil(limit)). While r is degraded,
// or when a call to it fails, each replica falls back at once to an
// in-process token bucket of limit/o.Replicas and burst/o.Replicas (at
// least 1).
func SharedLimiter(r *Redis, target, group string, limit rate.Limit, burst int, o LimiterOptions) *Limiter {
	key := "scimgw:v1:" + target + ":rate"
	if group != "" {
		key += ":" + group
	}
	l := &Limiter{r: r, rl: redis_rate.NewLimiter(r.client), key: key}
	if limit <= 0 || limit == rate.Inf {
		return l
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(float64(limit))))
	}
	// redis_rate counts Rate events per Period: one per emission interval.
	l.limit = redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Duration(float64(time.Second) / float64(limit))}
	n := max(1, o.Replicas)
	l.local = rate.NewLimiter(limit/rate.Limit(n), max(1, burst/n))
	return l
}

// Allow implements outbound.Limiter: zero when a request may go now (it
// then counts), otherwise how long until one may. A request that is not
// admitted counts nowhere. It fails only when ctx ends.
func (l *Limiter) Allow(ctx context.Context) (time.Duration, error) {
	if l.local == nil {
		return 0, ctx.Err()
	}
	var res *redis_rate.Result
	err := l.r.call(ctx, func(ctx context.Context) error {
		var err error
		res, err = l.rl.Allow(ctx, l.key, l.limit)
		return err
	})
	if err == nil {
		if res.Allowed > 0 {
			return 0, nil
		}
		return max(res.RetryAfter, time.Millisecond), nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.fallbacks.Add(1)
	now := time.Now()
	rv := l.local.ReserveN(now, 1)
	if d := rv.DelayFrom(now); d > 0 {
		rv.CancelAt(now) // not admitted: it must not count
		return d, nil
	}
	return 0, nil
}

// Fallbacks counts the answers the in-process limiter gave because Redis
// was degraded or failed, for metrics and tests.
func (l *Limiter) Fallbacks() uint64 { return l.fallbacks.Load() }
