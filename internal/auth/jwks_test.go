package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// jwksServer serves a JWK Set that tests can change, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]any
	status  int
	delay   time.Duration
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		keys, status, delay := s.keys, s.status, s.delay
		s.mu.Unlock()
		time.Sleep(delay)
		if status != http.StatusOK {
			http.Error(w, "down", status)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, keys ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.keys = status, keys
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64u(k.N.Bytes()), "e": b64u(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	b, err := k.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	size := (len(b) - 1) / 2
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256",
		"x": b64u(b[1 : 1+size]), "y": b64u(b[1+size:])}
}

const jwksIssuer = "https://login.example.com/tenant"

type jwksFixture struct {
	srv   *jwksServer
	v     *auth.Verifier
	clock *clock
}

func newJWKSFixture(t *testing.T, alg string, keys ...map[string]any) *jwksFixture {
	t.Helper()
	srv := newJWKSServer(t, keys...)
	c := newClock()
	v := newVerifier(t, auth.Config{Issuers: []auth.Issuer{{
		Issuer: jwksIssuer, Audience: audience, Algorithm: alg, JWKSURL: srv.URL + "/keys",
		Targets: []string{"memory"},
	}}}, auth.WithClock(c.now), auth.WithHTTPClient(srv.Client()))
	return &jwksFixture{srv: srv, v: v, clock: c}
}

func (f *jwksFixture) token(t *testing.T, m jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	return sign(t, m, key, kid, claimsAt(f.clock.now(), jwksIssuer, audience))
}

func (f *jwksFixture) mustAccept(t *testing.T, token string) {
	t.Helper()
	if p, err := f.v.Authenticate(t.Context(), token); err != nil || p.Subject != "okta-provisioner" {
		t.Fatalf("Authenticate = %+v, %v; want the token accepted", p, err)
	}
}

func (f *jwksFixture) wantFetches(t *testing.T, n int32) {
	t.Helper()
	if got := f.srv.fetches.Load(); got != n {
		t.Fatalf("JWKS fetched %d times, want %d", got, n)
	}
}

// TestJWKSRotation walks a key set through its life: first fetch, cache,
// rotation to a new key id, made-up key ids (rate-limited), and expiry.
func TestJWKSRotation(t *testing.T) {
	newKey := otherRSAKey()
	f := newJWKSFixture(t, "RS256", rsaJWK("k1", &rsaKey().PublicKey), ecJWK("ec", &ecKey().PublicKey))
	f.wantFetches(t, 0) // New does no I/O

	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1"))
	f.wantFetches(t, 1)
	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1"))
	f.wantFetches(t, 1) // cached

	// Without a kid every key of the right type is tried.
	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, rsaKey(), ""))
	f.wantFetches(t, 1)

	// The IdP rotates to k2 and drops k1. A token with k2 makes the
	// gateway fetch again at once: the set is not stale, the kid is new...
	f.clock.advance(2 * time.Minute)
	f.srv.set(http.StatusOK, rsaJWK("k2", &newKey.PublicKey))
	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, newKey, "k2"))
	f.wantFetches(t, 2)

	// ...but a flood of made-up kids fetches at most once a minute.
	for range 5 {
		p, err := f.v.Authenticate(t.Context(), f.token(t, jwt.SigningMethodRS256, newKey, "made-up"))
		wantFailure(t, p, err, http.StatusUnauthorized, "signing key is unknown")
	}
	f.wantFetches(t, 2)
	f.clock.advance(61 * time.Second)
	p, err := f.v.Authenticate(t.Context(), f.token(t, jwt.SigningMethodRS256, newKey, "made-up"))
	wantFailure(t, p, err, http.StatusUnauthorized, "signing key is unknown")
	f.wantFetches(t, 3)

	// k1 is gone from the set: its tokens fail even with a valid signature.
	f.clock.advance(2 * time.Minute)
	p, err = f.v.Authenticate(t.Context(), f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1"))
	wantFailure(t, p, err, http.StatusUnauthorized, "signing key is unknown")
	f.wantFetches(t, 4)

	// After an hour the set is fetched again even for a known kid; if the
	// IdP is down then, the last good set keeps working.
	f.clock.advance(time.Hour)
	f.srv.set(http.StatusInternalServerError)
	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, newKey, "k2"))
	f.wantFetches(t, 5)
}

