package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// tokenVendor is a loopback OAuth token endpoint (/token, the refresh_token
// grant) and an API (/api) that accepts the access tokens it issued and
// has not revoked.
type tokenVendor struct {
	*httptest.Server
	// rotate makes each new token revoke the earlier ones, as RingCentral
	// does (VENDORS.md 2.2); otherwise they stay valid, as at Webex.
	rotate bool

	mu     sync.Mutex
	issued int
	valid  map[string]bool
	fail   int // token calls still to refuse with 400
}

func newVendor(t *testing.T, rotate bool) *tokenVendor {
	t.Helper()
	v := &tokenVendor{rotate: rotate, valid: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "rt" || r.FormValue("client_id") != "app" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		v.mu.Lock()
		if v.fail > 0 {
			v.fail--
			v.mu.Unlock()
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		v.issued++
		tok := fmt.Sprintf("tok-%d", v.issued)
		if v.rotate {
			clear(v.valid)
		}
		v.valid[tok] = true
		v.mu.Unlock()
		// A slow token endpoint widens the window in which replicas
		// compete for the refresh.
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt",
		})
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		ok := v.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		v.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	v.Server = httptest.NewServer(mux)
	t.Cleanup(v.Close)
	return v
}

// fetches is how many tokens the endpoint issued.
func (v *tokenVendor) fetches() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.issued
}

// setRotate sets rotate between requests.
func (v *tokenVendor) setRotate(on bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rotate = on
}

// revoke makes every token issued so far invalid.
func (v *tokenVendor) revoke() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.valid)
}

// grant is a replica's own refresh-token grant against v.
func (v *tokenVendor) grant() func(ctx context.Context) (*oauth2.Token, error) {
	return outbound.RefreshGrant{HTTPClient: v.Client(), TokenURL: v.URL + "/token", ClientID: "app", ClientSecret: "s",
		RefreshToken: "rt", AuthStyle: outbound.AuthStyleParams}.Fetch()
}

// replicaTokens is one replica: its own Redis connections, its own grant.
func replicaTokens(t *testing.T, v *tokenVendor, addr string, o cache.TokenOptions) (*cache.Tokens, *cache.Redis) {
	t.Helper()
	r := openRedis(t, addr)
	return cache.SharedTokens(v.grant(), time.Minute, r, "rc", o), r
}

// callAPI sends n requests to v's API through a client over tokens, from
// 4 goroutines, and fails t if any is not a 204.
func callAPI(t *testing.T, v *tokenVendor, tokens outbound.TokenSource, n int) {
	t.Helper()
	c, err := outbound.New(v.URL, tokens)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range n / 4 {
				resp, err := c.Do(context.Background(), outbound.Request{Path: "/api", Op: "test.Get"})
				if err != nil {
					t.Errorf("Do: %v", err)
				} else if resp.Status != http.StatusNoContent {
					t.Errorf("Do: status %d after %d attempts", resp.Status, resp.Attempts)
				}
			}
		})
	}
	wg.Wait()
}

// both runs callAPI through a and b at once.
func both(t *testing.T, v *tokenVendor, a, b outbound.TokenSource) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() { callAPI(t, v, a, 20) })
	wg.Go(func() { callAPI(t, v, b, 20) })
	wg.Wait()
}

// TestSharedTokens: two replicas over one Redis make one token call
// between them, and one more after the vendor refuses the token, even
// though each new token revokes the earlier ones; with Redis gone each
// fetches its own, and with Redis back they share again.
func TestSharedTokens(t *testing.T) {
	srv := redistest.Start(t)
	v := newVendor(t, true)
	a, ra := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	b, rb := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})

	both(t, v, a, b)
	if n := v.fetches(); n != 1 {
		t.Fatalf("token calls = %d, want 1 for both replicas", n)
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Fetched+sb.Fetched != 1 || sa.Read+sb.Read != 1 || sa.Fallbacks+sb.Fallbacks != 0 {
		t.Fatalf("stats %+v, %+v; want one fetch, one read, no fallback", sa, sb)
	}
	// The shared entry lives until the token's expiry less early.
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	ttl, err := rc.PTTL(t.Context(), "scimgw:v1:rc:token").Result()
	if err != nil || ttl <= 3600*time.Second-time.Minute-time.Minute || ttl > 3600*time.Second-time.Minute {
		t.Fatalf("PTTL of the token = %s, %v; want just under 59m", ttl, err)
	}
	if vals, _ := ra.Get(t.Context(), "scimgw:v1:rc:token:lock"); vals[0] != nil {
		t.Fatalf("the refresh lock is still held: %q", vals[0])
	}

	// The vendor refuses the token: both replicas get 401s and
	// invalidate it; one of them fetches for both.
	v.revoke()
	both(t, v, a, b)
	if n := v.fetches(); n != 2 {
		t.Fatalf("token calls after a revocation = %d, want 2", n)
	}

	// Redis gone: each replica fetches its own token at once. (At a
	// vendor whose new token revokes the others, they would take turns
	// refusing each other's.)
	v.setRotate(false)
	srv.Stop()
	v.revoke()
	both(t, v, a, b)
	if n := v.fetches(); n != 4 {
		t.Fatalf("token calls with Redis down = %d, want 4 (one more per replica)", n)
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Fallbacks != 1 || sb.Fallbacks != 1 {
		t.Fatalf("fallbacks %d, %d; want one each", sa.Fallbacks, sb.Fallbacks)
	}

	srv.Restart()
	waitHealthy(t, ra)
	waitHealthy(t, rb)
	v.setRotate(true)
	v.revoke()
	both(t, v, a, b)
	if n := v.fetches(); n != 5 {
		t.Fatalf("token calls after Redis came back = %d, want 5 (one for both)", n)
	}
}

// TestSharedTokensConcurrent: many callers on two replicas that all start
// without a token make one token call.
func TestSharedTokensConcurrent(t *testing.T) {
	srv := redistest.Start(t)
	v := newVendor(t, false)
	a, _ := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	b, _ := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	var wg sync.WaitGroup
	got := make(chan string, 32)
	start := make(chan struct{})
	for i := range 32 {
		src := a
		if i%2 == 1 {
			src = b
		}
		wg.Go(func() {
			<-start
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Errorf("Token: %v", err)
			}
			got <- tok
		})
	}
	close(start)
	wg.Wait()
	close(got)
	for tok := range got {
		if tok != "tok-1" {
			t.Fatalf("Token = %q, want tok-1 for every caller", tok)
		}
	}
	if n := v.fetches(); n != 1 {
		t.Fatalf("token calls = %d, want 1", n)
	}
}

