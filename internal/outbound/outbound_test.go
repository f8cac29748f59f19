package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestDoSendsRequest(t *testing.T) {
	var got struct {
		method, path, query, auth, ctype, ua, body string
	}
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.RawQuery
		got.auth, got.ctype, got.ua, got.body = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), string(b)
		w.Header().Set("TrackingID", "T-1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	})
	c, _ := newTestClient(t, srv.URL+"/base/", StaticToken("tok"))
	resp, err := c.Do(t.Context(), Request{Method: "post", Path: "/Users", Query: map[string][]string{"a": {"b c"}},
		Body: []byte(`{"userName":"x"}`), Op: "test.Create"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Status != http.StatusCreated || string(resp.Body) != `{"id":"1"}` || resp.Attempts != 1 || resp.Header.Get("TrackingID") != "T-1" {
		t.Errorf("Do = %+v", resp)
	}
	want := [...]string{"POST", "/base/Users", "a=b+c", "Bearer tok", "application/json", DefaultUserAgent, `{"userName":"x"}`}
	have := [...]string{got.method, got.path, got.query, got.auth, got.ctype, got.ua, got.body}
	if want != have {
		t.Errorf("server saw %q, want %q", have, want)
	}
}

func TestDoHeadersAndNoToken(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Authorization"]; ok {
			t.Errorf("Authorization sent without a token")
		}
		if r.Header.Get("Content-Type") != "application/scim+json" || r.Header.Get("User-Agent") != "ua/1" {
			t.Errorf("headers %v", r.Header)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c, _ := newTestClient(t, srv.URL, StaticToken(""), WithUserAgent("ua/1"))
	resp, err := c.Do(t.Context(), Request{Method: http.MethodPut, Path: "Users/1", Body: []byte(`{}`),
		Header: http.Header{"Content-Type": {"application/scim+json"}}})
	if err != nil || resp.Status != http.StatusNoContent || resp.Body != nil {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if p := srv.request(0).URL.Path; p != "/Users/1" {
		t.Errorf("path %q, want /Users/1", p)
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "example.com/x", "ftp://example.com", "http://", "http://h/x?q=1", "http://h/#f", "http://[::1", "https://user:s3cret@h/", "https://user:s3cret@[::1/", "ftp://user:s3cret@h/"} {
		_, err := New(u, nil)
		if err == nil {
			t.Errorf("New(%q) = nil error, want one", u)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q) error %q echoes the secret", u, err)
		}
	}
	c, err := New("https://example.com/identity/scim/org/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().String(); got != "https://example.com/identity/scim/org/v2" {
		t.Errorf("BaseURL() = %q", got)
	}
	c.BaseURL().Path = "/changed"
	if c.BaseURL().Path == "/changed" {
		t.Error("BaseURL() returned the client's own URL")
	}
}

// outcome is what a Do call ended with, for table tests.
type outcome struct {
	status  int  // the Response status, or the *scim.Error status
	unknown bool // the error wraps ErrOutcomeUnknown
	isErr   bool
}

func classify(t *testing.T, resp *Response, err error) outcome {
	t.Helper()
	if err == nil {
		if resp == nil {
			t.Fatal("Do returned neither a response nor an error")
		}
		return outcome{status: resp.Status}
	}
	if resp != nil {
		t.Errorf("Do returned a response with error %v", err)
	}
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("Do error %v (%T) is not a *scim.Error", err, err)
	}
	return outcome{status: se.Status, unknown: errors.Is(err, ErrOutcomeUnknown), isErr: true}
}

func TestRetryMatrix(t *testing.T) {
	ok := status(http.StatusOK)
	tests := []struct {
		name      string
		method    string
		steps     []http.HandlerFunc
		want      outcome
		wantSent  int // requests the server saw
		wantWaits int
	}{
		{"get 503 then ok", "GET", []http.HandlerFunc{status(503), status(503), ok}, outcome{status: 200}, 3, 2},
		{"get 502 then ok", "GET", []http.HandlerFunc{status(502), ok}, outcome{status: 200}, 2, 1},
		{"get 504 then ok", "GET", []http.HandlerFunc{status(504), ok}, outcome{status: 200}, 2, 1},
		{"get 429 then ok", "GET", []http.HandlerFunc{status(429, "Retry-After", "1"), ok}, outcome{status: 200}, 2, 1},
		{"get 500 not retried", "GET", []http.HandlerFunc{status(500), ok}, outcome{status: 500}, 1, 0},
		{"get 404 not retried", "GET", []http.HandlerFunc{status(404), ok}, outcome{status: 404}, 1, 0},
		{"get 409 not retried", "GET", []http.HandlerFunc{status(409), ok}, outcome{status: 409}, 1, 0},
		{"get 503 exhausts attempts", "GET", []http.HandlerFunc{status(503)}, outcome{status: 503}, DefaultMaxAttempts, DefaultMaxAttempts - 1},
		{"head 502 then ok", "HEAD", []http.HandlerFunc{status(502), ok}, outcome{status: 200}, 2, 1},
		{"put 502 then ok", "PUT", []http.HandlerFunc{status(502), ok}, outcome{status: 200}, 2, 1},
		{"delete 504 then ok", "DELETE", []http.HandlerFunc{status(504), status(204)}, outcome{status: 204}, 2, 1},
		{"get hang-up then ok", "GET", []http.HandlerFunc{hangUp, ok}, outcome{status: 200}, 2, 1},
		{"get body cut then ok", "GET", []http.HandlerFunc{cutBody, ok}, outcome{status: 200}, 2, 1},
		{"get hang-up always", "GET", []http.HandlerFunc{hangUp}, outcome{status: 502, isErr: true}, DefaultMaxAttempts, DefaultMaxAttempts - 1},
		{"put hang-up then ok", "PUT", []http.HandlerFunc{hangUp, ok}, outcome{status: 200}, 2, 1},
		{"post 503 then created", "POST", []http.HandlerFunc{status(503), status(201)}, outcome{status: 201}, 2, 1},
		{"post 429 then created", "POST", []http.HandlerFunc{status(429, "Retry-After", "0"), status(201)}, outcome{status: 201}, 2, 1},
		{"post 502 unknown", "POST", []http.HandlerFunc{status(502), status(201)}, outcome{status: 502, unknown: true, isErr: true}, 1, 0},
		{"post 504 unknown", "POST", []http.HandlerFunc{status(504), status(201)}, outcome{status: 504, unknown: true, isErr: true}, 1, 0},
		{"post 500 answered", "POST", []http.HandlerFunc{status(500), status(201)}, outcome{status: 500}, 1, 0},
		{"post 409 answered", "POST", []http.HandlerFunc{status(409), status(201)}, outcome{status: 409}, 1, 0},
		{"post hang-up unknown", "POST", []http.HandlerFunc{hangUp, status(201)}, outcome{status: 502, unknown: true, isErr: true}, 1, 0},
		{"post body cut unknown", "POST", []http.HandlerFunc{cutBody, status(201)}, outcome{status: 502, unknown: true, isErr: true}, 1, 0},
		{"patch 503 then ok", "PATCH", []http.HandlerFunc{status(503), ok}, outcome{status: 200}, 2, 1},
		{"patch 502 unknown", "PATCH", []http.HandlerFunc{status(502), ok}, outcome{status: 502, unknown: true, isErr: true}, 1, 0},
		{"patch hang-up unknown", "PATCH", []http.HandlerFunc{hangUp, ok}, outcome{status: 502, unknown: true, isErr: true}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.steps...)
			c, clk := newTestClient(t, srv.URL, StaticToken("tok"))
			var body []byte
			if tt.method == "POST" || tt.method == "PATCH" || tt.method == "PUT" {
				body = []byte(`{"userName":"u"}`)
			}
			resp, err := c.Do(t.Context(), Request{Method: tt.method, Path: "/Users", Body: body, Op: "test"})
			if got := classify(t, resp, err); got != tt.want {
				t.Errorf("Do = %+v (err %v), want %+v", got, err, tt.want)
			}
			if srv.count() != tt.wantSent {
				t.Errorf("server saw %d requests, want %d", srv.count(), tt.wantSent)
			}
			if w := clk.waits(); len(w) != tt.wantWaits {
				t.Errorf("waited %v, want %d waits", w, tt.wantWaits)
			}
			if err == nil && resp.Attempts != tt.wantSent {
				t.Errorf("Attempts = %d, want %d", resp.Attempts, tt.wantSent)
			}
			if tt.want.unknown {
				var oe *OutcomeError
				if !errors.As(err, &oe) || oe.Attempts != 1 || oe.Method != tt.method {
					t.Errorf("error %v: want an *OutcomeError after 1 attempt", err)
				}
			}
		})
	}
}

