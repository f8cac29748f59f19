package outbound

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRateLimit(t *testing.T) {
	srv := newScripted(t, status(200))
	c, clk := newTestClient(t, srv.URL, nil, WithRateLimit(2, 1)) // one request every 500ms
	for i := range 3 {
		if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
			t.Fatalf("Do %d: %v", i, err)
		}
	}
	w := clk.waits()
	if len(w) != 2 || w[0] != 500*time.Millisecond || w[1] != 500*time.Millisecond {
		t.Errorf("waits %v, want two of 500ms", w)
	}

	// A caller whose deadline cannot cover the wait is answered at once.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	before := srv.count()
	_, err := c.Do(ctx, Request{Path: "/"})
	se := asScim(t, err)
	if se.Status != http.StatusTooManyRequests || se.RetryAfter != 1 || srv.count() != before || len(clk.waits()) != 2 {
		t.Fatalf("Do = %v (RetryAfter %d), sent %d, waits %v; want a 429 at once", err, se.RetryAfter, srv.count()-before, clk.waits())
	}
	// The refused call gave its reservation back: the next one waits the
	// same 500ms, not 1s.
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if w := clk.waits(); len(w) != 3 || w[2] != 500*time.Millisecond {
		t.Errorf("waits %v, want a third of 500ms", w)
	}
}

func TestRateLimitCountsRetries(t *testing.T) {
	srv := newScripted(t, status(503, "Retry-After", "0"), status(200))
	c, clk := newTestClient(t, srv.URL, nil, WithRateLimit(1, 1))
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	// Retry-After 0, then the limiter's full second before the retry.
	if w := clk.waits(); len(w) != 2 || w[0] != 0 || w[1] != time.Second {
		t.Errorf("waits %v, want [0s 1s]", w)
	}
}

func TestRateLimitAfterAnswerKeepsAnswer(t *testing.T) {
	srv := newScripted(t, status(503, "Retry-After", "0", "TrackingID", "T-5"), status(200))
	c, _ := newTestClient(t, srv.URL, nil, WithRateLimit(rate.Every(time.Minute), 1))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, Request{Path: "/"})
	if err != nil || resp.Status != 503 || resp.Header.Get("TrackingID") != "T-5" {
		t.Fatalf("Do = %+v, %v; want the vendor's 503 when the retry cannot be afforded", resp, err)
	}
}

func TestBreaker(t *testing.T) {
	srv := newScripted(t, status(500), status(500), status(200), status(500), status(200))
	c, clk := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: 2, Cooldown: 10 * time.Second}),
		WithRetry(RetryPolicy{MaxAttempts: 1}))
	do := func() (*Response, error) { return c.Do(t.Context(), Request{Path: "/"}) }
	for i := range 2 {
		if resp, err := do(); err != nil || resp.Status != 500 {
			t.Fatalf("Do %d = %v, %v", i, resp, err)
		}
	}
	// Open: fails fast without a request.
	clk.advance(4 * time.Second)
	_, err := do()
	se := asScim(t, err)
	if se.Status != http.StatusServiceUnavailable || se.RetryAfter != 6 || srv.count() != 2 {
		t.Fatalf("open: Do = %v (RetryAfter %d), server %d; want 503 with 6s", err, se.RetryAfter, srv.count())
	}
	// Half-open: one probe; it succeeds (200) and closes the breaker.
	clk.advance(6 * time.Second)
	if resp, err := do(); err != nil || resp.Status != 200 {
		t.Fatalf("probe = %v, %v", resp, err)
	}
	// Closed again: one 500 does not open it (threshold 2).
	if resp, err := do(); err != nil || resp.Status != 500 {
		t.Fatalf("closed = %v, %v", resp, err)
	}
	if resp, err := do(); err != nil || resp.Status != 200 {
		t.Fatalf("closed = %v, %v", resp, err)
	}
	if srv.count() != 5 {
		t.Errorf("server saw %d requests, want 5", srv.count())
	}
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	srv := newScripted(t, hangUp)
	c, clk := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: 3, Cooldown: time.Minute}))
	_, err := c.Do(t.Context(), Request{Path: "/"}) // 3 hang-ups in a row open it within one call
	if se := asScim(t, err); se.Status != http.StatusBadGateway || srv.count() != 3 {
		t.Fatalf("Do = %v after %d requests; want the 502 and the breaker open after 3", err, srv.count())
	}
	clk.advance(time.Minute)
	_, err = c.Do(t.Context(), Request{Path: "/"}) // the probe fails and re-opens it; the retry is refused
	if se := asScim(t, err); se.Status != http.StatusBadGateway || srv.count() != 4 {
		t.Fatalf("probe: Do = %v after %d requests; want the probe's 502", err, srv.count())
	}
	_, err = c.Do(t.Context(), Request{Path: "/"})
	if se := asScim(t, err); se.Status != http.StatusServiceUnavailable || se.RetryAfter != 60 || srv.count() != 4 {
		t.Fatalf("reopened: Do = %v, server %d", err, srv.count())
	}
}

