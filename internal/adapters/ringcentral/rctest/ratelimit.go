package rctest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Usage-plan groups (VENDORS.md 2.10), as the X-Rate-Limit-Group header
// names them.
const (
	GroupLight = "light" // SCIM reads
	GroupHeavy = "heavy" // SCIM writes
	GroupAuth  = "auth"  // the token endpoint
)

// window is the sliding-window state of one (user, app, group).
type window struct {
	hits         []time.Time // accepted requests inside the window, oldest first
	penaltyUntil time.Time
}

// rateResult is what admit decided for one request.
type rateResult struct {
	group      string
	limit      int
	remaining  int
	windowSecs int
	retryAfter int // seconds; non-zero when the request is refused
}

// setHeaders writes the X-Rate-Limit-* headers RingCentral sends with every
// answer of a user-level limit (VENDORS.md 2.10, RC-RL).
func (rr rateResult) setHeaders(h http.Header) {
	h.Set("X-Rate-Limit-Group", rr.group)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(rr.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(rr.remaining))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(rr.windowSecs))
}

func (s *Sim) limit(group string) int {
	switch group {
	case GroupHeavy:
		return s.cfg.heavyLimit
	case GroupAuth:
		return s.cfg.authLimit
	}
	return s.cfg.lightLimit
}

func (s *Sim) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.timeScale)
}

// admit counts one request of key (the caller's user and app) in group at
// now. A request is refused when a penalty is running, which restarts the
// penalty and counts as a violation, or when the window already holds limit
// requests, which starts the penalty. Refused requests do not count in the
// window. The caller holds s.mu.
func (s *Sim) admit(key, group string, now time.Time) rateResult {
	limit := s.limit(group)
	win, penalty := s.scaled(DefaultWindow), s.scaled(DefaultPenalty)
	rr := rateResult{group: group, limit: limit, remaining: limit, windowSecs: ceilSeconds(win)}
	if s.cfg.noRateLimits {
		return rr
	}
	k := key + "\x00" + group
	w := s.windows[k]
	if w == nil {
		w = &window{}
		s.windows[k] = w
	}
	if now.Before(w.penaltyUntil) {
		// "Every request during the penalty interval restarts the
		// penalty" (RC-RL).
		s.violations++
		w.penaltyUntil = now.Add(penalty)
		rr.remaining, rr.retryAfter = 0, ceilSeconds(penalty)
		return rr
	}
	cut := 0
	for cut < len(w.hits) && !w.hits[cut].After(now.Add(-win)) {
		cut++
	}
	if cut > 0 {
		w.hits = append(w.hits[:0], w.hits[cut:]...)
	}
	if len(w.hits) >= limit {
		w.penaltyUntil = now.Add(penalty)
		rr.remaining, rr.retryAfter = 0, ceilSeconds(penalty)
		return rr
	}
	w.hits = append(w.hits, now)
	rr.remaining = limit - len(w.hits)
	return rr
}

// PenaltyViolations returns how many requests arrived while a penalty of
// their (user, app, group) was running: each of them was answered 429 and
// restarted the penalty. A client that obeys Retry-After makes none.
func (s *Sim) PenaltyViolations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
