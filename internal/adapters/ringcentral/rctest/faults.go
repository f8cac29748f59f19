package rctest

import (
	"bytes"
	"net/http"

	"github.com/scim-gateway/scim-gateway/internal/simtest"
)

// Fault is what a WithFault function asks of one request (see
// simtest.Fault). A Status is answered with the body RingCentral uses for
// it (VENDORS.md 2.9): a platform body for 401 (OAU-149) and 429 (CMN-301,
// with Retry-After), a SCIM error for the rest; such a request is not
// counted by the rate limiter, unless AfterApply handled it first.
type Fault = simtest.Fault

// faultError is the answer a fault's Status asks for.
func faultError(f Fault) *apiError {
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