func TestBreakerIgnores4xx(t *testing.T) {
	srv := newScripted(t, status(404), status(429), status(409), status(400), status(404), status(404))
	c, _ := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: 2}), WithRetry(RetryPolicy{MaxAttempts: 1}))
	for i := range 6 {
		if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
			t.Fatalf("Do %d: %v", i, err)
		}
	}
}

func TestBreakerOff(t *testing.T) {
	srv := newScripted(t, status(500))
	c, _ := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: -1}), WithRetry(RetryPolicy{MaxAttempts: 1}))
	for range DefaultBreakerFailures + 2 {
		if resp, err := c.Do(t.Context(), Request{Path: "/"}); err != nil || resp.Status != 500 {
			t.Fatalf("Do = %v, %v", resp, err)
		}
	}
}

func TestBreakerHalfOpenOneProbe(t *testing.T) {
	b := &breaker{failures: 1, cooldown: time.Second, log: discard}
	now := time.Now()
	if ok, _ := b.allow(now); !ok {
		t.Fatal("closed breaker refused")
	}
	b.done(now, true)
	if ok, wait := b.allow(now.Add(300 * time.Millisecond)); ok || wait != 700*time.Millisecond {
		t.Fatalf("open breaker: allow = %v, %v", ok, wait)
	}
	later := now.Add(time.Second)
	if ok, _ := b.allow(later); !ok {
		t.Fatal("half-open breaker refused the probe")
	}
	if ok, wait := b.allow(later); ok || wait != probeWait {
		t.Fatalf("second caller during the probe: allow = %v, %v", ok, wait)
	}
	// A probe cut short by its caller is given back, not judged.
	b.release()
	if ok, _ := b.allow(later); !ok {
		t.Fatal("probe slot not released")
	}
	b.done(later, false)
	if b.state != closed {
		t.Fatalf("state %v after a good probe, want closed", b.state)
	}
	var nilBreaker *breaker
	if ok, _ := nilBreaker.allow(now); !ok {
		t.Fatal("nil breaker refused")
	}
	nilBreaker.done(now, true)
	nilBreaker.release()
}

func TestCallerCancelNotCountedByBreaker(t *testing.T) {
	release := make(chan struct{})
	srv := newScripted(t, stall(release))
	t.Cleanup(func() { close(release) })
	c, _ := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: 1}))
	for range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		_, err := c.Do(ctx, Request{Path: "/"})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Do = %v, want the caller's deadline", err)
		}
	}
	if c.breaker.state != closed {
		t.Errorf("breaker %v after callers' own deadlines, want closed", c.breaker.state)
	}
}

