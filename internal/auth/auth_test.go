package auth_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
)

func TestStaticTokens(t *testing.T) {
	v := newVerifier(t, auth.Config{Tokens: []auth.StaticToken{
		{Name: "okta", SHA256: hashOf("okta-token"), Targets: []string{"memory"}, DefaultTarget: "memory"},
		{Name: "entra", SHA256: hashOf("entra-token"), Targets: []string{"a", "b"}},
		{Name: "admin", SHA256: hashOf("admin.token.withdots"), Targets: []string{"*"}, DefaultTarget: "a"},
	}})
	tests := []struct {
		name, token string
		want        string // principal subject; "" means a 401
		targets     []string
		def         string
		detail      string
	}{
		{name: "first", token: "okta-token", want: "okta", targets: []string{"memory"}, def: "memory"},
		{name: "middle", token: "entra-token", want: "entra", targets: []string{"a", "b"}},
		{name: "last, shaped like a JWT", token: "admin.token.withdots", want: "admin", targets: []string{"*"}, def: "a"},
		{name: "unknown", token: "nope", detail: "unknown bearer token"},
		{name: "prefix of a token", token: "okta-toke", detail: "unknown bearer token"},
		{name: "token with a suffix", token: "okta-tokenx", detail: "unknown bearer token"},
		{name: "case differs", token: "OKTA-TOKEN", detail: "unknown bearer token"},
		{name: "empty", token: "", detail: "unknown bearer token"},
		{name: "too long", token: strings.Repeat("x", 17<<10), detail: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(t.Context(), tt.token)
			if tt.want == "" {
				wantFailure(t, p, err, http.StatusUnauthorized, tt.detail)
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Subject != tt.want || !slices.Equal(p.Targets, tt.targets) || p.DefaultTarget != tt.def {
				t.Errorf("Authenticate = %+v, want subject %q, targets %v, default %q", p, tt.want, tt.targets, tt.def)
			}
		})
	}
}

// TestStaticTokensKeepConfig checks that changing the Config after New does
// not change who is let in.
func TestStaticTokensKeepConfig(t *testing.T) {
	cfg := auth.Config{Tokens: []auth.StaticToken{{Name: "t", SHA256: hashOf("tok"), Targets: []string{"a"}}}}
	v := newVerifier(t, cfg)
	cfg.Tokens[0].Targets[0] = "b"
	p, err := v.Authenticate(t.Context(), "tok")
	if err != nil || !slices.Equal(p.Targets, []string{"a"}) {
		t.Fatalf("Authenticate = %+v, %v; want targets [a]", p, err)
	}
}

// jwtFixture is a Verifier with one issuer per kind of fixed key.
type jwtFixture struct {
	v     *auth.Verifier
	clock *clock
}

const audience = "scim-gateway"

func newJWTFixture(t *testing.T) *jwtFixture {
	t.Helper()
	c := newClock()
	issuers := []auth.Issuer{
		{Issuer: "https://hs.example.com", Algorithm: "HS256", Secret: hmacSecret},
		{Issuer: "https://rs.example.com", Algorithm: "RS256", PublicKey: &rsaKey().PublicKey},
		{Issuer: "https://es.example.com", Algorithm: "ES256", PublicKey: &ecKey().PublicKey},
		{Issuer: "https://ed.example.com", Algorithm: "EdDSA", PublicKey: edKey().Public()},
	}
	for i := range issuers {
		issuers[i].Audience = audience
		issuers[i].Targets = []string{"memory"}
		issuers[i].DefaultTarget = "memory"
		issuers[i].Leeway = 30 * time.Second
	}
	v := newVerifier(t, auth.Config{
		Tokens:  []auth.StaticToken{{Name: "static", SHA256: hashOf("static"), Targets: []string{"*"}}},
		Issuers: issuers,
	}, auth.WithClock(c.now))
	return &jwtFixture{v: v, clock: c}
}

