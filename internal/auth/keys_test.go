package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/auth"
)

func TestParsePublicKeyPEM(t *testing.T) {
	rsaPub := &rsaKey().PublicKey
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey().PublicKey, ecKey())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      []byte
		want    any    // the key; nil means an error
		wantErr string // substring of the error
	}{
		{name: "PKIX RSA", in: pkixPEM(t, rsaPub), want: rsaPub},
		{name: "PKIX EC", in: pkixPEM(t, &ecKey().PublicKey), want: &ecKey().PublicKey},
		{name: "PKIX Ed25519", in: pkixPEM(t, edKey().Public()), want: edKey().Public()},
		{name: "PKCS1 RSA", in: pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsaPub)), want: rsaPub},
		{name: "certificate", in: pemOf(t, "CERTIFICATE", certDER), want: &ecKey().PublicKey},
		{name: "leading text", in: append([]byte("issuer key\n"), pkixPEM(t, rsaPub)...), want: rsaPub},
		{name: "private key refused", in: pemOf(t, "PRIVATE KEY", pkcs8), wantErr: "configure the public key only"},
		{name: "not PEM", in: []byte("hello"), wantErr: "no PEM block"},
		{name: "unknown block", in: pemOf(t, "SECRET", []byte{1}), wantErr: `unsupported PEM block type "SECRET"`},
		{name: "corrupt DER", in: pemOf(t, "PUBLIC KEY", []byte{1, 2, 3}), wantErr: "parse PUBLIC KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParsePublicKeyPEM(tt.in)
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePublicKeyPEM = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePublicKeyPEM: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParsePublicKeyPEM = %T, want %T equal to the generated key", got, tt.want)
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		alg     string
		key     any
		wantErr string // "" means fits
	}{
		{"HS256", hmacSecret, ""},
		{"HS256", hmacSecret[:31], "at least 32 bytes"},
		{"HS384", hmacSecret, "at least 48 bytes"},
		{"HS256", &rsaKey().PublicKey, "needs a shared secret, got an RSA key of 2048 bits"},
		{"RS256", &rsaKey().PublicKey, ""},
		{"PS512", &rsaKey().PublicKey, ""},
		{"RS256", hmacSecret, "needs an RSA public key, got a shared secret"},
		{"RS256", &rsa.PublicKey{}, "at least 2048 bits"},
		{"ES256", &ecKey().PublicKey, ""},
		{"ES512", &ecKey().PublicKey, "curve P-521"},
		{"ES256", edKey().Public(), "needs an ECDSA public key, got an Ed25519 key"},
		{"EdDSA", edKey().Public(), ""},
		{"EdDSA", ed25519.PublicKey{1, 2}, "needs an Ed25519 public key"},
		{"EdDSA", nil, "got no key"},
		{"ES256", &ecdsa.PublicKey{}, "got an ECDSA key"},
		{"none", hmacSecret, `unsupported algorithm "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.alg+" "+tt.wantErr, func(t *testing.T) {
			err := auth.CheckKey(tt.alg, tt.key)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckKey(%s) = %v, want nil", tt.alg, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckKey(%s) = %v, want an error containing %q", tt.alg, err, tt.wantErr)
			}
		})
	}
}
