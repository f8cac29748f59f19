package rctest

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestEveryAnswerCarriesTheRateLimitHeaders(t *testing.T) {
	c := newClient(t)
	id := c.create("h@example.com").str("id")
	tests := []struct {
		method, path string
		body         any
		group        string
		limit        int
	}{
		{http.MethodGet, "/Users", nil, "light", 50},
		{http.MethodGet, "/Users/" + id, nil, "light", 50},
		{http.MethodGet, "/Users/1", nil, "light", 50}, // a 404 too
		{http.MethodPost, "/Users/.search", "{}", "light", 50},
		{http.MethodGet, "/ServiceProviderConfig", nil, "light", 50},
		{http.MethodPut, "/Users/" + id, newUser("h@example.com"), "heavy", 10},
		{http.MethodPatch, "/Users/" + id, patchBody(op("replace", "title", "x")), "heavy", 10},
		{http.MethodPost, "/Users", "{}", "heavy", 10}, // a 400 too
		{http.MethodDelete, "/Users/" + id, nil, "heavy", 10},
	}
	used := map[string]int{"heavy": 1} // the create above
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := c.do(tt.method, tt.path, tt.body)
			used[tt.group]++
			h := r.header
			if h.Get("X-Rate-Limit-Group") != tt.group || h.Get("X-Rate-Limit-Limit") != strconv.Itoa(tt.limit) ||
				h.Get("X-Rate-Limit-Remaining") != strconv.Itoa(tt.limit-used[tt.group]) || h.Get("X-Rate-Limit-Window") != "60" {
				t.Errorf("headers %v, want group %s limit %d remaining %d window 60", h, tt.group, tt.limit, tt.limit-used[tt.group])
			}
		})
	}
	for _, r := range c.srv.Requests() {
		if r.Group == "" || r.Status == 0 || r.At.IsZero() {
			t.Errorf("recorded %+v", r)
		}
	}
}

func TestBreachAnswers429AndEveryRequestInThePenaltyRestartsIt(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithClock(clk.Now), WithLimits(3, 2, 0))
	for range 3 {
		c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
		clk.Advance(time.Second)
	}
	r := c.do(http.MethodGet, "/Users", nil)
	r.wantPlatformError(t, http.StatusTooManyRequests, CodeRateExceeded)
	if r.str("message") != "Request rate exceeded" || r.header.Get("Retry-After") != "60" ||
		r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Group") != "light" {
		t.Errorf("429: %v %s", r.header, r.raw)
	}
	if c.srv.PenaltyViolations() != 0 {
		t.Errorf("the breach itself counted as a violation")
	}
	// Heavy has its own window and penalty.
	c.do(http.MethodPost, "/Users", newUser("w@example.com")).want(t, http.StatusCreated)

	// 59 s later the penalty still runs; asking restarts it.
	clk.Advance(59 * time.Second)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)
	clk.Advance(59 * time.Second)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)
	if v := c.srv.PenaltyViolations(); v != 2 {
		t.Errorf("PenaltyViolations() = %d, want 2", v)
	}
	// Silence for the whole penalty ends it.
	clk.Advance(60 * time.Second)
	r = c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	if r.header.Get("X-Rate-Limit-Remaining") != "2" {
		t.Errorf("after the penalty: remaining %q, want 2", r.header.Get("X-Rate-Limit-Remaining"))
	}

	var statuses []int
	for _, req := range c.srv.Requests() {
		statuses = append(statuses, req.Status)
	}
	want := []int{200, 200, 200, 429, 201, 429, 429, 200}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
}

func TestSlidingWindow(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithClock(clk.Now), WithLimits(2, 0, 0))
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK) // t=0
	clk.Advance(30 * time.Second)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK) // t=30
	clk.Advance(30 * time.Second)
	// t=60: the first request has left the window, the second has not.
	r := c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	if r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("remaining %q, want 0", r.header.Get("X-Rate-Limit-Remaining"))
	}
	clk.Advance(29 * time.Second)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)
}

func TestLimitsCountPerUserAndApp(t *testing.T) {
	clk := newFakeClock()
	srv := NewServer(t, WithClock(clk.Now), WithLimits(1, 0, 100))
	a := &client{t: t, srv: srv, token: srv.IssueToken()}
	b := &client{t: t, srv: srv, token: srv.IssueToken()} // the same user and app
	a.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	b.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)

	srv.RegisterClient("app2", "secret")
	r := tokenCall(t, srv, "app2", "secret", map[string][]string{"grant_type": {JWTBearerGrantType}, "assertion": {srv.IssueJWT("app2")}})
	other := &client{t: t, srv: srv, token: r.str("access_token")}
	other.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
}

func TestTimeScale(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithClock(clk.Now), WithTimeScale(0.01), WithLimits(1, 0, 0))
	r := c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	if r.header.Get("X-Rate-Limit-Window") != "1" {
		t.Errorf("window %q: 600ms rounds up to 1", r.header.Get("X-Rate-Limit-Window"))
	}
	r = c.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	clk.Advance(599 * time.Millisecond)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusTooManyRequests)
	clk.Advance(600 * time.Millisecond)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	if v := c.srv.PenaltyViolations(); v != 1 {
		t.Errorf("PenaltyViolations() = %d", v)
	}
}

// TestConcurrentRequestsNeverPassTheLimit sends many requests at once; the
// window admits exactly its limit.
func TestConcurrentRequestsNeverPassTheLimit(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithClock(clk.Now), WithLimits(20, 0, 0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 60 {
		wg.Go(func() {
			r := c.do(http.MethodGet, "/Users", nil)
			mu.Lock()
			defer mu.Unlock()
			if r.status == http.StatusOK {
				ok++
			}
		})
	}
	wg.Wait()
	if ok != 20 {
		t.Errorf("%d requests admitted, want 20", ok)
	}
	if v := c.srv.PenaltyViolations(); v != 39 {
		t.Errorf("PenaltyViolations() = %d, want 39 (all after the breach)", v)
	}
}
