package cache_test

import (
	"time"

	"testing"

	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/cachetest"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
)

func TestMemoryStore(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Store { return cache.NewMemory(0, nil) })
}

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr)
	cachetest.Run(t, func(t *testing.T) cache.Store { return s })
}

// openRedis opens a Redis store on addr, closed when t ends. The timeout is
// generous: the race detector slows the client, and these tests are about
// behaviour, not speed.
func openRedis(t *testing.T, addr string) *cache.Redis {
	t.Helper()
	c := cache.Config{Redis: &cache.RedisConfig{Addrs: []string{addr}, Timeout: time.Second, PingInterval: 20 * time.Millisecond}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := c.Redis.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMemoryStoreIsBounded(t *testing.T) {
	m := cache.NewMemory(3, nil)
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := m.Set(t.Context(), 0, cache.Entry{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	vals, _ := m.Get(t.Context(), "a", "d")
	if vals[0] != nil || string(vals[1]) != "d" {
		t.Fatalf("after 4 Sets into 3 slots, Get a, d = %q; want the oldest evicted", vals)
	}
}
