package auth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Config is the set of credentials a Verifier accepts.
type Config struct {
	Tokens  []StaticToken
	Issuers []Issuer
}

// StaticToken is a bearer token known by its SHA-256 hash; the token itself
// is never configured.
type StaticToken struct {
	// Name identifies the credential in logs (Principal.Subject).
	Name string
	// SHA256 is the SHA-256 of the token's bytes.
	SHA256 [sha256.Size]byte
	// Targets lists the targets the token may reach; "*" means every target.
	Targets []string
	// DefaultTarget is the target behind /scim/v2; empty means none. It must
	// be reachable.
	DefaultTarget string
}

// MaxLeeway is the largest clock skew an Issuer may tolerate.
const MaxLeeway = 5 * time.Minute

// Issuer is a JWT issuer whose tokens are accepted (RFC 7519). Exactly one
// source of verification keys is set, matching Algorithm: Secret for HS*,
// PublicKey or JWKSURL otherwise.
type Issuer struct {
	// Issuer is the exact `iss` claim value (RFC 7519 §4.1.1).
	Issuer string
	// Audience must be one of the token's `aud` values (RFC 7519 §4.1.3).
	Audience string
	// Algorithm is the one JWS algorithm accepted (e.g. "RS256"); a token
	// whose header names another is rejected before any key is consulted.
	Algorithm string
	// Secret is the HMAC key of an HS* issuer.
	Secret []byte
	// PublicKey is the *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey of an issuer with one fixed key.
	PublicKey crypto.PublicKey
	// JWKSURL is the issuer's JSON Web Key Set (RFC 7517 §5), fetched on
	// first use, cached, and fetched again (rate-limited) when a token names
	// an unknown key id. It must be https, except on a loopback host.
	JWKSURL string
	// Targets lists the targets the issuer's tokens may reach; "*" means
	// every target. With TargetsClaim it is the upper bound of what a token
	// may claim.
	Targets []string
	// TargetsClaim, when set, names a claim listing the targets of each
	// token: a JSON array of strings, or a space-separated string like an
	// OAuth scope. Values outside Targets are dropped; "*" in the claim
	// stands for all of Targets.
	TargetsClaim string
	// DefaultTarget is the target behind /scim/v2; empty means none. It is
	// dropped from a token's principal when the token may not reach it.
	DefaultTarget string
	// Leeway is the clock skew tolerated on exp, nbf and iat; at most
	// MaxLeeway.
	Leeway time.Duration
}

// Validate reports every problem of t at once, each prefixed with the
// (lower-case) name of the field at fault. It has no side effects.
func (t *StaticToken) Validate() error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if t.SHA256 == ([sha256.Size]byte{}) {
		errs = append(errs, errors.New("sha256: required"))
	}
	errs = append(errs, checkTargets(t.Targets, t.DefaultTarget, true)...)
	return errors.Join(errs...)
}

// Validate reports every problem of is at once, each prefixed with the
// (lower-case) name of the field at fault. It has no side effects: a JWKS
// URL is checked for form, not fetched.
func (is *Issuer) Validate() error {
	var errs []error
	if is.Issuer == "" {
		errs = append(errs, errors.New("issuer: required"))
	}
	if is.Audience == "" {
		errs = append(errs, errors.New("audience: required"))
	}
	kind, known := algorithms[is.Algorithm]
	switch {
	case is.Algorithm == "":
		errs = append(errs, fmt.Errorf("algorithm: required, one of %s", strings.Join(Algorithms(), ", ")))
	case !known:
		errs = append(errs, fmt.Errorf("algorithm: unsupported %q, want one of %s", is.Algorithm, strings.Join(Algorithms(), ", ")))
	}
	sources := 0
	for _, set := range []bool{is.Secret != nil, is.PublicKey != nil, is.JWKSURL != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources > 1:
		errs = append(errs, errors.New("key: set exactly one of secret, public key and JWKS URL"))
	case sources == 0 && known && kind == kindHMAC:
		errs = append(errs, fmt.Errorf("secret: required for %s", is.Algorithm))
	case sources == 0 && known:
		errs = append(errs, fmt.Errorf("key: %s needs a public key or a JWKS URL", is.Algorithm))
	case !known:
		// Nothing to match the key against.
	case is.Secret != nil:
		if err := CheckKey(is.Algorithm, is.Secret); err != nil {
			errs = append(errs, fmt.Errorf("secret: %w", err))
		}
	case is.PublicKey != nil:
		if err := CheckKey(is.Algorithm, is.PublicKey); err != nil {
			errs = append(errs, fmt.Errorf("publicKey: %w", err))
		}
	case kind == kindHMAC:
		errs = append(errs, fmt.Errorf("jwksURL: %s verifies with a shared secret, not a key set", is.Algorithm))
	default:
		if err := checkJWKSURL(is.JWKSURL); err != nil {
			errs = append(errs, fmt.Errorf("jwksURL: %w", err))
		}
	}
	errs = append(errs, checkTargets(is.Targets, is.DefaultTarget, is.TargetsClaim == "")...)
	if is.Leeway < 0 || is.Leeway > MaxLeeway {
		errs = append(errs, fmt.Errorf("leeway: must be between 0 and %v, got %v", MaxLeeway, is.Leeway))
	}
	return errors.Join(errs...)
}

