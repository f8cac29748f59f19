// Package cachetest is the conformance suite of cache.Store: the in-process
// store and Redis (a real redis-server) pass the same cases.
package cachetest

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/cache"
)

// Run runs the suite. newStore returns a store for one case; stores may be
// shared between cases, since every case writes keys under its own name.
func Run(t *testing.T, newStore func(t *testing.T) cache.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s cache.Store, key func(string) string)
	}{
		{"GetAbsent", testGetAbsent},
		{"SetThenGet", testSetThenGet},
		{"ResultsAreCopies", testCopies},
		{"AddOnlyWhenEmpty", testAdd},
		{"AddKeepsPrefixes", testAddKeep},
		{"Delete", testDelete},
		{"Expiry", testExpiry},
		{"AnyKeyAndValue", testAnyBytes},
		{"ConcurrentAddOneWins", testConcurrentAdd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "cachetest:" + t.Name() + ":"
			tc.run(t, newStore(t), func(k string) string { return prefix + k })
		})
	}
}

func get(t *testing.T, s cache.Store, keys ...string) [][]byte {
	t.Helper()
	vals, err := s.Get(t.Context(), keys...)
	if err != nil {
		t.Fatalf("Get %q: %v", keys, err)
	}
	if len(vals) != len(keys) {
		t.Fatalf("Get %d keys returned %d values", len(keys), len(vals))
	}
	return vals
}

func set(t *testing.T, s cache.Store, ttl time.Duration, kv ...string) {
	t.Helper()
	var entries []cache.Entry
	for i := 0; i+1 < len(kv); i += 2 {
		entries = append(entries, cache.Entry{Key: kv[i], Value: []byte(kv[i+1])})
	}
	if err := s.Set(t.Context(), ttl, entries...); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func add(t *testing.T, s cache.Store, key, value string, keep ...string) bool {
	t.Helper()
	var k [][]byte
	for _, p := range keep {
		k = append(k, []byte(p))
	}
	ok, err := s.Add(t.Context(), key, []byte(value), time.Minute, k...)
	if err != nil {
		t.Fatalf("Add %q: %v", key, err)
	}
	return ok
}

func want(t *testing.T, s cache.Store, key, value string) {
	t.Helper()
	got := get(t, s, key)[0]
	if value == "" && got != nil {
		t.Fatalf("Get %q = %q, want nothing", key, got)
	}
	if value != "" && string(got) != value {
		t.Fatalf("Get %q = %q, want %q", key, got, value)
	}
}

func testGetAbsent(t *testing.T, s cache.Store, key func(string) string) {
	for i, v := range get(t, s, key("a"), key("b")) {
		if v != nil {
			t.Errorf("Get of absent key %d = %q, want nil", i, v)
		}
	}
	if vals := get(t, s); len(vals) != 0 {
		t.Errorf("Get of no keys = %q", vals)
	}
}

func testSetThenGet(t *testing.T, s cache.Store, key func(string) string) {
	set(t, s, time.Minute, key("a"), "1", key("b"), "2")
	vals := get(t, s, key("b"), key("none"), key("a"))
	if string(vals[0]) != "2" || vals[1] != nil || string(vals[2]) != "1" {
		t.Fatalf("Get b, none, a = %q, want [2 nil 1]", vals)
	}
	set(t, s, 0, key("a"), "3")
	want(t, s, key("a"), "3")
	if err := s.Set(t.Context(), time.Minute); err != nil {
		t.Fatalf("Set of no entries: %v", err)
	}
}

func testCopies(t *testing.T, s cache.Store, key func(string) string) {
	in := []byte("value")
	if err := s.Set(t.Context(), time.Minute, cache.Entry{Key: key("a"), Value: in}); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X'
	got := get(t, s, key("a"))[0]
	if string(got) != "value" {
		t.Fatalf("after changing the slice passed to Set, Get = %q", got)
	}
	got[0] = 'Y'
	want(t, s, key("a"), "value")
}

func testAdd(t *testing.T, s cache.Store, key func(string) string) {
	if !add(t, s, key("a"), "first") {
		t.Fatal("Add to an empty key = false")
	}
	if add(t, s, key("a"), "second") {
		t.Fatal("Add to a key that holds a value = true")
	}
	want(t, s, key("a"), "first")
}

// testAddKeep is how the decorator fills: a write's mark ("~...") and an
// entry of the current generation ("g2\n...") stay; an entry of another
// generation is replaced.
func testAddKeep(t *testing.T, s cache.Store, key func(string) string) {
	keep := []string{"~", "g2\n"}
	if !add(t, s, key("empty"), "g2\nnew", keep...) {
		t.Fatal("Add with keep to an empty key = false")
	}
	set(t, s, time.Minute, key("marked"), "~abc", key("current"), "g2\nold", key("stale"), "g1\nold")
	if add(t, s, key("marked"), "g2\nnew", keep...) {
		t.Error("Add with keep replaced a mark")
	}
	if add(t, s, key("current"), "g2\nnew", keep...) {
		t.Error("Add with keep replaced a current entry")
	}
	if !add(t, s, key("stale"), "g2\nnew", keep...) {
		t.Error("Add with keep left a stale entry")
	}
	want(t, s, key("marked"), "~abc")
	want(t, s, key("current"), "g2\nold")
	want(t, s, key("stale"), "g2\nnew")
}

func testDelete(t *testing.T, s cache.Store, key func(string) string) {
	set(t, s, time.Minute, key("a"), "1", key("b"), "2")
	if err := s.Delete(t.Context(), key("a"), key("absent")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	want(t, s, key("a"), "")
	want(t, s, key("b"), "2")
	if !add(t, s, key("a"), "again") {
		t.Fatal("Add after Delete = false")
	}
	if err := s.Delete(t.Context()); err != nil {
		t.Fatalf("Delete of no keys: %v", err)
	}
}

// testExpiry waits for a short TTL to pass: the store's own clock decides,
// so the case polls until the entry is gone, within a generous bound.
func testExpiry(t *testing.T, s cache.Store, key func(string) string) {
	set(t, s, 30*time.Millisecond, key("short"))
	set(t, s, 30*time.Millisecond, key("short"), "v")
	set(t, s, time.Hour, key("long"), "v")
	deadline := time.Now().Add(10 * time.Second)
	for get(t, s, key("short"))[0] != nil {
		if time.Now().After(deadline) {
			t.Fatal("an entry with a 30ms TTL still there after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	want(t, s, key("long"), "v")
	if !add(t, s, key("short"), "again") {
		t.Fatal("Add to an expired key = false")
	}
}

func testAnyBytes(t *testing.T, s cache.Store, key func(string) string) {
	var all []byte
	for b := range 256 {
		all = append(all, byte(b))
	}
	k := key("spaces and : colons and ü and \n")
	if err := s.Set(t.Context(), time.Minute, cache.Entry{Key: k, Value: all}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, k)[0]; !bytes.Equal(got, all) {
		t.Fatalf("Get of every byte value = %q", got)
	}
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := s.Set(t.Context(), time.Minute, cache.Entry{Key: key("big"), Value: big}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, key("big"))[0]; !bytes.Equal(got, big) {
		t.Fatalf("Get of a 1 MB value returned %d bytes", len(got))
	}
}

func testConcurrentAdd(t *testing.T, s cache.Store, key func(string) string) {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.Add(t.Context(), key("a"), []byte("v"), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("8 concurrent Adds of one key stored %d times, want 1", n)
	}
}
