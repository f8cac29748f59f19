package cache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// shared is what the gateway hands a target's Config (adapters.Sharer)
// when the cache has a Redis store.
func shared(r *cache.Redis, target string, replicas int) adapters.Shared {
	return adapters.Shared{
		Tokens: func(fetch func(context.Context) (*oauth2.Token, error), early time.Duration) outbound.TokenSource {
			return cache.SharedTokens(fetch, early, r, target, cache.TokenOptions{})
		},
		Limiter: func(group string, lim rate.Limit, burst int) outbound.Limiter {
			return cache.SharedLimiter(r, target, group, lim, burst, cache.LimiterOptions{Replicas: replicas})
		},
	}
}

// TestWebexReplicasShare: two replicas of a Webex target, configured as
// the gateway would (settings with an integration's refresh token, then
// Share, then Open), use one access token between them and keep to one
// rate limit against the simulator, which limits per token.
func TestWebexReplicasShare(t *testing.T) {
	sim := webextest.NewServer(t, webextest.WithRateLimit(4, 200*time.Millisecond, 0)) // 20/s, bursts of 4
	sim.RegisterClient("app", "secret")
	env := map[string]string{"SECRET": "secret", "REFRESH": sim.IssueRefreshToken("app")}
	srv := redistest.Start(t)

	var replicas [2]adapters.Adapter
	for i := range replicas {
		c := &webex.Config{
			OrgID: sim.OrgID(), BaseURL: sim.URL,
			Auth:   webex.Auth{ClientID: "app", ClientSecretEnv: "SECRET", RefreshTokenEnv: "REFRESH"},
			Client: outbound.Config{RateLimit: 12, Burst: 1}, // both replicas together; each alone would do 12/s
		}
		if err := c.ResolveSecrets(adapters.Secrets{Getenv: func(k string) string { return env[k] }}); err != nil {
			t.Fatal(err)
		}
		c.Share(shared(openRedis(t, srv.Addr), "webex", 2))
		a, err := c.Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		replicas[i] = a
	}

	list := func(a adapters.Adapter) error {
		_, err := a.List(context.Background(), scim.UserType, adapters.Query{StartIndex: 1, Count: 10})
		return err
	}
	if err := list(replicas[0]); err != nil {
		t.Fatal(err)
	}
	perList := len(sim.Requests())
	run := func(n int) {
		var wg sync.WaitGroup
		for _, a := range replicas {
			for range 2 {
				wg.Go(func() {
					for range n {
						if err := list(a); err != nil {
							t.Errorf("List: %v", err)
						}
					}
				})
			}
		}
		wg.Wait()
	}
	tokens := func() map[string]bool {
		seen := map[string]bool{}
		for _, r := range sim.Requests() {
			seen[r.Header.Get("Authorization")] = true
		}
		return seen
	}

	run(5)
	// Every request went out once: none was answered 429 and retried.
	if got, want := len(sim.Requests()), perList*21; got != want {
		t.Fatalf("simulator saw %d requests for 21 lists, want %d (no 429s)", got, want)
	}
	if n := len(tokens()); n != 1 {
		t.Fatalf("replicas used %d access tokens, want 1", n)
	}

	// The tokens expire: one new token for both.
	sim.ExpireTokens()
	sim.ResetRequests()
	run(2)
	if n := len(tokens()); n != 2 { // the refused one and the new one
		t.Fatalf("after the tokens expired: %d tokens seen, want 2", n)
	}
}