func TestOutcomeErrorKeepsProxyAnswer(t *testing.T) {
	srv := newScripted(t, status(504, "TrackingID", "ROUTER_1"))
	c, _ := newTestClient(t, srv.URL, nil)
	_, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`), Op: "webex.CreateUser"})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Response == nil || oe.Response.Header.Get("TrackingID") != "ROUTER_1" || oe.Op != "webex.CreateUser" {
		t.Fatalf("Do error %v: want an OutcomeError with the 504's headers", err)
	}
	if se := scim.AsError(err); se.Status != http.StatusGatewayTimeout {
		t.Errorf("scim.AsError(err).Status = %d, want 504", se.Status)
	}
}

func TestBackoffGrows(t *testing.T) {
	srv := newScripted(t, status(503))
	c, clk := newTestClient(t, srv.URL, nil, WithRetry(RetryPolicy{MaxAttempts: 6, Base: 100 * time.Millisecond, Max: 500 * time.Millisecond}))
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	// Jitter 0 takes the lower bound, half of each ceiling 100, 200, 400, 500, 500ms.
	want := []time.Duration{50, 100, 200, 250, 250}
	got := clk.waits()
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v ms", got, want)
	}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Errorf("wait %d = %v, want %v", i, got[i], want[i]*time.Millisecond)
		}
	}
	// With jitter, waits stay in [ceiling/2, ceiling).
	c.jitter = func() float64 { return 0.999 }
	for n, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 3: 400 * time.Millisecond, 9: 500 * time.Millisecond} {
		if d := c.backoff(n); d < ceil/2 || d >= ceil {
			t.Errorf("backoff(%d) = %v, want in [%v, %v)", n, d, ceil/2, ceil)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	date := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	tests := []struct {
		name     string
		first    http.HandlerFunc
		min, max time.Duration
	}{
		{"seconds", status(429, "Retry-After", "2"), 2 * time.Second, 2 * time.Second},
		{"http date", date, 2 * time.Second, 3 * time.Second},
		{"429 without header waits the default", status(429), DefaultWait429, DefaultWait429},
		{"503 without header backs off", status(503), DefaultBackoffBase / 2, DefaultBackoffBase / 2},
		{"malformed header backs off", status(503, "Retry-After", "soon"), DefaultBackoffBase / 2, DefaultBackoffBase / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.first, status(200))
			c, clk := newTestClient(t, srv.URL, nil)
			resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)})
			if err != nil || resp.Status != 200 || resp.Attempts != 2 {
				t.Fatalf("Do = %+v, %v", resp, err)
			}
			w := clk.waits()
			if len(w) != 1 || w[0] < tt.min || w[0] > tt.max {
				t.Errorf("waits %v, want one in [%v, %v]", w, tt.min, tt.max)
			}
		})
	}
}

func TestRetryAfterBeyondDeadlineReturnsAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		after  string
		policy RetryPolicy
	}{
		{"429 past deadline", 429, "5", RetryPolicy{}},
		{"503 past deadline", 503, "30", RetryPolicy{}},
		{"429 past max retry-after", 429, "120", RetryPolicy{}},
		{"429 default wait past deadline", 429, "", RetryPolicy{Wait429: 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := []string{"TrackingID", "T-9"}
			if tt.after != "" {
				h = append(h, "Retry-After", tt.after)
			}
			srv := newScripted(t, status(tt.code, h...), status(200))
			c, clk := newTestClient(t, srv.URL, nil, WithRetry(tt.policy))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if tt.name == "429 past max retry-after" {
				ctx = t.Context() // no deadline: the cap alone stops it
			}
			resp, err := c.Do(ctx, Request{Method: "GET", Path: "/Users"})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != tt.code || resp.Attempts != 1 || srv.count() != 1 || len(clk.waits()) != 0 {
				t.Errorf("Do = status %d after %d attempts, server %d, waits %v; want the %d at once",
					resp.Status, resp.Attempts, srv.count(), clk.waits(), tt.code)
			}
			if resp.Header.Get("TrackingID") != "T-9" {
				t.Error("vendor tracking id lost")
			}
			if tt.after != "" {
				if got := RetryAfterSeconds(resp.Header, clk.now()); got != atoi(t, tt.after) {
					t.Errorf("RetryAfterSeconds = %d, want %s", got, tt.after)
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"  7 ", 7 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"abc", 0, false},
		{"99999999999999999999999", maxWait, true},
		{"9999999999", maxWait, true},
		{"Tue, 24 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 24-Nov-26 12:01:00 GMT", time.Minute, true}, // RFC 850, obsolete but allowed
		{"Tue Nov 24 12:00:05 2026", 5 * time.Second, true},    // asctime
		{"Tue, 24 Nov 2026 11:00:00 GMT", 0, true},             // past
		{"Tue, 24 Nov 2126 11:00:00 GMT", maxWait, true},
		{"Tue, 32 Nov 2026 11:00:00 GMT", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(http.Header{"Retry-After": {tt.in}}, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := RetryAfterSeconds(http.Header{"Retry-After": {"Tue, 24 Nov 2026 12:00:00 GMT"}}, now.Add(-1500*time.Millisecond)); got != 2 {
		t.Errorf("RetryAfterSeconds rounds %v up to %d, want 2", 1500*time.Millisecond, got)
	}
	if got := RetryAfterSeconds(http.Header{}, now); got != 0 {
		t.Errorf("RetryAfterSeconds without header = %d, want 0", got)
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "5", "120", "-1", "1e3", "Tue, 24 Nov 2026 12:00:30 GMT", "Tue Nov 24 12:00:05 2026", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 256 {
			return
		}
		d, ok := RetryAfter(http.Header{"Retry-After": {in}}, now)
		if d < 0 || d > maxWait || (!ok && d != 0) {
			t.Fatalf("RetryAfter(%q) = %v, %v", in, d, ok)
		}
		if s := RetryAfterSeconds(http.Header{"Retry-After": {in}}, now); ok != (s > 0) {
			t.Fatalf("RetryAfterSeconds(%q) = %d, ok %v", in, s, ok)
		}
	})
}

func TestPostTimeoutAfterSendIsUnknown(t *testing.T) {
	release := make(chan struct{})
	srv := newScripted(t, stall(release), status(201))
	t.Cleanup(func() { close(release) })
	c, _ := newTestClient(t, srv.URL, nil, WithTimeout(50*time.Millisecond))
	resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{"userName":"u"}`)})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("Do = %v, %v; want ErrOutcomeUnknown", resp, err)
	}
	if se := scim.AsError(err); se.Status != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", se.Status)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("server saw %d requests, want exactly 1", n)
	}
}