func TestVendorRetryAfterPausesTarget(t *testing.T) {
	srv := newScripted(t, status(429, "Retry-After", "2"), status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(t.Context(), time.Second) }

	ctx, cancel := short()
	defer cancel()
	resp, err := c.Do(ctx, Request{Path: "/a"})
	if err != nil || resp.Status != 429 {
		t.Fatalf("first Do = %v, %v; want the vendor's 429 at once", resp, err)
	}
	// Another request inside the pause is not sent: the vendor would only
	// answer 429 again.
	ctx2, cancel2 := short()
	defer cancel2()
	_, err = c.Do(ctx2, Request{Path: "/b"})
	if se := asScim(t, err); se.Status != http.StatusTooManyRequests || se.RetryAfter != 2 || srv.count() != 1 {
		t.Fatalf("Do during the pause = %v, server %d; want a 429 with Retry-After 2, nothing sent", err, srv.count())
	}
	// A caller that can wait, waits the pause out, then sends.
	resp, err = c.Do(t.Context(), Request{Path: "/c"})
	if err != nil || resp.Status != 200 || srv.count() != 2 {
		t.Fatalf("Do after the pause = %v, %v", resp, err)
	}
	if w := clk.waits(); len(w) != 1 || w[0] != 2*time.Second {
		t.Errorf("waits %v, want [2s]", w)
	}
}

func TestVendorPauseCapped(t *testing.T) {
	srv := newScripted(t, status(503, "Retry-After", "3600"), status(200))
	c, clk := newTestClient(t, srv.URL, nil, WithRetry(RetryPolicy{MaxRetryAfter: 5 * time.Second}))
	if resp, err := c.Do(t.Context(), Request{Path: "/"}); err != nil || resp.Status != 503 {
		t.Fatalf("Do = %v, %v; want the 503 at once (Retry-After above the cap)", resp, err)
	}
	if resp, err := c.Do(t.Context(), Request{Path: "/"}); err != nil || resp.Status != 200 {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	if w := clk.waits(); len(w) != 1 || w[0] != 5*time.Second {
		t.Errorf("waits %v, want the pause capped at 5s", w)
	}
}

func TestWithClock(t *testing.T) {
	srv := newScripted(t, status(429, "Retry-After", "30"), status(200))
	clk := &fakeClock{}
	c, err := New(srv.URL, nil, WithClock(clk.now, clk.sleep), WithClock(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Do(t.Context(), Request{Path: "/"}); err != nil || resp.Status != 200 {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	if w := clk.waits(); len(w) != 1 || w[0] != 30*time.Second {
		t.Errorf("waits %v, want [30s] on the injected clock", w)
	}
}

func TestBreakerIgnoresNotImplemented(t *testing.T) {
	srv := newScripted(t, status(501))
	c, _ := newTestClient(t, srv.URL, nil, WithBreaker(BreakerPolicy{Failures: 2}), WithRetry(RetryPolicy{MaxAttempts: 1}))
	for i := range 4 {
		if resp, err := c.Do(t.Context(), Request{Path: "/Bulk"}); err != nil || resp.Status != 501 {
			t.Fatalf("Do %d = %v, %v; want the 501 each time", i, resp, err)
		}
	}
}

func TestWaitLeavesTimeForTheAttempt(t *testing.T) {
	srv := newScripted(t, status(429, "Retry-After", "1"), status(201))
	c, clk := newTestClient(t, srv.URL, nil)
	dl := clk.now().Add(time.Second + attemptReserve/2) // the wait fits, the attempt after it hardly
	ctx, cancel := context.WithDeadline(t.Context(), dl)
	defer cancel()
	resp, err := c.Do(ctx, Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)})
	if err != nil || resp.Status != 429 || srv.count() != 1 || len(clk.waits()) != 0 {
		t.Fatalf("Do = %v, %v after %d requests; want the 429 at once", resp, err, srv.count())
	}
	srv2 := newScripted(t, status(429, "Retry-After", "1"), status(201))
	c2, clk2 := newTestClient(t, srv2.URL, nil)
	ctx2, cancel2 := context.WithDeadline(t.Context(), clk2.now().Add(time.Second+2*attemptReserve))
	defer cancel2()
	if resp, err := c2.Do(ctx2, Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)}); err != nil || resp.Status != 201 {
		t.Fatalf("Do with room = %v, %v; want the retry's 201", resp, err)
	}
}
