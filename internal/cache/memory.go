package cache

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultMaxEntries is the size of a Memory store when none is given.
const DefaultMaxEntries = 10_000

// Memory is the in-process Store: a bounded LRU of at most maxEntries
// values, each with its own expiry. It is the store when no Redis is
// configured; every replica then has its own, so writes through one
// replica do not invalidate another's entries (use Redis with more than
// one replica).
//
// Memory never fails. It is safe for concurrent use.
type Memory struct {
	now func() time.Time

	mu  sync.Mutex
	lru *simplelru.LRU[string, memEntry]
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

// NewMemory returns an empty store of at most maxEntries values
// (DefaultMaxEntries when maxEntries <= 0). now is the clock for expiry;
// nil means time.Now.
func NewMemory(maxEntries int, now func() time.Time) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	if now == nil {
		now = time.Now
	}
	l, err := simplelru.NewLRU[string, memEntry](maxEntries, nil)
	if err != nil {
		panic(err) // only for a non-positive size, excluded above
	}
	return &Memory{now: now, lru: l}
}

var _ Store = (*Memory)(nil)

// Get implements Store.
func (m *Memory) Get(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.now()
	out := make([][]byte, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		if e, ok := m.live(k, now); ok {
			out[i] = bytes.Clone(e.value)
		}
	}
	return out, nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, ttl time.Duration, entries ...Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	exp := m.expiry(ttl)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.lru.Add(e.Key, memEntry{value: bytes.Clone(e.Value), expires: exp})
	}
	return nil
}

// Add implements Store.
func (m *Memory) Add(ctx context.Context, key string, value []byte, ttl time.Duration, keep ...[]byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	exp := m.expiry(ttl)
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.live(key, m.now()); ok && kept(e.value, keep) {
		return false, nil
	}
	m.lru.Add(key, memEntry{value: bytes.Clone(value), expires: exp})
	return true, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
	return nil
}

// State implements the health report: a Memory store is always healthy.
func (m *Memory) State() State { return State{Healthy: true} }

// Len returns the number of entries held, expired ones not yet evicted
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// live returns key's entry unless it expired, which it then drops. The
// caller holds m.mu.
func (m *Memory) live(key string, now time.Time) (memEntry, bool) {
	e, ok := m.lru.Get(key)
	if !ok {
		return memEntry{}, false
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		m.lru.Remove(key)
		return memEntry{}, false
	}
	return e, true
}

func (m *Memory) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}

// kept reports whether Add must leave value as it is: it begins with one of
// keep, or keep is empty.
func kept(value []byte, keep [][]byte) bool {
	if len(keep) == 0 {
		return true
	}
	for _, k := range keep {
		if bytes.HasPrefix(value, k) {
			return true
		}
	}
	return false
}
