package webextest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRateLimitPerToken(t *testing.T) {
	var clock fakeClock
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.set(start)
	c := newClient(t, WithRateLimit(2, time.Minute, 3*time.Second), WithClock(clock.now))
	c.do(http.MethodGet, "/Users", nil).want(t, 200)
	c.do(http.MethodGet, "/Users", nil).want(t, 200)
	r := c.do(http.MethodGet, "/Users", nil)
	r.wantPlatformError(t, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "3" {
		t.Errorf("Retry-After %q, want 3", got)
	}
	// Another token has its own bucket.
	other := &client{t: t, srv: c.srv, token: c.srv.IssueToken()}
	other.do(http.MethodGet, "/Users", nil).want(t, 200)
	// Asking again before Retry-After has passed is another 429, with the
	// time that is left.
	clock.set(start.Add(time.Second))
	if r := c.do(http.MethodGet, "/Users", nil); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("early retry: %d, Retry-After %q, want 429 and 2", r.status, r.header.Get("Retry-After"))
	}
	// Once the bucket refills, requests pass.
	clock.set(start.Add(31 * time.Second))
	c.do(http.MethodGet, "/Users", nil).want(t, 200)
	// Token endpoints are not limited.
	for range 3 {
		postForm(t, c.srv, nil).wantPlatformError(t, http.StatusBadRequest)
	}
}

func TestRateLimitRetryAfterFromRefill(t *testing.T) {
	var clock fakeClock
	clock.set(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	c := newClient(t, WithRateLimit(1, 10*time.Second, 0), WithClock(clock.now))
	c.do(http.MethodGet, "/Users", nil).want(t, 200)
	if r := c.do(http.MethodGet, "/Users", nil); r.status != 429 || r.header.Get("Retry-After") != "10" {
		t.Errorf("%d, Retry-After %q, want 429 and 10", r.status, r.header.Get("Retry-After"))
	}
}

// faultOn answers fault for requests with method, and passes the rest.
func faultOn(method string, f Fault) Option {
	return WithFault(func(r *http.Request) Fault {
		if r.Method == method {
			return f
		}
		return Fault{}
	})
}

func TestFaultStatus(t *testing.T) {
	for _, tt := range []struct {
		status     int
		retryAfter string
		platform   bool
	}{
		{http.StatusServiceUnavailable, "1", true},
		{http.StatusTooManyRequests, "1", true},
		{http.StatusInternalServerError, "", true},
		{http.StatusBadGateway, "", true},
		{http.StatusConflict, "", false},
		{http.StatusNotFound, "", false},
	} {
		c := newClient(t, faultOn(http.MethodPost, Fault{Status: tt.status}))
		r := c.do(http.MethodPost, "/Users", user("f@example.com"))
		if tt.platform {
			r.wantPlatformError(t, tt.status)
		} else {
			r.wantSCIMError(t, tt.status, "")
		}
		if r.header.Get("Retry-After") != tt.retryAfter {
			t.Errorf("%d: Retry-After %q, want %q", tt.status, r.header.Get("Retry-After"), tt.retryAfter)
		}
		if c.srv.Count("User") != 0 {
			t.Errorf("%d: the request was applied", tt.status)
		}
	}
	c := newClient(t, faultOn(http.MethodGet, Fault{Status: 503, RetryAfter: 2500 * time.Millisecond}))
	if r := c.do(http.MethodGet, "/Users", nil); r.header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q, want 3", r.header.Get("Retry-After"))
	}
}

// rawPost sends a POST and returns the transport error, if any.
func rawPost(t *testing.T, srv *Server, token, path string, body any) (*http.Response, error) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.BaseURL()+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

func TestFaultDrop(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault Fault
		users int
	}{
		{"drop before apply", Fault{Drop: true}, 0},
		{"drop after apply", Fault{Drop: true, AfterApply: true}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(t, faultOn(http.MethodPost, tt.fault))
			tok := srv.IssueToken()
			resp, err := rawPost(t, srv, tok, "/Users", user("drop@example.com"))
			if err == nil {
				t.Fatalf("got an answer (%d) from a dropped connection", resp.StatusCode)
			}
			if n := srv.Count("User"); n != tt.users {
				t.Errorf("Count(User) = %d, want %d", n, tt.users)
			}
			if tt.users == 1 {
				// The client resolves the unknown outcome by searching.
				c := &client{t: t, srv: srv, token: tok}
				r := c.do(http.MethodGet, `/Users?filter=userName+eq+"drop@example.com"`, nil).want(t, 200)
				if num(r.body["totalResults"]) != 1 {
					t.Errorf("the applied user is not found: %s", r.raw)
				}
			}
		})
	}
}

func TestFaultStatusAfterApply(t *testing.T) {
	c := newClient(t, faultOn(http.MethodPost, Fault{Status: http.StatusGatewayTimeout, AfterApply: true}))
	c.do(http.MethodPost, "/Users", user("late@example.com")).wantPlatformError(t, http.StatusGatewayTimeout)
	if c.srv.Count("User") != 1 {
		t.Error("the request was not applied before the fault")
	}
	c.do(http.MethodPost, "/Users", user("late@example.com")).wantPlatformError(t, http.StatusGatewayTimeout)
	if c.srv.Count("User") != 1 {
		t.Error("the retry created a second user")
	}
}

func TestFaultSeesTheBody(t *testing.T) {
	var seen []string
	c := newClient(t, WithFault(func(r *http.Request) Fault {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, string(b))
		if strings.Contains(string(b), "bad@") {
			return Fault{Status: http.StatusBadRequest}
		}
		return Fault{}
	}))
	c.create("/Users", user("good@example.com"))
	c.do(http.MethodPost, "/Users", user("bad@example.com")).wantSCIMError(t, http.StatusBadRequest, "")
	if len(seen) != 2 || !strings.Contains(seen[0], "good@") {
		t.Errorf("fault saw %q", seen)
	}
	if c.srv.Count("User") != 1 {
		t.Errorf("Count(User) = %d", c.srv.Count("User"))
	}
}

func TestLatencyEndsWithTheClient(t *testing.T) {
	srv := NewServer(t, WithLatency(time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.BaseURL()+"/Users", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+srv.IssueToken())
	_, err := srv.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the client's deadline", err)
	}
	if srv.Count("User") != 0 {
		t.Error("a request whose client left was applied")
	}
}
