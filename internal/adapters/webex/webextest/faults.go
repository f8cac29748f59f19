package webextest

import (
	"bytes"
	"math"
	"net/http"
	"time"
)

// Fault is what a WithFault function asks of one request. The zero Fault
// lets the request through.
type Fault struct {
	// Status, when non-zero, answers that status instead of handling the
	// request, with the body of its family (VENDORS.md 1.10) and, for 429
	// and 503, a Retry-After header.
	Status int
	// Drop closes the connection without an answer.
	Drop bool
	// AfterApply handles the request first (its effects are kept) and only
	// then answers Status or drops the connection: the "outcome unknown"
	// case of a write that happened although the client saw it fail.
	AfterApply bool
	// RetryAfter is the Retry-After of a 429 or 503 Status, rounded up to
	// whole seconds; zero means 1 second.
	RetryAfter time.Duration
}

func (f Fault) isZero() bool { return f.Status == 0 && !f.Drop }

// faultError is the answer a fault's Status asks for.
func (f Fault) faultError() *apiError {
	var e *apiError
	switch f.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		e = scimErr(f.Status, "", "injected fault")
	default:
		e = platformErr(f.Status, "%s (injected fault)", http.StatusText(f.Status))
	}
	if f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable {
		e.retryAfter = max(1, ceilSeconds(f.RetryAfter))
	}
	return e
}

// drop closes the client's connection without an answer: through the
// Hijacker when the connection offers one, else by aborting the handler,
// which net/http turns into a closed connection.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discard is a ResponseWriter that keeps nothing: a request applied before
// its fault answers into it.
type discard struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}

func (d *discard) Write(p []byte) (int, error) { return d.buf.Write(p) }

func (d *discard) WriteHeader(status int) { d.status = status }

// bucket is the rate-limit state of one access token (VENDORS.md 1.11).
type bucket struct {
	tokens       float64
	last         time.Time
	blockedUntil time.Time
}

// take spends one request from the token's bucket, or returns the
// Retry-After in seconds when there is none. The caller holds s.mu.
func (s *Sim) take(token string, now time.Time) (retryAfter int, ok bool) {
	n, per := s.cfg.rateN, s.cfg.ratePer
	if n == 0 {
		return 0, true
	}
	b := s.buckets[token]
	if b == nil {
		b = &bucket{tokens: float64(n), last: now}
		s.buckets[token] = b
	}
	if now.Before(b.blockedUntil) {
		return max(1, ceilSeconds(b.blockedUntil.Sub(now))), false
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(float64(n), b.tokens+float64(n)*elapsed.Seconds()/per.Seconds())
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := s.cfg.rateRetryAfter
	if wait == 0 {
		wait = time.Duration((1 - b.tokens) * float64(per) / float64(n))
	}
	secs := max(1, ceilSeconds(wait))
	b.blockedUntil = now.Add(time.Duration(secs) * time.Second)
	return secs, false
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
