package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// arrivals is a loopback vendor that records when each request arrived.
type arrivals struct {
	*httptest.Server
	mu sync.Mutex
	at []time.Time
}

func newArrivals(t *testing.T) *arrivals {
	t.Helper()
	a := new(arrivals)
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		a.mu.Lock()
		a.at = append(a.at, now)
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}

// maxInWindow is the most arrivals within any interval [t, t+w) that
// starts at an arrival.
func (a *arrivals) maxInWindow(w time.Duration) int {
	a.mu.Lock()
	ts := slices.Clone(a.at)
	a.mu.Unlock()
	slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
	most, j := 0, 0
	for i := range ts {
		for j < len(ts) && ts[j].Sub(ts[i]) < w {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// send runs n requests through c from 4 goroutines and fails t if any
// fails.
func send(t *testing.T, c *outbound.Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	per := n / 4
	for range 4 {
		wg.Go(func() {
			for range per {
				resp, err := c.Do(context.Background(), outbound.Request{Path: "/Users", Op: "test.List"})
				if err == nil && resp.Status != http.StatusNoContent {
					err = fmt.Errorf("status %d", resp.Status)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Do: %v", err)
	}
}

// Two replicas send 40 requests each as fast as their limit lets them;
// every window of the vendor's arrivals must hold no more than the limit
// allows. The bound is rate×window plus the burst, plus slack for
// requests that leave in turn but arrive closer together (scheduling on
// a loaded machine).
const (
	testRate   = 40 // requests per second
	perReplica = 40
	window     = 500 * time.Millisecond
	slack      = 3
	allowed    = testRate*int(window/time.Millisecond)/1000 + 1 + slack // 24
)

func twoReplicas(t *testing.T, url string, opts ...func() outbound.Option) (*outbound.Client, *outbound.Client) {
	t.Helper()
	var cs [2]*outbound.Client
	for i := range cs {
		var o []outbound.Option
		for _, f := range opts {
			o = append(o, f())
		}
		c, err := outbound.New(url, nil, o...)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	return cs[0], cs[1]
}

func runBoth(t *testing.T, a, b *outbound.Client) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() { send(t, a, perReplica) })
	wg.Go(func() { send(t, b, perReplica) })
	wg.Wait()
}

func TestSharedLimiterAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	// Each replica has its own connection pool to Redis, as two processes
	// would.
	r1, r2 := openRedis(t, srv.Addr), openRedis(t, srv.Addr)
	l1 := cache.SharedLimiter(r1, "rc", "light", testRate, 1, cache.LimiterOptions{Replicas: 2})
	l2 := cache.SharedLimiter(r2, "rc", "light", testRate, 1, cache.LimiterOptions{Replicas: 2})

	t.Run("Shared", func(t *testing.T) {
		vendor := newArrivals(t)
		a, _ := outbound.New(vendor.URL, nil, outbound.WithLimiter(l1))
		b, _ := outbound.New(vendor.URL, nil, outbound.WithLimiter(l2))
		runBoth(t, a, b)
		t.Logf("at most %d requests in %s (bound %d)", vendor.maxInWindow(window), window, allowed)
		if n, most := vendor.count(), vendor.maxInWindow(window); n != 2*perReplica || most > allowed {
			t.Fatalf("vendor saw %d requests, at most %d in %s; want %d, at most %d", n, most, window, 2*perReplica, allowed)
		}
		if l1.Fallbacks()+l2.Fallbacks() != 0 {
			t.Fatalf("fallbacks %d, %d with Redis up", l1.Fallbacks(), l2.Fallbacks())
		}
		vals, err := r1.Get(t.Context(), "rate:scimgw:v1:rc:rate:light")
		if err != nil || vals[0] == nil {
			t.Fatalf("GET rate:scimgw:v1:rc:rate:light = %q, %v; want the GCRA state", vals, err)
		}
	})

	// The check above catches replicas that limit themselves alone.
	t.Run("UnsharedExceeds", func(t *testing.T) {
		vendor := newArrivals(t)
		a, b := twoReplicas(t, vendor.URL, func() outbound.Option { return outbound.WithRateLimit(testRate, 1) })
		runBoth(t, a, b)
		t.Logf("at most %d requests in %s (bound %d)", vendor.maxInWindow(window), window, allowed)
		if most := vendor.maxInWindow(window); most <= allowed {
			t.Fatalf("two in-process limiters: at most %d requests in %s, want more than %d", most, window, allowed)
		}
	})

	// Redis gone: each replica keeps to testRate/2 on its own.
	t.Run("RedisDown", func(t *testing.T) {
		srv.Stop()
		vendor := newArrivals(t)
		a, _ := outbound.New(vendor.URL, nil, outbound.WithLimiter(l1))
		b, _ := outbound.New(vendor.URL, nil, outbound.WithLimiter(l2))
		runBoth(t, a, b)
		t.Logf("at most %d requests in %s (bound %d)", vendor.maxInWindow(window), window, allowed)
		if n, most := vendor.count(), vendor.maxInWindow(window); n != 2*perReplica || most > allowed {
			t.Fatalf("vendor saw %d requests, at most %d in %s; want %d, at most %d", n, most, window, 2*perReplica, allowed)
		}
		if l1.Fallbacks() == 0 || l2.Fallbacks() == 0 {
			t.Fatalf("fallbacks %d, %d with Redis down; want both", l1.Fallbacks(), l2.Fallbacks())
		}
	})
}

// TestSharedLimiterDeadline: a wait past the caller's deadline is a 429
// with Retry-After at once, and neither it nor a wait cut short by the
// caller takes anything from the limit.
func TestSharedLimiterDeadline(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv.Addr)
	const gap = 2 * time.Second
	l := cache.SharedLimiter(r, "webex", "", rate.Every(gap), 1, cache.LimiterOptions{})
	vendor := newArrivals(t)
	c, err := outbound.New(vendor.URL, nil, outbound.WithLimiter(l))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), outbound.Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err = c.Do(ctx, outbound.Request{Path: "/"})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests || se.RetryAfter != 2 || ctx.Err() != nil {
		t.Fatalf("Do with 1s left = %v; want a 429 with Retry-After 2 before the deadline", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = c.Do(ctx, outbound.Request{Path: "/"})
	if !errors.As(err, &se) || se.Status != http.StatusGatewayTimeout {
		t.Fatalf("Do cancelled while waiting = %v; want a 504", err)
	}
	if vendor.count() != 1 {
		t.Fatalf("vendor saw %d requests, want 1", vendor.count())
	}
	// Had either refused request counted, the next turn would be up to
	// three gaps away.
	wait, err := l.Allow(t.Context())
	if err != nil || wait <= 0 || wait > gap {
		t.Fatalf("Allow = %s, %v; want a wait within one gap of %s", wait, err, gap)
	}
	if l.Fallbacks() != 0 {
		t.Fatalf("fallbacks %d with Redis up", l.Fallbacks())
	}
}

func TestSharedLimiterNoLimit(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv.Addr)
	for _, lim := range []rate.Limit{0, rate.Inf} {
		l := cache.SharedLimiter(r, "memory", "", lim, 0, cache.LimiterOptions{})
		for range 100 {
			if wait, err := l.Allow(t.Context()); wait != 0 || err != nil {
				t.Fatalf("limit %v: Allow = %s, %v; want no limit", lim, wait, err)
			}
		}
	}
}

// BenchmarkSharedLimiter is the cost a shared limit adds to each vendor
// call: one script call to Redis (loopback here), under a limit never
// reached.
func BenchmarkSharedLimiter(b *testing.B) {
	srv := redistest.Start(b)
	c := cache.Config{Redis: &cache.RedisConfig{Addrs: []string{srv.Addr}, Timeout: time.Second}}
	r, err := c.Redis.Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	l := cache.SharedLimiter(r, "bench", "", 1e9, 1e9, cache.LimiterOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if wait, err := l.Allow(b.Context()); wait != 0 || err != nil {
			b.Fatalf("Allow = %s, %v", wait, err)
		}
	}
}
