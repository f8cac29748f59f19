// Package simtest holds what the vendor simulators (webextest, rctest)
// share: the fault a test injects into one request, and the dropped
// connection that makes a write's outcome unknown to the client.
package simtest

import (
	"net/http"
	"time"
)

// Fault is what a simulator's WithFault function asks of one request. The
// zero Fault lets the request through.
type Fault struct {
	// Status, when non-zero, answers that status instead of handling the
	// request, with the error body the vendor uses for it.
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

// IsZero reports whether f lets the request through untouched.
func (f Fault) IsZero() bool { return f.Status == 0 && !f.Drop }

// Drop closes the client's connection without an answer: through the
// Hijacker when the connection offers one, else by aborting the handler,
// which net/http turns into a closed connection.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
