package outbound

import (
	"log/slog"
	"sync"
	"time"
)

// breaker is a small consecutive-failure circuit breaker. Closed, it lets
// everything through and counts failures in a row; at the threshold it
// opens for the cooldown and fails calls fast; then it lets exactly one
// probe through (half-open): a success closes it, a failure opens it again.
// Its own code rather than gobreaker's because Do must answer with the time
// left until the probe (Retry-After) and tests drive its clock. All methods
// are safe on a nil *breaker, which is "off".
type breaker struct {
	failures int
	cooldown time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	state   breakerState
	count   int       // failures in a row while closed
	until   time.Time // end of the open period
	probing bool      // half-open: the probe is in flight
}

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

func (s breakerState) String() string {
	switch s {
	case open:
		return "open"
	case halfOpen:
		return "half-open"
	}
	return "closed"
}

// probeWait is the Retry-After given to callers turned away while the
// half-open probe is in flight: its result decides within one attempt.
const probeWait = time.Second

// allow reports whether a request may be sent now and, if not, how long
// until the breaker lets one through. Each true must be followed by done
// or release.
func (b *breaker) allow(now time.Time) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case open:
		if now.Before(b.until) {
			return false, b.until.Sub(now)
		}
		b.set(halfOpen)
		b.probing = true
		return true, 0
	case halfOpen:
		if b.probing {
			return false, probeWait
		}
		b.probing = true
		return true, 0
	}
	return true, 0
}

// done records the result of a request allow let through.
func (b *breaker) done(now time.Time, failed bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case closed:
		if !failed {
			b.count = 0
			return
		}
		b.count++
		if b.count >= b.failures {
			b.trip(now)
		}
	case halfOpen:
		b.probing = false
		if failed {
			b.trip(now)
			return
		}
		b.count = 0
		b.set(closed)
	}
	// Open: a request let through before the breaker opened; its result
	// changes nothing.
}

// release gives back an allow whose request was never judged (not sent,
// or cut short by the caller): a half-open breaker may probe again.
func (b *breaker) release() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == halfOpen {
		b.probing = false
	}
}

func (b *breaker) trip(now time.Time) {
	b.until = now.Add(b.cooldown)
	b.count = 0
	b.probing = false
	b.set(open)
}

func (b *breaker) set(s breakerState) {
	if b.state == s {
		return
	}
	b.log.Warn("outbound circuit breaker", "from", b.state.String(), "to", s.String())
	b.state = s
}