// TestSharedTokensInvalidateOnlyTheRefused: an Invalidate of a token that
// was already replaced leaves the new one alone.
func TestSharedTokensInvalidateOnlyTheRefused(t *testing.T) {
	srv := redistest.Start(t)
	v := newVendor(t, false)
	a, _ := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	b, _ := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	if tok, err := a.Token(t.Context()); err != nil || tok != "tok-1" {
		t.Fatalf("a.Token = %q, %v", tok, err)
	}
	a.Invalidate("tok-1")
	if tok, err := a.Token(t.Context()); err != nil || tok != "tok-2" {
		t.Fatalf("a.Token after Invalidate = %q, %v; want tok-2", tok, err)
	}
	b.Invalidate("tok-1") // late: a already replaced it
	if tok, err := b.Token(t.Context()); err != nil || tok != "tok-2" {
		t.Fatalf("b.Token = %q, %v; want tok-2", tok, err)
	}
	if n := v.fetches(); n != 2 {
		t.Fatalf("token calls = %d, want 2", n)
	}
}

// TestSharedTokensLock: a replica waits while another holds the lock,
// bounded by its context, and takes over when the holder died (its lock
// expired) or failed (released without a token).
func TestSharedTokensLock(t *testing.T) {
	srv := redistest.Start(t)
	v := newVendor(t, false)
	a, r := replicaTokens(t, v, srv.Addr, cache.TokenOptions{Poll: 10 * time.Millisecond})
	b, _ := replicaTokens(t, v, srv.Addr, cache.TokenOptions{})
	const lock = "scimgw:v1:rc:token:lock"

	// A holder that never stores anything: the caller's deadline ends
	// the wait, and nothing is fetched.
	if ok, err := r.Add(t.Context(), lock, []byte("dead"), time.Minute); !ok || err != nil {
		t.Fatalf("Add lock = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if tok, err := a.Token(ctx); !errors.Is(err, context.DeadlineExceeded) || tok != "" {
		t.Fatalf("Token while another replica holds the lock = %q, %v; want the deadline", tok, err)
	}
	if n := v.fetches(); n != 0 {
		t.Fatalf("token calls = %d, want 0 while the lock is held", n)
	}

	// The holder died: its lock expires, and a waiter fetches. (The fetch
	// the expired caller started goes on in the background, as token
	// fetches do, and may take the lock the moment it is free: overwrite.)
	if err := r.Set(t.Context(), 300*time.Millisecond, cache.Entry{Key: lock, Value: []byte("dead")}); err != nil {
		t.Fatal(err)
	}
	if tok, err := a.Token(t.Context()); err != nil || tok != "tok-1" {
		t.Fatalf("Token after the lock expired = %q, %v; want tok-1", tok, err)
	}

	// A fetch that fails releases the lock at once, and the other replica
	// can fetch.
	a.Invalidate("tok-1")
	v.mu.Lock()
	v.fail = 1
	v.mu.Unlock()
	if _, err := a.Token(t.Context()); err == nil {
		t.Fatal("Token with a failing endpoint: no error")
	}
	if vals, err := r.Get(t.Context(), lock); err != nil || vals[0] != nil {
		t.Fatalf("lock after a failed fetch = %q, %v; want released", vals[0], err)
	}
	if tok, err := b.Token(t.Context()); err != nil || tok != "tok-2" {
		t.Fatalf("b.Token = %q, %v; want tok-2", tok, err)
	}
}

// BenchmarkSharedTokens is what Token costs once the token is in hand: the
// replica's in-process copy, no Redis call.
func BenchmarkSharedTokens(b *testing.B) {
	srv := redistest.Start(b)
	c := cache.Config{Redis: &cache.RedisConfig{Addrs: []string{srv.Addr}, Timeout: time.Second}}
	r, err := c.Redis.Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	fetch := func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "tok", Expiry: time.Now().Add(time.Hour)}, nil
	}
	tokens := cache.SharedTokens(fetch, time.Minute, r, "bench", cache.TokenOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Token(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