func TestGetTimeoutRetried(t *testing.T) {
	release := make(chan struct{})
	srv := newScripted(t, stall(release), status(200))
	t.Cleanup(func() { close(release) })
	c, _ := newTestClient(t, srv.URL, nil, WithTimeout(50*time.Millisecond))
	resp, err := c.Do(t.Context(), Request{Path: "/Users/1"})
	if err != nil || resp.Status != 200 || resp.Attempts != 2 {
		t.Fatalf("Do = %+v, %v; want 200 after 2 attempts", resp, err)
	}
}

func TestGetTimeoutExhausted(t *testing.T) {
	release := make(chan struct{})
	srv := newScripted(t, stall(release))
	t.Cleanup(func() { close(release) })
	c, _ := newTestClient(t, srv.URL, nil, WithTimeout(20*time.Millisecond), WithRetry(RetryPolicy{MaxAttempts: 2}))
	_, err := c.Do(t.Context(), Request{Path: "/Users/1"})
	if se := scim.AsError(err); se.Status != http.StatusGatewayTimeout || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("Do error %v, want a 504", err)
	}
}

func TestCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := newScripted(t, stall(release))
	t.Cleanup(func() { close(release) })
	c, _ := newTestClient(t, srv.URL, nil)
	for _, method := range []string{"GET", "POST"} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		_, err := c.Do(ctx, Request{Method: method, Path: "/Users", Body: []byte(`{}`)})
		cancel()
		if se := scim.AsError(err); se.Status != http.StatusGatewayTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Do error %v, want a 504 wrapping the deadline", method, err)
		}
		if got := errors.Is(err, ErrOutcomeUnknown); got != (method == "POST") {
			t.Errorf("%s: outcome unknown = %v", method, got)
		}
	}
	// A context that already ended sends nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := srv.count()
	if _, err := c.Do(ctx, Request{Path: "/"}); scim.AsError(err).Status != http.StatusGatewayTimeout || srv.count() != before {
		t.Errorf("Do on an ended context = %v, sent %d", err, srv.count()-before)
	}
}

