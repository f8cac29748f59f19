package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// issuer is an Issuer ready to verify tokens: its parser is built once, with
// the algorithm, issuer and audience pinned.
type issuer struct {
	name          string
	alg           string
	parser        *jwt.Parser
	key           any   // the fixed key: []byte secret or public key; nil with jwks
	jwks          *jwks // nil with a fixed key
	targets       []string
	targetsClaim  string
	defaultTarget string
}

func newIssuer(is *Issuer, o options) *issuer {
	it := &issuer{
		name:          is.Issuer,
		alg:           is.Algorithm,
		targets:       slices.Clone(is.Targets),
		targetsClaim:  is.TargetsClaim,
		defaultTarget: is.DefaultTarget,
		parser: jwt.NewParser(
			// One algorithm per issuer: a token naming any other, "none"
			// included, fails before a key is looked up (RFC 8725 §3.1).
			jwt.WithValidMethods([]string{is.Algorithm}),
			jwt.WithIssuer(is.Issuer),
			jwt.WithAudience(is.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(is.Leeway),
			jwt.WithTimeFunc(o.now),
		),
	}
	switch {
	case is.Secret != nil:
		it.key = slices.Clone(is.Secret)
	case is.PublicKey != nil:
		it.key = is.PublicKey
	default:
		it.jwks = newJWKS(is.JWKSURL, o.client, o.now)
	}
	return it
}

// verifyJWT picks the issuer by the token's unverified `iss`, then verifies
// the token strictly against that issuer alone: signature with the pinned
// algorithm and key, iss, aud, exp (required), nbf and iat.
func (v *Verifier) verifyJWT(ctx context.Context, token string) (*Principal, error) {
	iss, ok := unverifiedIssuer(token)
	if !ok {
		return nil, unauthorized("malformed token", nil)
	}
	it := v.issuers[iss]
	if it == nil {
		return nil, unauthorized("token issuer is not accepted", nil)
	}
	claims := jwt.MapClaims{}
	_, err := it.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if it.jwks == nil {
			return it.key, nil
		}
		kid, _ := t.Header["kid"].(string)
		return it.jwks.keys(ctx, kid, it.alg)
	})
	if err != nil {
		return nil, jwtFailure(err)
	}
	return it.principal(claims), nil
}

// unverifiedIssuer reads the `iss` claim of a compact JWS without verifying
// anything; it only chooses which issuer verifies the token.
func unverifiedIssuer(token string) (string, bool) {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Iss == "" {
		return "", false
	}
	return claims.Iss, true
}

// principal builds the caller of a verified token.
func (it *issuer) principal(claims jwt.MapClaims) *Principal {
	p := &Principal{Subject: it.name}
	if sub, _ := claims["sub"].(string); sub != "" {
		p.Subject = sub
	}
	if it.targetsClaim == "" {
		p.Targets = it.targets
		p.DefaultTarget = it.defaultTarget
		return p
	}
	for _, t := range claimStrings(claims[it.targetsClaim]) {
		switch {
		case t == "*":
			// "All I may reach" is the configured bound, never more.
			p.Targets = append(p.Targets, it.targets...)
		case reaches(it.targets, t):
			p.Targets = append(p.Targets, t)
		}
	}
	slices.Sort(p.Targets)
	p.Targets = slices.Compact(p.Targets)
	if it.defaultTarget != "" && p.MayReach(it.defaultTarget) {
		p.DefaultTarget = it.defaultTarget
	}
	return p
}

// claimStrings reads a claim that lists names: a JSON array of strings, or
// one string of space-separated names (the form of OAuth's `scope`, RFC 8693
// §4.2). Anything else lists nothing.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
