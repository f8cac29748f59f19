package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

// keyKind is the kind of key a JWS algorithm verifies with.
type keyKind int

const (
	kindHMAC keyKind = iota + 1
	kindRSA
	kindEC
	kindEd25519
)

// algorithms maps each supported JWS algorithm (RFC 7518 §3.1, RFC 8037 §3.1)
// to the key kind it needs. "none" is absent on purpose: an unsigned token is
// never accepted.
var algorithms = map[string]keyKind{
	"HS256": kindHMAC, "HS384": kindHMAC, "HS512": kindHMAC,
	"RS256": kindRSA, "RS384": kindRSA, "RS512": kindRSA,
	"PS256": kindRSA, "PS384": kindRSA, "PS512": kindRSA,
	"ES256": kindEC, "ES384": kindEC, "ES512": kindEC,
	"EdDSA": kindEd25519,
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3: "A key of
// size 2048 bits or larger MUST be used").
const minRSABits = 2048

// Algorithms returns the JWS algorithms an Issuer may pin, sorted.
func Algorithms() []string {
	algs := make([]string, 0, len(algorithms))
	for alg := range algorithms {
		algs = append(algs, alg)
	}
	slices.Sort(algs)
	return algs
}

// IsHMAC reports whether alg verifies with a shared secret (HS256, HS384,
// HS512) rather than a public key.
func IsHMAC(alg string) bool { return algorithms[alg] == kindHMAC }

// minSecretBytes is the shortest HMAC secret accepted for alg: RFC 7518 §3.2
// requires a key at least as long as the hash output.
func minSecretBytes(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// ecCurve is the curve each ECDSA algorithm is defined on (RFC 7518 §3.4).
func ecCurve(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return nil
}

// CheckKey reports whether key can verify tokens signed with alg: a []byte
// secret of sufficient length for HS*, an *rsa.PublicKey of at least 2048
// bits for RS* and PS*, an *ecdsa.PublicKey on the algorithm's curve for ES*,
// an ed25519.PublicKey for EdDSA. Pinning the key type to the algorithm is
// what defeats algorithm confusion (e.g. an RSA public key used as an HMAC
// secret).
func CheckKey(alg string, key any) error {
	kind, ok := algorithms[alg]
	if !ok {
		return fmt.Errorf("unsupported algorithm %q", alg)
	}
	switch kind {
	case kindHMAC:
		secret, ok := key.([]byte)
		if !ok {
			return fmt.Errorf("%s needs a shared secret, got %s", alg, keyType(key))
		}
		if n := minSecretBytes(alg); len(secret) < n {
			return fmt.Errorf("%s needs a secret of at least %d bytes (RFC 7518 §3.2), got %d", alg, n, len(secret))
		}
	case kindRSA:
		k, ok := key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA public key, got %s", alg, keyType(key))
		}
		if k.N == nil || k.N.BitLen() < minRSABits {
			return fmt.Errorf("%s needs an RSA key of at least %d bits (RFC 7518 §3.3)", alg, minRSABits)
		}
	case kindEC:
		k, ok := key.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an ECDSA public key, got %s", alg, keyType(key))
		}
		if want := ecCurve(alg); k.Curve != want {
			return fmt.Errorf("%s needs a key on curve %s, got %s", alg, want.Params().Name, keyType(key))
		}
	case kindEd25519:
		k, ok := key.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%s needs an Ed25519 public key, got %s", alg, keyType(key))
		}
	}
	return nil
}

// keyType names the type of key for error messages; it never prints key
// material.
func keyType(key any) string {
	switch k := key.(type) {
	case nil:
		return "no key"
	case []byte:
		return "a shared secret"
	case *rsa.PublicKey:
		if k.N == nil {
			return "an RSA key"
		}
		return fmt.Sprintf("an RSA key of %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "an ECDSA key"
		}
		return "an ECDSA key on curve " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a key of type %T", key)
}

// ParsePublicKeyPEM parses the first PEM block of data: a PKIX "PUBLIC KEY",
// a PKCS #1 "RSA PUBLIC KEY" or a "CERTIFICATE" (whose public key is used; the
// certificate itself is not verified, the key is trusted as configured). It
// returns an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		// Refuse rather than derive the public half: a private key has no
		// business in the gateway's configuration.
		return nil, fmt.Errorf("PEM block is a %s; configure the public key only", block.Type)
	default:
		return nil, fmt.Errorf("unsupported PEM block type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", key)
}