// refusingDialer dials a closed port for its first n dials (a real
// "connection refused"), then the server.
func refusingDialer(t *testing.T, n int) (*http.Client, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	_ = l.Close()
	var dials atomic.Int64
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= int64(n) {
			addr = closedAddr
		}
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, &dials
}

func TestPostDialErrorRetried(t *testing.T) {
	srv := newScripted(t, status(201))
	hc, dials := refusingDialer(t, 2)
	c, clk := newTestClient(t, srv.URL, nil, WithHTTPClient(hc))
	resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{"userName":"u"}`)})
	if err != nil || resp.Status != 201 || resp.Attempts != 3 {
		t.Fatalf("Do = %+v, %v; want 201 after 3 attempts", resp, err)
	}
	if srv.count() != 1 || dials.Load() != 3 || len(clk.waits()) != 2 {
		t.Errorf("server %d, dials %d, waits %v", srv.count(), dials.Load(), clk.waits())
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, clk := newTestClient(t, "http://"+addr, nil)
	_, err = c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`), Op: "t.Create"})
	se := scim.AsError(err)
	if se.Status != http.StatusBadGateway || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("Do error %v, want a 502 (not an unknown outcome: nothing was sent)", err)
	}
	if strings.Contains(se.Detail, addr) {
		t.Errorf("detail %q names the vendor address", se.Detail)
	}
	if len(clk.waits()) != DefaultMaxAttempts-1 {
		t.Errorf("waits %v", clk.waits())
	}
}

