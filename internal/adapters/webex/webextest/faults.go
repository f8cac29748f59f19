package webextest

import (
	"bytes"
	"math"
	"net/http"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/simtest"
)

// Fault is what a WithFault function asks of one request (see
// simtest.Fault). A Status is answered with the body of its family
// (VENDORS.md 1.10) and, for 429 and 503, a Retry-After header.
type Fault = simtest.Fault

// faultError is the answer a fault's Status asks for.
func faultError(f Fault) *apiError {
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
