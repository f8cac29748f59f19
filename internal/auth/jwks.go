package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// JWKS fetching and caching. The set is fetched on first use, kept for
// jwksMaxAge, and fetched again early when a token names a key id the set
// lacks (key rotation), at most once per jwksMinInterval so that tokens with
// made-up key ids cannot make the gateway hammer the IdP. A failed fetch is
// retried after jwksRetryInterval; meanwhile the last good set stays in use.
const (
	jwksTimeout       = 10 * time.Second
	jwksMaxAge        = time.Hour
	jwksMinInterval   = time.Minute
	jwksRetryInterval = 10 * time.Second
	jwksMaxBytes      = 1 << 20
	// jwksRetryAfter is the Retry-After (seconds) of the 503 answered while
	// no key set could be fetched yet.
	jwksRetryAfter = 10
)

// jwk is one usable verification key of a set.
type jwk struct {
	kid string
	alg string // the key's "alg", empty when the set does not say
	key any
}

// jwks is the cached key set of one issuer. It is safe for concurrent use.
type jwks struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	set       []jwk
	fetchedAt time.Time     // of set; zero before the first good fetch
	triedAt   time.Time     // of the last fetch, good or bad
	lastErr   error         // of the last fetch
	inflight  chan struct{} // closed when the fetch under way ends; nil if none
}

func newJWKS(url string, client *http.Client, now func() time.Time) *jwks {
	return &jwks{url: url, client: client, now: now}
}

// keys returns the keys that may have signed a token with key id kid
// (possibly empty) and algorithm alg, as a jwt.VerificationKeySet.
func (j *jwks) keys(ctx context.Context, kid, alg string) (any, error) {
	set, fetchedAt := j.snapshot()
	if !fetchedAt.IsZero() && j.now().Sub(fetchedAt) < jwksMaxAge {
		if ks := pick(set, kid, alg); len(ks) > 0 {
			return jwt.VerificationKeySet{Keys: ks}, nil
		}
	}
	// Unknown key id, a stale set, or none yet: fetch (rate-limited), then
	// use whatever set is at hand, stale or not.
	err := j.refresh(ctx)
	set, fetchedAt = j.snapshot()
	if ks := pick(set, kid, alg); len(ks) > 0 {
		return jwt.VerificationKeySet{Keys: ks}, nil
	}
	if fetchedAt.IsZero() {
		return nil, &scim.Error{
			Status:     http.StatusServiceUnavailable,
			Detail:     "the token issuer's signing keys cannot be fetched; try again later",
			Err:        err,
			RetryAfter: jwksRetryAfter,
		}
	}
	return nil, unauthorized("token signing key is unknown", err)
}

func (j *jwks) snapshot() ([]jwk, time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.set, j.fetchedAt
}

// errRateLimited says a fetch was skipped because the last one was too recent.
var errRateLimited = errors.New("auth: JWKS fetched recently; not fetching again yet")

// refresh fetches the set unless a fetch is under way (then it waits for that
// one) or the last one was too recent. The fetch runs detached from ctx, so
// that a caller that gives up does not spoil it for the others.
func (j *jwks) refresh(ctx context.Context) error {
	j.mu.Lock()
	if ch := j.inflight; ch != nil {
		j.mu.Unlock()
		return j.wait(ctx, ch)
	}
	interval := jwksMinInterval
	if j.lastErr != nil {
		interval = jwksRetryInterval
	}
	if !j.triedAt.IsZero() && j.now().Sub(j.triedAt) < interval {
		err := j.lastErr
		j.mu.Unlock()
		return errors.Join(errRateLimited, err)
	}
	ch := make(chan struct{})
	j.inflight = ch
	j.triedAt = j.now()
	j.mu.Unlock()

	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksTimeout)
		defer cancel()
		set, err := j.fetch(fctx)
		j.mu.Lock()
		defer j.mu.Unlock()
		if err == nil {
			j.set, j.fetchedAt = set, j.now()
		}
		j.lastErr = err
		j.inflight = nil
		close(ch)
	}()
	return j.wait(ctx, ch)
}

