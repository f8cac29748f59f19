// Package cache keeps what the gateway may reuse between requests: resources
// by id and the userName / externalId → id index that identity providers hit
// before every create. Store is where entries live (in process, or in Redis
// shared by every replica); Wrap puts a Store in front of an adapter.
//
// A cache is never the source of truth: any entry can vanish and the answer
// is the same, only slower.
package cache

import (
	"context"
	"errors"
	"time"
)

// Store holds byte values by key. Implementations are safe for concurrent
// use and never retain or modify the slices passed in or returned.
//
// A Store is a best-effort cache: it may drop any entry at any time, and a
// failing Store (Redis unreachable) answers with an error quickly, so that
// the caller can go to the source instead.
type Store interface {
	// Get returns the values of keys, in order, with nil for a key that
	// holds nothing (never set, expired, evicted or deleted). A nil error
	// means every value is current as of one moment per key.
	Get(ctx context.Context, keys ...string) ([][]byte, error)
	// Set stores each entry for ttl; ttl 0 means until evicted.
	Set(ctx context.Context, ttl time.Duration, entries ...Entry) error
	// Add stores value under key for ttl, unless key holds a value that
	// begins with one of keep (with no keep given: unless key holds
	// anything), and reports whether it stored. The check and the store
	// are one atomic step. Fills of a read-through cache use it, so that a
	// value read before a write never replaces the mark the write left.
	Add(ctx context.Context, key string, value []byte, ttl time.Duration, keep ...[]byte) (bool, error)
	// Delete removes keys; a key that holds nothing is not an error.
	Delete(ctx context.Context, keys ...string) error
}

// Entry is one key and its value, for Store.Set.
type Entry struct {
	Key   string
	Value []byte
}

// ErrUnavailable is returned (wrapped) by a Store that is degraded: it
// fails fast rather than making every request wait for a timeout, until it
// answers again.
var ErrUnavailable = errors.New("cache: store unavailable")

// State is the health of a Store, for /readyz detail, metrics and logs.
type State struct {
	// Healthy is false while the store is degraded: calls fail fast with
	// ErrUnavailable and the gateway serves from the vendors.
	Healthy bool
	// Since is when the store entered its current state (zero: since it
	// was opened).
	Since time.Time
	// LastError is the error that degraded the store, or the last one
	// seen; empty when none. It holds no secrets.
	LastError string
}