func TestTransientBackoffBeyondDeadlineStops(t *testing.T) {
	srv := newScripted(t, hangUp, status(200))
	c, clk := newTestClient(t, srv.URL, nil, WithRetry(RetryPolicy{Base: 10 * time.Second}))
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := c.Do(ctx, Request{Path: "/"})
	if scim.AsError(err).Status != http.StatusBadGateway || srv.count() != 1 || len(clk.waits()) != 0 {
		t.Fatalf("Do = %v after %d requests, waits %v; want a 502 at once", err, srv.count(), clk.waits())
	}
}

func TestBodyCap(t *testing.T) {
	big := strings.Repeat("x", 100)
	fixed := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, big) }
	chunked := func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			_, _ = io.WriteString(w, big[:10])
			w.(http.Flusher).Flush()
		}
	}
	for name, h := range map[string]http.HandlerFunc{"content length": fixed, "chunked": chunked} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, h)
			c, _ := newTestClient(t, srv.URL, nil, WithMaxResponseBytes(99))
			_, err := c.Do(t.Context(), Request{Path: "/"})
			if se := scim.AsError(err); se.Status != http.StatusBadGateway || srv.count() != 1 {
				t.Errorf("GET: %v after %d requests, want a 502 at once", err, srv.count())
			}
			_, err = c.Do(t.Context(), Request{Method: "POST", Path: "/", Body: []byte(`{}`)})
			var oe *OutcomeError
			if !errors.As(err, &oe) || oe.Response == nil || oe.Response.Status != 200 || oe.Response.Body != nil {
				t.Errorf("POST: %v, want an OutcomeError with the 200 and no body", err)
			}
			c2, _ := newTestClient(t, srv.URL, nil, WithMaxResponseBytes(100))
			resp, err := c2.Do(t.Context(), Request{Path: "/"})
			if err != nil || len(resp.Body) != 100 {
				t.Errorf("at the limit: %v, %v", resp, err)
			}
		})
	}
}

