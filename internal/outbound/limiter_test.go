package outbound

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// gapLimiter admits one request every gap on a fake clock, and counts
// only what it admits, as the Limiter contract says.
type gapLimiter struct {
	clk *fakeClock
	gap time.Duration
	err error // returned by Allow when set

	mu       sync.Mutex
	next     time.Time
	admitted int
}

func (l *gapLimiter) Allow(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	now := l.clk.now()
	if now.Before(l.next) {
		return l.next.Sub(now), nil
	}
	l.next = now.Add(l.gap)
	l.admitted++
	return 0, nil
}

func (l *gapLimiter) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.admitted
}

func TestLimiter(t *testing.T) {
	srv := newScripted(t, status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	l := &gapLimiter{clk: clk, gap: 500 * time.Millisecond}
	c.shared = l // WithLimiter, on the test client's clock
	for i := range 3 {
		if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
			t.Fatalf("Do %d: %v", i, err)
		}
	}
	if w := clk.waits(); len(w) != 2 || w[0] != 500*time.Millisecond || w[1] != 500*time.Millisecond {
		t.Errorf("waits %v, want two of 500ms", w)
	}
	if l.count() != 3 || srv.count() != 3 {
		t.Errorf("admitted %d, sent %d; want 3 and 3", l.count(), srv.count())
	}

	// A caller whose deadline cannot cover the wait is answered at once,
	// and its request takes nothing from the limit.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{Path: "/"})
	se := asScim(t, err)
	if se.Status != http.StatusTooManyRequests || se.RetryAfter != 1 || srv.count() != 3 || len(clk.waits()) != 2 || l.count() != 3 {
		t.Fatalf("Do = %v (RetryAfter %d), sent %d, waits %v, admitted %d; want a 429 at once",
			err, se.RetryAfter, srv.count(), clk.waits(), l.count())
	}
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if w := clk.waits(); len(w) != 3 || w[2] != 500*time.Millisecond {
		t.Errorf("waits %v, want a third of 500ms", w)
	}
}

func TestLimiterCountsRetries(t *testing.T) {
	srv := newScripted(t, status(503, "Retry-After", "0"), status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	l := &gapLimiter{clk: clk, gap: time.Second}
	c.shared = l
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	// Retry-After 0, then the limiter's full second before the retry.
	if w := clk.waits(); len(w) != 2 || w[0] != 0 || w[1] != time.Second || l.count() != 2 {
		t.Errorf("waits %v, admitted %d; want [0s 1s] and 2", w, l.count())
	}
}

func TestLimiterErrors(t *testing.T) {
	srv := newScripted(t, status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	l := &gapLimiter{clk: clk, gap: time.Second, err: errors.New("limit store down")}
	c.shared = l
	_, err := c.Do(t.Context(), Request{Path: "/", Op: "test.Get"})
	if se := asScim(t, err); se.Status != http.StatusServiceUnavailable || se.RetryAfter != 1 || srv.count() != 0 {
		t.Fatalf("Do = %v (RetryAfter %d), sent %d; want a 503 with Retry-After and nothing sent", err, se.RetryAfter, srv.count())
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l.err = nil
	_, err = c.Do(ctx, Request{Path: "/"})
	if se := asScim(t, err); se.Status != http.StatusGatewayTimeout || srv.count() != 0 {
		t.Fatalf("Do on an ended context = %v, sent %d; want a 504 and nothing sent", err, srv.count())
	}
}

func TestWithLimiterReplacesRateLimit(t *testing.T) {
	srv := newScripted(t, status(200))
	l := &gapLimiter{clk: &fakeClock{}, gap: 0}
	c, err := New(srv.URL, nil, WithRateLimit(rate1PerMinute, 1), WithLimiter(l), WithLimiter(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.limiter != nil || c.shared != Limiter(l) {
		t.Fatalf("limiter %v, shared %v; want only the Limiter", c.limiter, c.shared)
	}
	for i := range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := c.Do(ctx, Request{Path: "/"})
		cancel()
		if err != nil {
			t.Fatalf("Do %d: %v; the in-process limit of one a minute should be gone", i, err)
		}
	}
	if l.count() != 3 {
		t.Errorf("admitted %d, want 3", l.count())
	}
}

const rate1PerMinute = 1.0 / 60