func TestJWT(t *testing.T) {
	f := newJWTFixture(t)
	now := f.clock.now()
	const (
		hs = "https://hs.example.com"
		rs = "https://rs.example.com"
		es = "https://es.example.com"
		ed = "https://ed.example.com"
	)
	with := func(iss string, edit func(jwt.MapClaims)) jwt.MapClaims {
		c := claimsAt(now, iss, audience)
		if edit != nil {
			edit(c)
		}
		return c
	}
	rsaPub := pkixPEM(t, &rsaKey().PublicKey)
	noneToken := func(c jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", c)
	}

	tests := []struct {
		name   string
		token  string
		detail string // "" means accepted
	}{
		{name: "HS256", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, nil))},
		{name: "RS256", token: sign(t, jwt.SigningMethodRS256, rsaKey(), "", with(rs, nil))},
		{name: "ES256", token: sign(t, jwt.SigningMethodES256, ecKey(), "", with(es, nil))},
		{name: "EdDSA", token: sign(t, jwt.SigningMethodEdDSA, edKey(), "", with(ed, nil))},
		{name: "audience among several", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) {
			c["aud"] = []string{"other", audience}
		}))},
		{name: "expired within leeway", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) {
			c["exp"] = now.Add(-20 * time.Second).Unix()
		}))},
		{name: "not yet valid within leeway", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) {
			c["nbf"] = now.Add(20 * time.Second).Unix()
		}))},
		{name: "no nbf", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) { delete(c, "nbf") }))},

		{name: "expired", detail: "token is expired", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Minute).Unix()
		}))},
		{name: "not yet valid", detail: "not valid yet", token: sign(t, jwt.SigningMethodRS256, rsaKey(), "", with(rs, func(c jwt.MapClaims) {
			c["nbf"] = now.Add(time.Minute).Unix()
		}))},
		{name: "issued in the future", detail: "issued in the future", token: sign(t, jwt.SigningMethodES256, ecKey(), "", with(es, func(c jwt.MapClaims) {
			c["iat"] = now.Add(time.Hour).Unix()
		}))},
		{name: "no exp", detail: "required claim", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "no aud", detail: "required claim", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) { delete(c, "aud") }))},
		{name: "wrong aud", detail: "audience is not accepted", token: sign(t, jwt.SigningMethodRS256, rsaKey(), "", with(rs, func(c jwt.MapClaims) {
			c["aud"] = "someone-else"
		}))},
		{name: "unknown iss", detail: "issuer is not accepted", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with("https://evil.example.com", nil))},
		{name: "iss differs in case", detail: "issuer is not accepted", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with("https://HS.example.com", nil))},
		{name: "no iss", detail: "malformed", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) { delete(c, "iss") }))},
		{name: "iss not a string", detail: "malformed", token: sign(t, jwt.SigningMethodHS256, hmacSecret, "", with(hs, func(c jwt.MapClaims) { c["iss"] = 7 }))},

		{name: "alg none", detail: "not accepted", token: noneToken(with(hs, nil))},
		{name: "alg none for a key issuer", detail: "not accepted", token: noneToken(with(rs, nil))},
		// Algorithm confusion: the RSA public key (public knowledge) used as
		// an HMAC secret must not pass as the RS256 issuer's signature.
		{name: "HS256 with the RSA public key as secret", detail: "not accepted", token: sign(t, jwt.SigningMethodHS256, rsaPub, "", with(rs, nil))},
		{name: "RS256 token for an ES256 issuer", detail: "not accepted", token: sign(t, jwt.SigningMethodRS256, rsaKey(), "", with(es, nil))},
		{name: "HS512 for an HS256 issuer", detail: "not accepted", token: sign(t, jwt.SigningMethodHS512, append(hmacSecret, hmacSecret...), "", with(hs, nil))},
		{name: "signed by another RSA key", detail: "not accepted", token: sign(t, jwt.SigningMethodRS256, otherRSAKey(), "", with(rs, nil))},
		{name: "HS256 with another secret", detail: "not accepted", token: sign(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two b.."), "", with(hs, nil))},
		{name: "tampered payload", detail: "not accepted", token: tamper(t, sign(t, jwt.SigningMethodES256, ecKey(), "", with(es, nil)), with(es, func(c jwt.MapClaims) {
			c["sub"] = "root"
		}))},
		{name: "garbage in three parts", detail: "malformed", token: "a.b.c"},
		{name: "empty parts", detail: "malformed", token: ".."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.v.Authenticate(t.Context(), tt.token)
			if tt.detail != "" {
				wantFailure(t, p, err, http.StatusUnauthorized, tt.detail)
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Subject != "okta-provisioner" || !slices.Equal(p.Targets, []string{"memory"}) || p.DefaultTarget != "memory" {
				t.Errorf("Authenticate = %+v, want subject okta-provisioner, targets [memory], default memory", p)
			}
		})
	}
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(t *testing.T, token string, claims jwt.MapClaims) string {
	t.Helper()
	forged := sign(t, jwt.SigningMethodHS256, hmacSecret, "", claims)
	parts := strings.Split(token, ".")
	parts[1] = strings.Split(forged, ".")[1]
	return strings.Join(parts, ".")
}

// TestJWTClock checks that exp is judged by the Verifier's clock.
func TestJWTClock(t *testing.T) {
	f := newJWTFixture(t)
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, "", claimsAt(f.clock.now(), "https://hs.example.com", audience))
	if _, err := f.v.Authenticate(t.Context(), tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	f.clock.advance(time.Hour + 31*time.Second) // past exp and the 30 s leeway
	p, err := f.v.Authenticate(t.Context(), tok)
	wantFailure(t, p, err, http.StatusUnauthorized, "expired")
}

func TestTargetsClaim(t *testing.T) {
	c := newClock()
	const iss = "https://idp.example.com"
	v := newVerifier(t, auth.Config{Issuers: []auth.Issuer{{
		Issuer: iss, Audience: audience, Algorithm: "HS256", Secret: hmacSecret,
		Targets: []string{"a", "b", "c"}, TargetsClaim: "scim_targets", DefaultTarget: "a",
	}}}, auth.WithClock(c.now))
	wide := newVerifier(t, auth.Config{Issuers: []auth.Issuer{{
		Issuer: iss, Audience: audience, Algorithm: "HS256", Secret: hmacSecret,
		Targets: []string{"*"}, TargetsClaim: "scim_targets",
	}}}, auth.WithClock(c.now))

	tests := []struct {
		name    string
		v       *auth.Verifier
		claim   any // nil: no claim
		targets []string
		def     string
	}{
		{"array", v, []string{"b", "a"}, []string{"a", "b"}, "a"},
		{"space-separated string", v, "c  b", []string{"b", "c"}, ""},
		{"outside the bound dropped", v, []string{"a", "z"}, []string{"a"}, "a"},
		{"star is the bound", v, []string{"*"}, []string{"a", "b", "c"}, "a"},
		{"duplicates", v, []string{"b", "b"}, []string{"b"}, ""},
		{"non-strings ignored", v, []any{"b", 7, true}, []string{"b"}, ""},
		{"missing claim", v, nil, nil, ""},
		{"wrong type", v, map[string]any{"a": true}, nil, ""},
		{"unbounded issuer", wide, []string{"z", "*"}, []string{"*", "z"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := claimsAt(c.now(), iss, audience)
			if tt.claim != nil {
				claims["scim_targets"] = tt.claim
			}
			p, err := tt.v.Authenticate(t.Context(), sign(t, jwt.SigningMethodHS256, hmacSecret, "", claims))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !slices.Equal(p.Targets, tt.targets) || p.DefaultTarget != tt.def {
				t.Errorf("principal = targets %v default %q, want %v %q", p.Targets, p.DefaultTarget, tt.targets, tt.def)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	rsa1024 := mustRSA(1024)
	valid := func(edit func(*auth.Issuer)) auth.Issuer {
		is := auth.Issuer{Issuer: "https://idp", Audience: "gw", Algorithm: "RS256", PublicKey: &rsaKey().PublicKey, Targets: []string{"a"}}
		edit(&is)
		return is
	}
	tests := []struct {
		name string
		is   auth.Issuer
		want []string // substrings, one per expected problem; nil means valid
	}{
		{"valid", valid(func(*auth.Issuer) {}), nil},
		{"valid jwks on loopback", valid(func(is *auth.Issuer) { is.PublicKey, is.JWKSURL = nil, "http://127.0.0.1:9/keys" }), nil},
		{"valid jwks", valid(func(is *auth.Issuer) { is.PublicKey, is.JWKSURL = nil, "https://idp/keys" }), nil},
		{"everything missing", auth.Issuer{}, []string{"issuer: required", "audience: required", "algorithm: required", "targets: required"}},
		{"unknown alg", valid(func(is *auth.Issuer) { is.Algorithm = "XS256" }), []string{`algorithm: unsupported "XS256"`}},
		{"none", valid(func(is *auth.Issuer) { is.Algorithm = "none" }), []string{`algorithm: unsupported "none"`}},
		{"two key sources", valid(func(is *auth.Issuer) { is.JWKSURL = "https://idp/keys" }), []string{"exactly one"}},
		{"no key", valid(func(is *auth.Issuer) { is.PublicKey = nil }), []string{"needs a public key or a JWKS URL"}},
		{"HS256 without secret", valid(func(is *auth.Issuer) { is.Algorithm, is.PublicKey = "HS256", nil }), []string{"secret: required"}},
		{"HS256 with a public key", valid(func(is *auth.Issuer) { is.Algorithm = "HS256" }), []string{"publicKey: HS256 needs a shared secret"}},
		{"HS256 with jwks", valid(func(is *auth.Issuer) { is.Algorithm, is.PublicKey, is.JWKSURL = "HS256", nil, "https://idp/keys" }), []string{"jwksURL: HS256 verifies with a shared secret"}},
		{"short secret", valid(func(is *auth.Issuer) { is.Algorithm, is.PublicKey, is.Secret = "HS256", nil, []byte("short") }), []string{"at least 32 bytes"}},
		{"short HS512 secret", valid(func(is *auth.Issuer) { is.Algorithm, is.PublicKey, is.Secret = "HS512", nil, hmacSecret }), []string{"at least 64 bytes"}},
		{"RS256 with an EC key", valid(func(is *auth.Issuer) { is.PublicKey = &ecKey().PublicKey }), []string{"publicKey: RS256 needs an RSA public key"}},
		{"ES384 with a P-256 key", valid(func(is *auth.Issuer) { is.Algorithm, is.PublicKey = "ES384", &ecKey().PublicKey }), []string{"curve P-384"}},
		{"small RSA key", valid(func(is *auth.Issuer) { is.PublicKey = &rsa1024.PublicKey }), []string{"at least 2048 bits"}},
		{"plain http jwks", valid(func(is *auth.Issuer) { is.PublicKey, is.JWKSURL = nil, "http://idp/keys" }), []string{"jwksURL: must be https"}},
		{"default not reachable", valid(func(is *auth.Issuer) { is.DefaultTarget = "b" }), []string{`defaultTarget: "b" is not among`}},
		{"default with claim is checked per token", valid(func(is *auth.Issuer) { is.DefaultTarget, is.TargetsClaim = "b", "t" }), nil},
		{"default star", valid(func(is *auth.Issuer) { is.Targets, is.DefaultTarget = []string{"*"}, "*" }), []string{`defaultTarget: must name one target`}},
		{"empty target", valid(func(is *auth.Issuer) { is.Targets = []string{"a", ""} }), []string{"targets[1]: empty"}},
		{"negative leeway", valid(func(is *auth.Issuer) { is.Leeway = -time.Second }), []string{"leeway"}},
		{"huge leeway", valid(func(is *auth.Issuer) { is.Leeway = time.Hour }), []string{"leeway: must be between 0 and 5m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.is.Validate()
			checkProblems(t, err, tt.want)
		})
	}
}

// checkProblems checks that err lists exactly the problems in want (as
// substrings, one line each), or is nil when want is.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("err = nil, want %q", want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("err has %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant it to contain %q", err, w)
		}
	}
}

func TestValidateStaticToken(t *testing.T) {
	tests := []struct {
		name string
		tok  auth.StaticToken
		want []string
	}{
		{"valid", auth.StaticToken{Name: "n", SHA256: hashOf("x"), Targets: []string{"a"}, DefaultTarget: "a"}, nil},
		{"star reaches any default", auth.StaticToken{Name: "n", SHA256: hashOf("x"), Targets: []string{"*"}, DefaultTarget: "a"}, nil},
		{"empty", auth.StaticToken{}, []string{"name: required", "sha256: required", "targets: required"}},
		{"default unreachable", auth.StaticToken{Name: "n", SHA256: hashOf("x"), Targets: []string{"a"}, DefaultTarget: "b"}, []string{"defaultTarget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkProblems(t, tt.tok.Validate(), tt.want) })
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	tok := auth.StaticToken{Name: "n", SHA256: hashOf("x"), Targets: []string{"a"}}
	is := auth.Issuer{Issuer: "https://idp", Audience: "gw", Algorithm: "HS256", Secret: hmacSecret, Targets: []string{"a"}}
	_, err := auth.New(auth.Config{
		Tokens:  []auth.StaticToken{tok, tok, {Name: "m", Targets: []string{"a"}}},
		Issuers: []auth.Issuer{is, is, {Issuer: "https://other", Audience: "gw", Algorithm: "RS256", Targets: []string{"a"}}},
	})
	checkProblems(t, err, []string{
		`tokens[1].name: "n" is also the name of tokens[0]`,
		"tokens[1].sha256: same token as tokens[0]",
		"tokens[2].sha256: required",
		`issuers[1].issuer: "https://idp" is configured twice`,
		"issuers[2].key: RS256 needs a public key or a JWKS URL",
	})
}

func TestNoCredentials(t *testing.T) {
	v := newVerifier(t, auth.Config{})
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, "", claimsAt(time.Now(), "https://idp", audience))
	for _, token := range []string{"anything", tok} {
		p, err := v.Authenticate(context.Background(), token)
		wantFailure(t, p, err, http.StatusUnauthorized, "unknown bearer token")
	}
}

func TestAlgorithms(t *testing.T) {
	algs := auth.Algorithms()
	for _, want := range []string{"HS256", "RS256", "ES256", "PS256", "EdDSA"} {
		if !slices.Contains(algs, want) {
			t.Errorf("Algorithms() = %v, want it to contain %s", algs, want)
		}
	}
	if slices.Contains(algs, "none") {
		t.Errorf("Algorithms() = %v contains none", algs)
	}
	if !auth.IsHMAC("HS384") || auth.IsHMAC("RS256") || auth.IsHMAC("none") {
		t.Error("IsHMAC is wrong for HS384, RS256 or none")
	}
}
