package rctest

import (
	"bytes"
	"net/http"
	"time"
)

// Fault is what a WithFault function asks of one request. The zero Fault
// lets the request through.
type Fault struct {
	// Status, when non-zero, answers that status instead of handling the
	// request, with the body RingCentral uses for it (VENDORS.md 2.9): a
	// platform body for 401 (OAU-149) and 429 (CMN-301, with Retry-After),
	// a SCIM error for the rest. Such a request is not counted by the rate
	// limiter.
	Status int
	// Drop closes the connection without an answer.
	Drop bool
	// AfterApply handles the request first (its effects are kept, and it
	// counts against the rate limit) and only then answers Status or drops
	// the connection: the "outcome unknown" case of a write that happened
	// although the client saw it fail.
	AfterApply bool
	// RetryAfter is the Retry-After of a 429 or 503 Status, rounded up to
	// whole seconds; zero means 1 second.
	RetryAfter time.Duration
}

func (f Fault) isZero() bool { return f.Status == 0 && !f.Drop }

// apiError is the answer a fault's Status asks for.
func (f Fault) apiError() *apiError {
	var e *apiError
	switch f.Status {
	case http.StatusUnauthorized:
		e = platformErr(f.Status, CodeInvalidToken, "Invalid token")
	case http.StatusTooManyRequests:
		e = rateExceeded(0)
	default:
		e = scimErr(f.Status, "", "%s (injected fault)", http.StatusText(f.Status))
	}
	if f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable {
		e.retryAfter = 1
		if f.RetryAfter > 0 {
			e.retryAfter = ceilSeconds(f.RetryAfter)
		}
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

// buffer is a ResponseWriter that keeps the answer, so that the simulator
// can record its status, wait the latency and then send it, or replace it
// with a fault.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffer) Header() http.Header { return b.header }

func (b *buffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *buffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// copyTo sends the kept answer to w.
func (b *buffer) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.body.Bytes())
}