func TestRequestHookPerAttempt(t *testing.T) {
	var calls atomic.Int64
	srv := newScripted(t, status(503), status(503), func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Traceparent") == "" || r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(400)
		}
	})
	hook := func(r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("Authorization") == "" {
			t.Error("hook ran before the client's headers were set")
		}
		r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"+string(rune('0'+n)))
	}
	c, _ := newTestClient(t, srv.URL, StaticToken("t"), WithRequestHook(hook), WithRequestHook(nil))
	resp, err := c.Do(t.Context(), Request{Path: "/"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if calls.Load() != 3 {
		t.Errorf("hook ran %d times, want 3 (once per attempt)", calls.Load())
	}
	for i := range 3 {
		if got := srv.request(i).Header.Get("Traceparent"); !strings.HasSuffix(got, string(rune('1'+i))) {
			t.Errorf("attempt %d carried traceparent %q", i+1, got)
		}
	}
}

func TestRoundTripperWrap(t *testing.T) {
	srv := newScripted(t, status(200))
	var seen atomic.Int64
	hc := srv.Client()
	c, _ := newTestClient(t, srv.URL, nil, WithHTTPClient(hc), WithRoundTripper(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen.Add(1)
			return next.RoundTrip(r)
		})
	}))
	if _, err := c.Do(t.Context(), Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 1 {
		t.Errorf("wrapper saw %d requests, want 1", seen.Load())
	}
	if hc.Transport == c.hc.Transport {
		t.Error("WithRoundTripper modified the caller's *http.Client")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNoRedirectFollowed(t *testing.T) {
	srv := newScripted(t, status(http.StatusTemporaryRedirect, "Location", "/elsewhere"), status(201))
	c, _ := newTestClient(t, srv.URL, StaticToken("t"))
	resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)})
	if err != nil || resp.Status != http.StatusTemporaryRedirect || srv.count() != 1 {
		t.Fatalf("Do = %+v, %v; want the 307 itself", resp, err)
	}
}

func TestInvalidRequestNotRetried(t *testing.T) {
	srv := newScripted(t, status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	_, err := c.Do(t.Context(), Request{Method: "BAD METHOD", Path: "/"})
	var se *scim.Error
	if err == nil || errors.As(err, &se) || srv.count() != 0 || len(clk.waits()) != 0 {
		t.Fatalf("Do(bad method) = %v, sent %d, waits %v; want a plain error at once", err, srv.count(), clk.waits())
	}
}

func TestPathWithQuery(t *testing.T) {
	srv := newScripted(t, status(200))
	c, _ := newTestClient(t, srv.URL, nil)
	if _, err := c.Do(t.Context(), Request{Path: "/Users?startIndex=2", Query: map[string][]string{"count": {"5"}}}); err != nil {
		t.Fatal(err)
	}
	if q := srv.request(0).URL.RawQuery; q != "startIndex=2&count=5" {
		t.Errorf("query %q", q)
	}
}

func TestLogsNoSecrets(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := newScripted(t, status(503, "Retry-After", "0"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-77")
		_, _ = w.Write([]byte(`{"emails":[{"value":"secret-body@example.com"}]}`))
	})
	c, _ := newTestClient(t, srv.URL, StaticToken("s3cr3t-token"), WithLogger(log), WithLogHeaders("x-request-id", ""))
	_, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users/.search", Op: "test.Search",
		Query: map[string][]string{"filter": {`userName eq "query-pii@example.com"`}},
		Body:  []byte(`{"filter":"userName eq \"body-pii@example.com\""}`)})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range []string{"s3cr3t-token", "query-pii", "body-pii", "secret-body"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"msg":"outbound attempt"`, `"msg":"outbound retry"`, `"op":"test.Search"`, `"status":503`, `"status":200`, `"X-Request-Id":"req-77"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestConcurrentUse runs many callers through one client with retries, a
// token cache, the rate limiter and the breaker, for the race detector.
func TestConcurrentUse(t *testing.T) {
	var n atomic.Int64
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 5 {
		case 0:
			status(503, "Retry-After", "0")(w, r)
		case 1:
			status(502)(w, r)
		default:
			status(200)(w, r)
		}
	})
	var fetches atomic.Int64
	tc := NewTokenCache(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprint("t", fetches.Add(1))}, nil
	}, 0)
	c, _ := newTestClient(t, srv.URL, tc, WithRateLimit(1e6, 100), WithBreaker(BreakerPolicy{Failures: 1000}))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				resp, err := c.Do(t.Context(), Request{Method: "GET", Path: fmt.Sprintf("/Users/%d-%d", i, j)})
				if err != nil || (resp.Status != 200 && resp.Status != 502 && resp.Status != 503) {
					t.Errorf("Do = %v, %v", resp, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if fetches.Load() != 1 {
		t.Errorf("%d token fetches, want 1", fetches.Load())
	}
}

func TestHeadBodyCap(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(200)
	})
	c, _ := newTestClient(t, srv.URL, nil, WithMaxResponseBytes(10))
	resp, err := c.Do(t.Context(), Request{Method: "HEAD", Path: "/"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("HEAD with a large Content-Length = %v, %v; want the 200", resp, err)
	}
}

