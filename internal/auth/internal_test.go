package auth

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestMatchHash checks the constant-time search: every position is found,
// a miss is -1, and the loop visits every hash however early the match
// (the property that keeps the time independent of the match).
func TestMatchHash(t *testing.T) {
	hashes := make([][sha256.Size]byte, 5)
	for i := range hashes {
		hashes[i] = sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
	}
	for i := range hashes {
		if got := matchHash(hashes[i], hashes); got != i {
			t.Errorf("matchHash(hashes[%d]) = %d, want %d", i, got, i)
		}
	}
	if got := matchHash(sha256.Sum256([]byte("nope")), hashes); got != -1 {
		t.Errorf("matchHash(unknown) = %d, want -1", got)
	}
	if got := matchHash(hashes[0], nil); got != -1 {
		t.Errorf("matchHash(no hashes) = %d, want -1", got)
	}
	// A hash that differs from hashes[2] in its last byte only is a miss.
	near := hashes[2]
	near[sha256.Size-1] ^= 1
	if got := matchHash(near, hashes); got != -1 {
		t.Errorf("matchHash(near miss) = %d, want -1", got)
	}
	allocs := testing.AllocsPerRun(100, func() { matchHash(hashes[4], hashes) })
	if allocs != 0 {
		t.Errorf("matchHash allocates %v times, want 0", allocs)
	}
}

// BenchmarkMatchHash shows that the time of a static-token check does not
// depend on where (or whether) the token matches.
func BenchmarkMatchHash(b *testing.B) {
	hashes := make([][sha256.Size]byte, 64)
	for i := range hashes {
		hashes[i] = sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
	}
	for _, bc := range []struct {
		name string
		h    [sha256.Size]byte
	}{
		{"first", hashes[0]},
		{"last", hashes[len(hashes)-1]},
		{"miss", sha256.Sum256([]byte("nope"))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				matchHash(bc.h, hashes)
			}
		})
	}
}

func TestUnverifiedIssuer(t *testing.T) {
	tests := []struct {
		name, token, want string
		ok                bool
	}{
		{"plain", "e30.eyJpc3MiOiJodHRwczovL2lkcCJ9.sig", "https://idp", true},
		{"padded base64", "e30.eyJpc3MiOiJodHRwczovL2lkcCJ9=.sig", "", false},
		{"no iss", "e30.e30.sig", "", false},
		{"iss not a string", "e30.eyJpc3MiOjF9.sig", "", false},
		{"not JSON", "e30.bm9wZQ.sig", "", false},
		{"one part", "abc", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := unverifiedIssuer(tt.token)
			if got != tt.want || ok != tt.ok {
				t.Errorf("unverifiedIssuer(%q) = %q, %v; want %q, %v", tt.token, got, ok, tt.want, tt.ok)
			}
		})
	}
}