// TestJWKSKeyChecks checks that a key of the set is used only for the
// issuer's algorithm and with the right type.
func TestJWKSKeyChecks(t *testing.T) {
	rsaWithAlg := rsaJWK("ps", &rsaKey().PublicKey)
	rsaWithAlg["alg"] = "PS256" // published for PS256 only
	f := newJWKSFixture(t, "RS256", rsaWithAlg, ecJWK("ec", &ecKey().PublicKey),
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
		map[string]any{"kty": "oct", "kid": "sym", "k": b64u(hmacSecret)},
	)
	tests := []struct {
		name  string
		token string
	}{
		{"key published for another alg", f.token(t, jwt.SigningMethodRS256, rsaKey(), "ps")},
		{"EC key for an RS256 issuer", f.token(t, jwt.SigningMethodRS256, rsaKey(), "ec")},
		{"ES256 token for an RS256 issuer", f.token(t, jwt.SigningMethodES256, ecKey(), "ec")},
		{"symmetric key from the set", f.token(t, jwt.SigningMethodHS256, hmacSecret, "sym")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.v.Authenticate(t.Context(), tt.token)
			if err == nil {
				t.Fatalf("Authenticate = %+v, want a 401", p)
			}
			if se := scim.AsError(err); se.Status != http.StatusUnauthorized {
				t.Fatalf("Authenticate error = %v, want a 401", err)
			}
		})
	}
}

func TestJWKSCurves(t *testing.T) {
	t.Run("ES256", func(t *testing.T) {
		f := newJWKSFixture(t, "ES256", ecJWK("ec", &ecKey().PublicKey))
		f.mustAccept(t, f.token(t, jwt.SigningMethodES256, ecKey(), "ec"))
	})
	t.Run("EdDSA", func(t *testing.T) {
		pub := edKey().Public().(ed25519.PublicKey)
		f := newJWKSFixture(t, "EdDSA", map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64u(pub)})
		f.mustAccept(t, f.token(t, jwt.SigningMethodEdDSA, edKey(), "ed"))
	})
}

// TestJWKSUnavailable checks that an issuer whose keys were never fetched
// answers 503 with Retry-After, retries after the short failure interval,
// and recovers.
func TestJWKSUnavailable(t *testing.T) {
	f := newJWKSFixture(t, "RS256")
	f.srv.set(http.StatusBadGateway)
	tok := f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1")
	p, err := f.v.Authenticate(t.Context(), tok)
	wantFailure(t, p, err, http.StatusServiceUnavailable, "cannot be fetched")
	if se := scim.AsError(err); se.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %d, want positive", se.RetryAfter)
	}
	f.wantFetches(t, 1)

	f.srv.set(http.StatusOK, rsaJWK("k1", &rsaKey().PublicKey))
	p, err = f.v.Authenticate(t.Context(), tok) // too soon to try again
	wantFailure(t, p, err, http.StatusServiceUnavailable, "cannot be fetched")
	f.wantFetches(t, 1)

	f.clock.advance(11 * time.Second)
	f.mustAccept(t, f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1"))
	f.wantFetches(t, 2)
}

func TestJWKSBadDocuments(t *testing.T) {
	tests := []struct {
		name string
		keys []map[string]any
	}{
		{"no keys", nil},
		{"only encryption keys", []map[string]any{{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}}},
		{"point off the curve", []map[string]any{{"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64u(make([]byte, 32)), "y": b64u([]byte{1})}}},
		{"unknown curve", []map[string]any{{"kty": "EC", "crv": "P-192", "kid": "k1", "x": "AA", "y": "AA"}}},
		{"bad base64", []map[string]any{{"kty": "RSA", "kid": "k1", "n": "!!", "e": "AQAB"}}},
		{"even exponent", []map[string]any{{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "Ag"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newJWKSFixture(t, "RS256", tt.keys...)
			p, err := f.v.Authenticate(t.Context(), f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1"))
			wantFailure(t, p, err, http.StatusServiceUnavailable, "cannot be fetched")
		})
	}
}

// TestJWKSSingleFlight checks that concurrent tokens of a new issuer share
// one fetch, and that every one of them waits for it rather than failing on
// the rate limit.
func TestJWKSSingleFlight(t *testing.T) {
	f := newJWKSFixture(t, "RS256", rsaJWK("k1", &rsaKey().PublicKey))
	f.srv.delay = 50 * time.Millisecond
	tok := f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := f.v.Authenticate(t.Context(), tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Authenticate: %v", err)
		}
	}
	f.wantFetches(t, 1)
}

// TestJWKSCallerGivesUp checks that a caller whose context ends stops
// waiting, while the fetch goes on for the next caller.
func TestJWKSCallerGivesUp(t *testing.T) {
	f := newJWKSFixture(t, "RS256", rsaJWK("k1", &rsaKey().PublicKey))
	f.srv.delay = 200 * time.Millisecond
	tok := f.token(t, jwt.SigningMethodRS256, rsaKey(), "k1")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := f.v.Authenticate(ctx, tok); err == nil {
		t.Fatal("Authenticate succeeded before the key set arrived")
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("Authenticate took %v after its context ended", d)
	}
	f.mustAccept(t, tok) // waits for the fetch under way
	f.wantFetches(t, 1)
}