func (j *jwks) wait(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.lastErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch downloads and parses the set. Keys it cannot use are skipped; a set
// with no usable key is an error.
func (j *jwks) fetch(ctx context.Context) ([]jwk, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", j.url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("auth: JWKS %s: status %s", j.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", j.url, err)
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("auth: JWKS %s: larger than %d bytes", j.url, jwksMaxBytes)
	}
	set, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", j.url, err)
	}
	return set, nil
}

// rawJWK holds the members of a JSON Web Key (RFC 7517 §4, RFC 7518 §6,
// RFC 8037 §2) that verification needs.
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWK Set (RFC 7517 §5), keeping the signature keys it
// can use. Keys of other types or uses, such as encryption keys, are skipped,
// as RFC 7517 §5 asks of keys a reader does not understand.
func parseJWKS(data []byte) ([]jwk, error) {
	var doc struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var set []jwk
	var errs []error
	for i, rk := range doc.Keys {
		if rk.Use != "" && rk.Use != "sig" {
			continue
		}
		key, err := rk.publicKey()
		if err != nil {
			errs = append(errs, fmt.Errorf("keys[%d] (kid %q): %w", i, rk.Kid, err))
			continue
		}
		if key != nil {
			set = append(set, jwk{kid: rk.Kid, alg: rk.Alg, key: key})
		}
	}
	if len(set) == 0 {
		return nil, errors.Join(append([]error{errors.New("no usable signature key")}, errs...)...)
	}
	return set, nil
}

// publicKey decodes the key; nil without error for a key type it skips.
func (rk *rawJWK) publicKey() (any, error) {
	switch rk.Kty {
	case "RSA":
		n, err := b64(rk.N)
		if err != nil || len(n) == 0 {
			return nil, fmt.Errorf("n: invalid base64url")
		}
		e, err := b64(rk.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("e: invalid exponent")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, fmt.Errorf("e: invalid exponent %d", exp)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		var alg string
		switch rk.Crv {
		case "P-256":
			alg = "ES256"
		case "P-384":
			alg = "ES384"
		case "P-521":
			alg = "ES512"
		default:
			return nil, fmt.Errorf("crv: unsupported curve %q", rk.Crv)
		}
		curve := ecCurve(alg)
		size := (curve.Params().BitSize + 7) / 8
		x, errX := b64(rk.X)
		y, errY := b64(rk.Y)
		if errX != nil || errY != nil || len(x) > size || len(y) > size {
			return nil, errors.New("x, y: invalid coordinates")
		}
		// SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y, each left-padded
		// to the field size (RFC 7518 §6.2.1.2 asks for the full size, but
		// some IdPs drop leading zeros).
		point := make([]byte, 1+2*size)
		point[0] = 4
		copy(point[1+size-len(x):1+size], x)
		copy(point[1+2*size-len(y):], y)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("x, y: %w", err)
		}
		return k, nil
	case "OKP":
		if rk.Crv != "Ed25519" {
			return nil, nil // X25519 and friends are not signature keys
		}
		x, err := b64(rk.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("x: invalid Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, nil // "oct" keys are never published; unknown types skipped
}

// b64 decodes base64url without padding (RFC 7515 §2), tolerating padding.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// pick returns the keys of set that may verify a token with key id kid and
// algorithm alg: those with that key id (all of them when the token names
// none), whose own alg, if any, is alg, and whose type fits alg.
func pick(set []jwk, kid, alg string) []jwt.VerificationKey {
	var out []jwt.VerificationKey
	for _, k := range set {
		if (kid != "" && k.kid != kid) || (k.alg != "" && k.alg != alg) {
			continue
		}
		if CheckKey(alg, k.key) != nil {
			continue
		}
		out = append(out, k.key)
	}
	return out
}
