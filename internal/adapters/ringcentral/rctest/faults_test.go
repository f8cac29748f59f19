package rctest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var mode atomic.Value
	mode.Store(Fault{})
	c := newClient(t, WithFault(func(r *http.Request) Fault {
		if r.Method == http.MethodPost && r.URL.Path == SCIMPrefix+"/Users" {
			return mode.Load().(Fault)
		}
		return Fault{}
	}))

	mode.Store(Fault{Status: http.StatusInternalServerError})
	c.do(http.MethodPost, "/Users", newUser("f@example.com")).wantSCIMError(t, http.StatusInternalServerError, "")
	if n := c.srv.Count(); n != 0 {
		t.Fatalf("a fault without AfterApply created a user")
	}

	mode.Store(Fault{Status: http.StatusTooManyRequests, RetryAfter: 2500 * time.Millisecond})
	r := c.do(http.MethodPost, "/Users", newUser("f@example.com"))
	r.wantPlatformError(t, http.StatusTooManyRequests, CodeRateExceeded)
	if r.header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}

	mode.Store(Fault{Status: http.StatusUnauthorized})
	c.do(http.MethodPost, "/Users", newUser("f@example.com")).wantPlatformError(t, http.StatusUnauthorized, CodeInvalidToken)

	mode.Store(Fault{Status: http.StatusBadGateway, AfterApply: true})
	c.do(http.MethodPost, "/Users", newUser("f@example.com")).want(t, http.StatusBadGateway)
	if n := c.srv.Count(); n != 1 {
		t.Fatalf("AfterApply: Count() = %d, want 1", n)
	}

	mode.Store(Fault{Drop: true, AfterApply: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, c.srv.BaseURL()+"/Users", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if resp, err := c.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("Drop: got an answer %d", resp.StatusCode)
	}

	reqs := c.srv.Requests()
	var statuses []int
	for _, r := range reqs {
		statuses = append(statuses, r.Status)
	}
	want := []int{500, 429, 401, 502, 0}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	// Faults answered without handling do not count against the limit:
	// only the AfterApply ones (502 and the drop) did.
	r = c.do(http.MethodGet, "/Users", nil)
	if got := r.header.Get("X-Rate-Limit-Remaining"); got != "49" {
		t.Errorf("light remaining %q", got)
	}
	mode.Store(Fault{})
	r = c.do(http.MethodPost, "/Users", newUser("g@example.com")).want(t, http.StatusCreated)
	if got := r.header.Get("X-Rate-Limit-Remaining"); got != "7" {
		t.Errorf("heavy remaining %q, want 7 (two AfterApply faults and this create)", got)
	}
}

func TestLatencyDelaysTheAnswerNotTheEffect(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithLatency(50*time.Millisecond), WithClock(clk.Now))
	start := time.Now()
	c.create("l@example.com")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least the latency", d)
	}
	if got := c.srv.Requests(); len(got) != 1 || !got[0].At.Equal(clk.Now()) || got[0].Status != http.StatusCreated {
		t.Errorf("Requests() = %+v", got)
	}
}

func TestRequestsRecordsAndResets(t *testing.T) {
	c := newClient(t)
	c.do(http.MethodPost, "/Users?x=1", newUser("r@example.com"))
	got := c.srv.Requests()
	if len(got) != 1 || got[0].Method != http.MethodPost || got[0].Path != "/scim/v2/Users" || got[0].RawQuery != "x=1" ||
		!strings.Contains(string(got[0].Body), "r@example.com") || got[0].Header.Get("Authorization") == "" || got[0].Group != GroupHeavy {
		t.Errorf("Requests() = %+v", got)
	}
	got[0].Body[0] = 'X'
	if c.srv.Requests()[0].Body[0] == 'X' {
		t.Error("Requests() shares its bodies")
	}
	c.srv.ResetRequests()
	if n := len(c.srv.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}
