package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestServeJWT runs the gateway with two JWT issuers, one with a shared
// secret from the environment and one with a JWKS served on loopback, and
// checks tokens end to end: config, auth and router.
func TestServeJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	defer jwks.Close()
	secret := strings.Repeat("s", 32)
	t.Setenv("GW_TEST_HS256_SECRET", secret)

	doc := `
server: {listen: "127.0.0.1:0", shutdownTimeout: 5s}
targets:
  - {name: alpha, adapter: memory}
  - {name: beta, adapter: memory}
credentials:
  jwt:
    - issuer: https://internal.example.com
      audience: gateway
      algorithm: HS256
      secretEnv: GW_TEST_HS256_SECRET
      targets: [alpha]
      defaultTarget: alpha
    - issuer: https://idp.example.com
      audience: api://gateway
      algorithm: RS256
      jwksURL: ` + jwks.URL + `/keys
      targets: ["*"]
      targetsClaim: scim_targets
      defaultTarget: beta
`
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, []string{"serve", "--config", path}, os.Getenv)
	base := "http://" + waitFor(t, s.out, servingRE, s.done)[1]

	now := time.Now()
	claims := func(iss, aud string, edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": iss, "aud": aud, "sub": "provisioner", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	hs := func(c jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rs := func(c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	internal := "https://internal.example.com"
	idp := "https://idp.example.com"

	tests := []struct {
		name, path, token string
		want              int
	}{
		{"HS256 default target", "/scim/v2/Users", hs(claims(internal, "gateway", nil)), 200},
		{"HS256 named target", "/targets/alpha/scim/v2/Users", hs(claims(internal, "gateway", nil)), 200},
		{"HS256 other target", "/targets/beta/scim/v2/Users", hs(claims(internal, "gateway", nil)), 403},
		{"HS256 expired", "/scim/v2/Users", hs(claims(internal, "gateway", func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })), 401},
		{"HS256 wrong audience", "/scim/v2/Users", hs(claims(internal, "api://gateway", nil)), 401},
		{"JWKS claimed target", "/targets/alpha/scim/v2/Users", rs(claims(idp, "api://gateway", func(c jwt.MapClaims) { c["scim_targets"] = "alpha beta" })), 200},
		{"JWKS default target", "/scim/v2/Users", rs(claims(idp, "api://gateway", func(c jwt.MapClaims) { c["scim_targets"] = []string{"beta"} })), 200},
		{"JWKS unclaimed target", "/targets/alpha/scim/v2/Users", rs(claims(idp, "api://gateway", func(c jwt.MapClaims) { c["scim_targets"] = []string{"beta"} })), 403},
		{"JWKS token signed with the HS256 secret", "/scim/v2/Users", hs(claims(idp, "api://gateway", nil)), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), "GET", base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
			if tt.want == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q, want an invalid_token challenge", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), `"subject":"provisioner"`) {
		t.Errorf("no access-log line names the JWT subject:\n%s", s.out)
	}
}
