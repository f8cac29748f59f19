package outbound

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Limiter is a request rate limit kept outside the client, such as one
// shared by every replica of the gateway through Redis
// (cache.SharedLimiter). Implementations are safe for concurrent use.
type Limiter interface {
	// Allow asks to send one request now. A zero wait admits it, and it
	// counts against the limit. A positive wait admits nothing and counts
	// nothing: it is how long until a request may be admitted, after which
	// the caller asks again. An error admits nothing; Allow returns one
	// when ctx ends, and may when the limit cannot be checked.
	Allow(ctx context.Context) (wait time.Duration, err error)
}

// WithLimiter limits the requests sent to the target with l (every attempt
// counts) instead of WithRateLimit's in-process token bucket, which it
// replaces. Nil is ignored.
func WithLimiter(l Limiter) Option {
	return func(o *options) {
		if l != nil {
			o.shared = l
		}
	}
}

// admitShared asks c.shared for a turn, waiting as long as it says when the
// caller's deadline allows, and answers 429 with Retry-After at once when
// it does not. Nothing is counted while waiting, so a wait cut short takes
// nothing from the limit. The breaker's allow is given back on failure.
func (c *Client) admitShared(ctx context.Context, op string) error {
	for {
		wait, err := c.shared.Allow(ctx)
		if err != nil {
			c.breaker.release()
			if ctx.Err() != nil {
				return c.ctxError(ctx, op)
			}
			return &scim.Error{Status: http.StatusServiceUnavailable, RetryAfter: 1,
				Detail: "the target's request rate limit cannot be checked; retry later",
				Err:    fmt.Errorf("outbound: %s: rate limiter: %w", op, err)}
		}
		if wait <= 0 {
			return nil
		}
		if !c.fits(ctx, wait) {
			c.breaker.release()
			return &scim.Error{Status: http.StatusTooManyRequests, RetryAfter: seconds(wait),
				Detail: "the target's request rate limit is reached; retry later",
				Err:    fmt.Errorf("outbound: %s: client-side rate limit", op)}
		}
		noteWait(ctx)
		if err := c.sleep(ctx, wait); err != nil {
			c.breaker.release()
			return c.ctxError(ctx, op)
		}
		// As in admit: a vendor may have paused the target meanwhile.
		if err := c.waitHold(ctx, op); err != nil {
			c.breaker.release()
			return err
		}
	}
}
