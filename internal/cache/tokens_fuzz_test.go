package cache

import (
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// FuzzDecodeToken: whatever a shared token key holds (another version's
// format, a hand-written value), reading it never panics, and what it
// reads is written back the same.
func FuzzDecodeToken(f *testing.F) {
	for _, seed := range []string{"tok\n0", "tok\n1764460800000", "\n0", "tok", "tok\n-1", "tok\nx", "a\nb\nc", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return
		}
		tok := decodeToken(b)
		if tok == nil {
			return
		}
		if tok.AccessToken == "" {
			t.Fatalf("decodeToken(%q) = an empty token", b)
		}
		again := decodeToken(encodeToken(tok))
		if again == nil || again.AccessToken != tok.AccessToken || !again.Expiry.Equal(tok.Expiry) {
			t.Fatalf("decodeToken(%q) = %+v, which reads back as %+v", b, tok, again)
		}
	})
}

func TestEncodeToken(t *testing.T) {
	exp := time.UnixMilli(1764460800123)
	for _, tok := range []*oauth2.Token{{AccessToken: "a.b-c"}, {AccessToken: "x", Expiry: exp}} {
		got := decodeToken(encodeToken(tok))
		if got == nil || got.AccessToken != tok.AccessToken || !got.Expiry.Equal(tok.Expiry) || got.TokenType != "Bearer" {
			t.Errorf("decodeToken(encodeToken(%+v)) = %+v", tok, got)
		}
	}
}