// TestUntracedTransport: a transport that does not report to httptrace
// leaves only the error to judge whether a POST was sent.
func TestUntracedTransport(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantUnknown bool
	}{
		{"dial error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{"dns error", &net.DNSError{Err: "no such host", Name: "vendor.invalid"}, false},
		{"read error", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{"opaque error", io.ErrUnexpectedEOF, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if calls.Add(1) == 1 {
					return nil, tt.err
				}
				return &http.Response{StatusCode: 201, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
			})}
			c, _ := newTestClient(t, "http://vendor.test", nil, WithHTTPClient(hc))
			resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)})
			if got := errors.Is(err, ErrOutcomeUnknown); got != tt.wantUnknown {
				t.Fatalf("Do = %v, %v; outcome unknown %v, want %v", resp, err, got, tt.wantUnknown)
			}
			if !tt.wantUnknown && (err != nil || resp.Status != 201 || calls.Load() != 2) {
				t.Fatalf("Do = %v, %v after %d calls; want the retry's 201", resp, err, calls.Load())
			}
		})
	}
}

func TestRealSleep(t *testing.T) {
	srv := newScripted(t, status(503), status(200))
	c, err := New(srv.URL, nil, WithRetry(RetryPolicy{Base: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Do(t.Context(), Request{Path: "/"}); err != nil || resp.Status != 200 {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx(ended) = %v", err)
	}
	if err := sleepCtx(t.Context(), 0); err != nil {
		t.Errorf("sleepCtx(0) = %v", err)
	}
}

func TestOutcomeErrorMessage(t *testing.T) {
	srv := newScripted(t, hangUp)
	c, _ := newTestClient(t, srv.URL, nil)
	_, err := c.Do(t.Context(), Request{Method: "PATCH", Path: "/Users/1", Body: []byte(`{}`), Op: "webex.PatchUser"})
	if msg := fmt.Sprint(err); !strings.Contains(msg, "webex.PatchUser PATCH") || !strings.Contains(msg, "outcome unknown") {
		t.Errorf("error text %q", msg)
	}
}

func TestTokenWaitEndsWithCaller(t *testing.T) {
	srv := newScripted(t, status(200))
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tc := NewTokenCache(func(ctx context.Context) (*oauth2.Token, error) {
		<-block
		return &oauth2.Token{AccessToken: "late"}, nil
	}, 0)
	c, _ := newTestClient(t, srv.URL, tc)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{Path: "/"})
	if se := asScim(t, err); se.Status != http.StatusGatewayTimeout || srv.count() != 0 {
		t.Fatalf("Do while the token fetch hangs = %v, sent %d; want a 504", err, srv.count())
	}
}
