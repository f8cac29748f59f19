package adapters

import (
	"context"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// Sharer is implemented by a Config whose adapter can keep its vendor
// access token and request rate limit where every replica of the gateway
// sees them, so that N replicas make the token calls of one and together
// stay under one vendor limit. When the cache has a Redis store, the
// gateway calls Share after ResolveSecrets and just before Open, which
// then builds the adapter over what s returns. Without a call to Share a
// Config keeps its token and limits in process, which is right for one
// replica.
type Sharer interface {
	Share(s Shared)
}

// Shared builds the state that the replicas of one target share; the
// gateway binds its functions to the target. A nil field shares nothing of
// its kind.
type Shared struct {
	// Tokens returns a token source over fetch whose token every replica
	// shares. fetch and early are those of outbound.NewTokenCache, whose
	// place it takes.
	Tokens func(fetch func(ctx context.Context) (*oauth2.Token, error), early time.Duration) outbound.TokenSource
	// Limiter returns a limit of r requests a second, in bursts of burst,
	// on what every replica sends to the target, or to one of its usage
	// groups when group is not empty ("light", "heavy"). It takes the
	// place of outbound.WithRateLimit.
	Limiter func(group string, r rate.Limit, burst int) outbound.Limiter
}
