package auth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// FuzzAuthenticate feeds arbitrary bearer tokens to a Verifier with static
// tokens and fixed-key issuers: it must never panic, and every failure is a
// 401 *scim.Error (never a 500). Only a few tokens are accepted, and only
// with the principal of their credential.
func FuzzAuthenticate(f *testing.F) {
	c := newClock()
	now := c.now()
	good := sign(f, jwt.SigningMethodHS256, hmacSecret, "", claimsAt(now, "https://hs", audience))
	f.Add("static")
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add(sign(f, jwt.SigningMethodES256, ecKey(), "kid", claimsAt(now, "https://es", audience)))
	f.Add(sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claimsAt(now, "https://hs", audience)))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2hzIn0.")
	f.Add("")

	v, err := auth.New(auth.Config{
		Tokens: []auth.StaticToken{{Name: "static", SHA256: hashOf("static"), Targets: []string{"a"}}},
		Issuers: []auth.Issuer{
			{Issuer: "https://hs", Audience: audience, Algorithm: "HS256", Secret: hmacSecret, Targets: []string{"a"}},
			{Issuer: "https://es", Audience: audience, Algorithm: "ES256", PublicKey: &ecKey().PublicKey, Targets: []string{"b"}, TargetsClaim: "t"},
		},
	}, auth.WithClock(c.now))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Authenticate(t.Context(), token)
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Detail == "" {
				t.Fatalf("Authenticate(%q) = %v, want a 401 *scim.Error with a detail", token, err)
			}
			if p != nil {
				t.Fatalf("Authenticate(%q) returned a principal with an error", token)
			}
			return
		}
		if p == nil {
			t.Fatalf("Authenticate(%q) = nil, nil", token)
		}
		for _, target := range p.Targets {
			if target != "a" && target != "b" {
				t.Fatalf("Authenticate(%q) reaches %q, beyond every configured bound", token, target)
			}
		}
	})
}

// BenchmarkAuthenticate measures a request's authentication: a static token
// (one hash and a constant-time scan) and a JWT per algorithm family.
func BenchmarkAuthenticate(b *testing.B) {
	c := newClock()
	now := c.now()
	v, err := auth.New(auth.Config{
		Tokens: []auth.StaticToken{{Name: "static", SHA256: hashOf("static-token"), Targets: []string{"a"}}},
		Issuers: []auth.Issuer{
			{Issuer: "https://hs", Audience: audience, Algorithm: "HS256", Secret: hmacSecret, Targets: []string{"a"}},
			{Issuer: "https://es", Audience: audience, Algorithm: "ES256", PublicKey: &ecKey().PublicKey, Targets: []string{"a"}},
			{Issuer: "https://rs", Audience: audience, Algorithm: "RS256", PublicKey: &rsaKey().PublicKey, Targets: []string{"a"}},
		},
	}, auth.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, token string }{
		{"static", "static-token"},
		{"HS256", sign(b, jwt.SigningMethodHS256, hmacSecret, "", claimsAt(now, "https://hs", audience))},
		{"ES256", sign(b, jwt.SigningMethodES256, ecKey(), "", claimsAt(now, "https://es", audience))},
		{"RS256", sign(b, jwt.SigningMethodRS256, rsaKey(), "", claimsAt(now, "https://rs", audience))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(b.Context(), bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
