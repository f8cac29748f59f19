package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Keys are generated once per test binary: RSA generation costs ~100 ms.
var (
	rsaKey      = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	otherRSAKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey       = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	edKey       = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// hmacSecret is the HS256 issuer's shared secret (32 bytes, RFC 7518 §3.2).
var hmacSecret = []byte("0123456789abcdef0123456789abcdef")

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// clock is a settable clock for token lifetimes and JWKS intervals.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sign returns a compact JWS of claims, with kid in the header when not empty.
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

// claimsAt returns valid claims for issuer iss and audience aud at now.
func claimsAt(now time.Time, iss, aud string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": iss,
		"aud": aud,
		"sub": "okta-provisioner",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

func hashOf(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

func newVerifier(t *testing.T, cfg auth.Config, opts ...auth.Option) *auth.Verifier {
	t.Helper()
	v, err := auth.New(cfg, opts...)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return v
}

// wantFailure checks that err is a *scim.Error with the status and a detail
// containing detail.
func wantFailure(t *testing.T, p *auth.Principal, err error, status int, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Authenticate = %+v, nil; want a %d error", p, status)
	}
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("Authenticate error %v (%T) is not a *scim.Error", err, err)
	}
	if se.Status != status || !strings.Contains(se.Detail, detail) {
		t.Fatalf("Authenticate error = %d %q, want %d containing %q (cause: %v)", se.Status, se.Detail, status, detail, se.Err)
	}
	if p != nil {
		t.Errorf("Authenticate returned a principal %+v with the error", p)
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkixPEM(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}
