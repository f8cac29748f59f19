package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// states records the state changes a Redis store reports.
type states struct {
	mu  sync.Mutex
	got []cache.State
}

func (s *states) add(st cache.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, st)
}

func (s *states) list() []cache.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cache.State(nil), s.got...)
}

func openWatched(t *testing.T, addr string) (*cache.Redis, *states) {
	t.Helper()
	w := new(states)
	c := cache.RedisConfig{Addrs: []string{addr}, Timeout: 250 * time.Millisecond, PingInterval: 20 * time.Millisecond}
	s, err := c.Open(w.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, w
}

// waitHealthy waits for the ping loop to find Redis again.
func waitHealthy(t *testing.T, s *cache.Redis) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !s.State().Healthy {
		if time.Now().After(deadline) {
			t.Fatalf("store still degraded 15s after Redis came back: %+v", s.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedisKilledAndRestarted: requests succeed while Redis is gone (from
// the vendor), the store says it is degraded, and it recovers by itself.
func TestRedisKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	s, w := openWatched(t, srv.Addr)
	inner := newCounting()
	a, b := replica(t, inner, s), replica(t, inner, s)
	u := mustCreate(t, a, scim.UserType, user("bjensen"))
	mustGet(t, b, scim.UserType, u.ID())
	mustGet(t, b, scim.UserType, u.ID())
	if n := inner.gets.Load(); n != 1 {
		t.Fatalf("vendor Gets before the outage = %d, want 1", n)
	}

	// Traffic through both replicas for the whole test; none may fail.
	var failures, served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range []adapters.Adapter{a, b} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := r.Get(context.Background(), scim.UserType, u.ID())
				page, lerr := r.List(context.Background(), scim.UserType, adapters.Query{Filter: eq("userName", "bjensen"), StartIndex: 1, Count: 1})
				if err != nil || lerr != nil || page.TotalResults != 1 {
					failures.Add(1)
				}
				served.Add(1)
				time.Sleep(time.Millisecond)
			}
		})
	}

	srv.Stop()
	// A write while Redis is gone: it reaches the vendor, and every
	// replica reads it afterwards.
	r := user("bjensen")
	r["title"] = "during the outage"
	if _, err := a.Replace(t.Context(), scim.UserType, u.ID(), r, ""); err != nil {
		t.Fatalf("Replace while Redis is down: %v", err)
	}
	for _, x := range []adapters.Adapter{a, b} {
		if got := mustGet(t, x, scim.UserType, u.ID()); got["title"] != "during the outage" {
			t.Fatalf("Get while Redis is down: title = %v", got["title"])
		}
	}
	st := s.State()
	if st.Healthy || st.LastError == "" || st.Since.IsZero() {
		t.Fatalf("State while Redis is down = %+v, want degraded with an error", st)
	}
	if err := s.Health(t.Context()); err == nil {
		t.Fatal("Health while Redis is down = nil")
	}

	srv.Restart()
	waitHealthy(t, s)
	if err := s.Health(t.Context()); err != nil {
		t.Fatalf("Health after Redis came back: %v", err)
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed across the outage", n, served.Load())
	}
	got := w.list()
	if len(got) < 2 || got[0].Healthy || !got[len(got)-1].Healthy {
		t.Fatalf("state changes = %+v, want degraded, then healthy", got)
	}

	// Back to caching: one vendor read fills the entry, the next is a hit.
	mustGet(t, a, scim.UserType, u.ID())
	before := inner.gets.Load()
	if got := mustGet(t, b, scim.UserType, u.ID()); got["title"] != "during the outage" {
		t.Fatalf("Get after recovery: title = %v", got["title"])
	}
	if inner.gets.Load() != before {
		t.Fatal("Get after recovery did not come from the store")
	}
	if st, _ := cache.StatsOf(a); st.Bypassed == 0 {
		t.Fatalf("Stats = %+v, want requests counted as bypassed during the outage", st)
	}
}

// TestRedisPartitioned: Redis stops answering but keeps its data (paused,
// as behind a network partition). A write in that time cannot invalidate
// what Redis holds; once Redis answers again, the replica that wrote starts
// a new generation before it reads, so neither replica serves the entry
// from before the write.
func TestRedisPartitioned(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := openWatched(t, srv.Addr)
	inner := newCounting()
	a, b := replica(t, inner, s), replica(t, inner, s)
	u := mustCreate(t, a, scim.UserType, user("bjensen"))
	mustGet(t, b, scim.UserType, u.ID()) // cached in Redis

	srv.Pause()
	r := user("bjensen")
	r["title"] = "new"
	if _, err := a.Replace(t.Context(), scim.UserType, u.ID(), r, ""); err != nil {
		t.Fatalf("Replace while Redis is paused: %v", err)
	}
	if got := mustGet(t, a, scim.UserType, u.ID()); got["title"] != "new" {
		t.Fatalf("Get while Redis is paused: title = %v", got["title"])
	}
	srv.Resume()
	waitHealthy(t, s)
	// The writer first: a replica that did not write, reading before the
	// writer's next request, could still see the old entry until its TTL
	// (docs/cache.md, "Redis down").
	for i, x := range []adapters.Adapter{a, b} {
		if got := mustGet(t, x, scim.UserType, u.ID()); got["title"] != "new" {
			t.Fatalf("replica %d: Get after Redis came back: title = %v, want the write made while it was away", i, got["title"])
		}
	}
	if st, _ := cache.StatsOf(a); st.Generations == 0 {
		t.Fatalf("Stats of the writer = %+v, want a new generation", st)
	}
}
