package router_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/router"
)

// TestWithVerifier wires the real authenticator (static tokens and an HS256
// JWT issuer) into the router, as the gateway does, and checks the 401 / 403
// / default-target behaviour end to end.
func TestWithVerifier(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := auth.New(auth.Config{
		Tokens: []auth.StaticToken{{
			Name: "okta", SHA256: sha256.Sum256([]byte("static-secret")),
			Targets: []string{"memory"}, DefaultTarget: "memory",
		}},
		Issuers: []auth.Issuer{{
			Issuer: "https://idp.example.com", Audience: "scim-gateway", Algorithm: "HS256", Secret: secret,
			Targets: []string{"usersonly"}, DefaultTarget: "usersonly",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *router.Config) { c.Authenticator = v })
	sign := func(exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "https://idp.example.com", "aud": "scim-gateway", "sub": "entra", "exp": exp.Unix(),
		}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid, expired := sign(time.Now().Add(time.Hour)), sign(time.Now().Add(-time.Hour))

	tests := []struct {
		name, path, token string
		want              int
		challenge         string
	}{
		{"static token, default target", "/scim/v2/Users", "static-secret", 200, ""},
		{"static token, named target", memoryRoot + "/Groups", "static-secret", 200, ""},
		{"static token, other target", usersRoot + "/Users", "static-secret", 403, ""},
		{"jwt, default target", "/scim/v2/Users", valid, 200, ""},
		{"jwt, other target", memoryRoot + "/Users", valid, 403, ""},
		{"jwt, default target lacks groups", "/scim/v2/Groups", valid, 404, ""},
		{"expired jwt", "/scim/v2/Users", expired, 401, invalidChallenge},
		{"unknown token", "/scim/v2/Users", "static-secreT", 401, invalidChallenge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, req{method: "GET", path: tt.path, token: tt.token})
			if tt.want == 200 {
				if r.status != 200 {
					t.Fatalf("status = %d\n%s", r.status, r.body)
				}
				return
			}
			checkError(t, r, tt.want, "")
			if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}
}
