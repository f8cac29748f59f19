package outbound

import (
	"errors"
	"log/slog"

	"context"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock replaces the client's clock and sleep: sleeping records the
// wait and moves the clock on at once, so backoff and Retry-After tests
// take no real time. It stands still otherwise, starting at the real time
// of its first reading so that real context deadlines compare sensibly
// with it.
type fakeClock struct {
	mu     sync.Mutex
	base   time.Time
	off    time.Duration
	sleeps []time.Duration
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.base.IsZero() {
		f.base = time.Now()
	}
	return f.base.Add(f.off)
}

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.off += d
	return nil
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.off += d
}

func (f *fakeClock) waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// newTestClient returns a client for baseURL on a fake clock, with no
// jitter (each backoff is the lower bound, half the ceiling).
func newTestClient(t *testing.T, baseURL string, tokens TokenSource, opts ...Option) (*Client, *fakeClock) {
	t.Helper()
	c, err := New(baseURL, tokens, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	clk := &fakeClock{}
	c.now, c.sleep, c.jitter = clk.now, clk.sleep, func() float64 { return 0 }
	return c, clk
}

// scripted is a loopback server answering its requests in turn with the
// given handlers; past the end it repeats the last. It counts requests.
type scripted struct {
	*httptest.Server
	mu    sync.Mutex
	steps []http.HandlerFunc
	n     atomic.Int64
	reqs  []*http.Request
}

func newScripted(t *testing.T, steps ...http.HandlerFunc) *scripted {
	t.Helper()
	s := &scripted{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.n.Add(1)) - 1
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		step := s.steps[min(i, len(s.steps)-1)]
		s.mu.Unlock()
		step(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) count() int { return int(s.n.Load()) }

func (s *scripted) request(i int) *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i]
}

// status answers with code, the given header pairs and a small JSON body.
func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"status":"` + http.StatusText(code) + `"}`))
	}
}

// hangUp reads the request, then closes the connection without an answer:
// the vendor may have applied it.
func hangUp(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("hangUp: no Hijacker")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// cutBody sends the headers and half a body, then closes the connection.
func cutBody(w http.ResponseWriter, r *http.Request) {
	hj := w.(http.Hijacker)
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
	_ = buf.Flush()
	_ = conn.Close()
}

// stall blocks until the client gives up (its attempt timeout) or release
// is closed.
func stall(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func asScim(t *testing.T, err error) *scim.Error {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *scim.Error", err, err)
	}
	return se
}

var discard = slog.New(slog.DiscardHandler)
