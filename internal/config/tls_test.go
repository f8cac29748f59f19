package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/config"
)

// writePair writes a self-signed certificate and its key as PEM files.
func writePair(t *testing.T, dir, certName, keyName string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "scim.example.com"},
		DNSNames:     []string{"scim.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, certName, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, dir, keyName, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir, "tls.crt", "tls.key")
	writePair(t, dir, "other.crt", "other.key")
	write(t, dir, "garbage.pem", "not PEM\n")

	cfg, err := config.Parse([]byte(minimal+"server:\n  tls: {certFile: tls.crt, keyFile: "+filepath.Join(dir, "tls.key")+"}\n"), dir, noEnv)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	want := config.TLS{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	if cfg.Server.TLS != want || !cfg.Server.TLS.Enabled() {
		t.Errorf("Server.TLS = %+v, want %+v (relative names resolved against the config's directory)", cfg.Server.TLS, want)
	}
	if cfg := mustParse(t, minimal, noEnv); cfg.Server.TLS.Enabled() {
		t.Errorf("Server.TLS = %+v without a tls section, want it disabled", cfg.Server.TLS)
	}

	tests := []struct {
		name string
		tls  string
		want string
	}{
		{"cert without key", "{certFile: tls.crt}", "server.tls.keyFile: required with server.tls.certFile"},
		{"key without cert", "{keyFile: tls.key}", "server.tls.certFile: required with server.tls.keyFile"},
		{"missing cert", "{certFile: nope.crt, keyFile: tls.key}", "server.tls.certFile: open " + filepath.Join(dir, "nope.crt")},
		{"missing key", "{certFile: tls.crt, keyFile: nope.key}", "server.tls.keyFile: open " + filepath.Join(dir, "nope.key")},
		{"not a pair", "{certFile: tls.crt, keyFile: other.key}", "server.tls: " + filepath.Join(dir, "tls.crt") + " and " + filepath.Join(dir, "other.key") + ": tls: private key does not match public key"},
		{"not PEM", "{certFile: garbage.pem, keyFile: tls.key}", "server.tls: " + filepath.Join(dir, "garbage.pem")},
		{"unknown key", "{certFile: tls.crt, keyFile: tls.key, caFile: ca.pem}", "server.tls.caFile: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(minimal+"server:\n  tls: "+tt.tls+"\n"), dir, noEnv)
			if err == nil {
				t.Fatal("Parse = nil, want an error")
			}
			problems := strings.Split(err.Error(), "\n")
			if len(problems) != 1 || !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, tt.want) }) {
				t.Errorf("Parse:\n%v\nwant one problem starting with %q", err, tt.want)
			}
		})
	}
}