// checkTargets checks a credential's target list and default target. With
// strictDefault, the default must be reachable through the list; without it
// (targets from a claim) the default is checked per token.
func checkTargets(targets []string, def string, strictDefault bool) []error {
	var errs []error
	if len(targets) == 0 {
		errs = append(errs, errors.New(`targets: required (list target names, or "*" for every target)`))
	}
	for i, t := range targets {
		if t == "" {
			errs = append(errs, fmt.Errorf("targets[%d]: empty target name", i))
		}
	}
	if def != "" && strictDefault && !reaches(targets, def) {
		errs = append(errs, fmt.Errorf("defaultTarget: %q is not among the credential's targets", def))
	}
	if def == "*" {
		errs = append(errs, errors.New(`defaultTarget: must name one target, not "*"`))
	}
	return errs
}

func reaches(targets []string, t string) bool {
	return slices.Contains(targets, "*") || slices.Contains(targets, t)
}

// checkJWKSURL requires https, except on a loopback host where a local IdP or
// a test serves plain HTTP: keys fetched in clear over a network could be
// swapped by anyone on the path.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("host required, got %q", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("must be https (http only on a loopback host), got %q", raw)
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// Verifier authenticates bearer tokens against a Config: static tokens
// first, then, for tokens shaped like a JWT, the issuer named by the token.
// It is safe for concurrent use. The Principals it returns are shared: callers
// must not modify them.
type Verifier struct {
	hashes     [][sha256.Size]byte // static token hashes, in Config order
	principals []*Principal        // principals[i] belongs to hashes[i]
	issuers    map[string]*issuer  // by exact iss value
}

var _ Authenticator = (*Verifier)(nil)

// Option configures a Verifier built by New.
type Option func(*options)

type options struct {
	client *http.Client
	now    func() time.Time
}

// WithHTTPClient sets the client that fetches JWKS documents; nil keeps a
// client with a 10 s timeout. Tests pass an httptest server's client.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.client = c
		}
	}
}

// WithClock sets the clock for token lifetimes and JWKS refresh intervals;
// nil keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// New validates cfg and builds a Verifier. It does no I/O: a JWKS is fetched
// when the first token of its issuer arrives.
func New(cfg Config, opts ...Option) (*Verifier, error) {
	o := options{client: &http.Client{Timeout: jwksTimeout}, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	v := &Verifier{issuers: make(map[string]*issuer, len(cfg.Issuers))}
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	for i, t := range cfg.Tokens {
		if err := t.Validate(); err != nil {
			errs = append(errs, prefix(fmt.Sprintf("tokens[%d]", i), err))
			continue
		}
		if j, dup := names[t.Name]; dup {
			errs = append(errs, fmt.Errorf("tokens[%d].name: %q is also the name of tokens[%d]", i, t.Name, j))
		}
		if j, dup := hashes[t.SHA256]; dup {
			errs = append(errs, fmt.Errorf("tokens[%d].sha256: same token as tokens[%d]", i, j))
		}
		names[t.Name], hashes[t.SHA256] = i, i
		v.hashes = append(v.hashes, t.SHA256)
		v.principals = append(v.principals, &Principal{
			Subject:       t.Name,
			Targets:       slices.Clone(t.Targets),
			DefaultTarget: t.DefaultTarget,
		})
	}
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		if err := is.Validate(); err != nil {
			errs = append(errs, prefix(fmt.Sprintf("issuers[%d]", i), err))
			continue
		}
		if _, dup := v.issuers[is.Issuer]; dup {
			errs = append(errs, fmt.Errorf("issuers[%d].issuer: %q is configured twice", i, is.Issuer))
			continue
		}
		v.issuers[is.Issuer] = newIssuer(is, o)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return v, nil
}

// prefix prefixes each of the (joined) errors in err with p and a dot.
func prefix(p string, err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s.%w", p, e)
	}
	return errors.Join(out...)
}

// maxTokenBytes bounds the work spent on a presented token. Real JWTs from
// Okta or Entra ID are a few kilobytes.
const maxTokenBytes = 16 << 10

// Authenticate returns the principal of token, or a 401 *scim.Error whose
// detail says why without echoing the token. A JWT whose issuer's keys cannot
// be fetched at all is a 503 with Retry-After, so that a client retries
// rather than drops its credential.
func (v *Verifier) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if len(token) > maxTokenBytes {
		return nil, unauthorized("bearer token is too long", nil)
	}
	if i := matchHash(sha256.Sum256([]byte(token)), v.hashes); i >= 0 {
		return v.principals[i], nil
	}
	if len(v.issuers) > 0 && strings.Count(token, ".") == 2 {
		return v.verifyJWT(ctx, token)
	}
	return nil, unauthorized("unknown bearer token", nil)
}

// matchHash returns the index of h in hashes, or -1. It compares h with every
// hash in constant time and without an early exit, so that the time taken
// tells nothing about which hash, if any, matched, nor how much of it.
func matchHash(h [sha256.Size]byte, hashes [][sha256.Size]byte) int {
	found := -1
	for i := range hashes {
		eq := subtle.ConstantTimeCompare(h[:], hashes[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	return found
}

func unauthorized(detail string, cause error) *scim.Error {
	return &scim.Error{Status: http.StatusUnauthorized, Detail: detail, Err: cause}
}

// jwtFailure turns a jwt/v5 error into a 401 with a detail safe to show:
// which check failed, never the token or key material.
func jwtFailure(err error) error {
	var se *scim.Error
	if errors.As(err, &se) {
		return se // from the key lookup: an unknown key id, or JWKS unavailable
	}
	var detail string
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		detail = "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		detail = "token signature or algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenExpired):
		detail = "token is expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		detail = "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		detail = "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		detail = "token lacks a required claim (iss, aud and exp are required)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		detail = "token audience is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		detail = "token issuer is not accepted"
	default:
		detail = "invalid token"
	}
	return unauthorized(detail, err)
}
