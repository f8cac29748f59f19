package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues serving certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1000),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue returns a certificate for 127.0.0.1 with the given serial number
// and a key of its own, both PEM.
func (ca *testCA) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// writePair writes a certificate with the given serial to dir/tls.crt and
// dir/tls.key, each replaced by a rename, the key first.
func (ca *testCA) writePair(t *testing.T, dir string, serial int64) {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, serial)
	writeFileAtomic(t, filepath.Join(dir, "tls.key"), string(keyPEM))
	writeFileAtomic(t, filepath.Join(dir, "tls.crt"), string(certPEM))
}

// servedSerial makes a new TLS connection to url and returns the serial
// number of the certificate the server presented.
func servedSerial(t *testing.T, ca *testCA, url string) int64 {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.pool},
		DisableKeepAlives: true,
	}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200", url, resp.StatusCode)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSRotation serves HTTPS with server.tls, rotates the files and
// checks that new connections get the new certificate, and that a broken
// pair is refused while the last good one keeps being served.
func TestTLSRotation(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	ca.writePair(t, dir, 1)
	src := &configSource{path: filepath.Join(dir, "gateway.yaml"), getenv: func(string) string { return "" }}
	writeFileAtomic(t, src.path, configDoc([]string{"alpha"}, []string{"tok"}, "  tls: {certFile: tls.crt, keyFile: tls.key}\n"))
	cfg, _, err := src.load()
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, nil)
	if got := servedSerial(t, ca, g.base+"/healthz"); got != 1 {
		t.Fatalf("served certificate %d, want 1", got)
	}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}}
	resp, err := h2.Get(g.base + "/scim/v2/Users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /scim/v2/Users over TLS = %s %d, want HTTP/2.0 401", resp.Proto, resp.StatusCode)
	}
	// Plain HTTP to the TLS port gets net/http's own 400; nothing is
	// served without TLS.
	plain, err := http.Get("http://" + strings.TrimPrefix(g.base, "https://") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	plain.Body.Close()
	if plain.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port = %d, want 400", plain.StatusCode)
	}

	ca.writePair(t, dir, 2)
	waitCount(t, g.out, "TLS certificate loaded", 2)
	if got := servedSerial(t, ca, g.base+"/healthz"); got != 2 {
		t.Errorf("after the rotation: served certificate %d, want 2", got)
	}

	// Between the two renames of a rotation the pair may not match; a
	// failure logged then is not the one this step waits for.
	const failed = "TLS certificate reload failed; serving the previous certificate"
	n := len(logLines(t, g.out, failed))
	writeFileAtomic(t, filepath.Join(dir, "tls.crt"), "not a certificate\n")
	waitCount(t, g.out, failed, n+1)
	if got := servedSerial(t, ca, g.base+"/healthz"); got != 2 {
		t.Errorf("after a broken rotation: served certificate %d, want 2 still", got)
	}
	ca.writePair(t, dir, 3)
	waitCount(t, g.out, "TLS certificate loaded", 3)
	if got := servedSerial(t, ca, g.base+"/healthz"); got != 3 {
		t.Errorf("after the repair: served certificate %d, want 3", got)
	}
}

// currentSerial is the serial of the certificate c holds, read without
// the handshake's own check of the files.
func (c *certReloader) currentSerial() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert.Leaf.SerialNumber.Int64()
}

// TestTLSSecretMount rotates the certificate the way a Kubernetes secret
// volume does: the files are symlinks through "..data", which is swapped
// for a symlink to a new directory in one rename.
func TestTLSSecretMount(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	mount := func(version string, serial int64) {
		t.Helper()
		vdir := filepath.Join(dir, version)
		if err := os.Mkdir(vdir, 0o700); err != nil {
			t.Fatal(err)
		}
		ca.writePair(t, vdir, serial)
		if err := os.Symlink(version, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	mount("..2026_03_01_a", 1)
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	out := new(syncBuffer)
	c, err := newCertReloader(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), slog.New(slog.NewJSONHandler(out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if got := c.currentSerial(); got != 1 {
		t.Fatalf("loaded certificate %d, want 1", got)
	}
	mount("..2026_03_01_b", 2)
	waitCount(t, out, "TLS certificate loaded", 2)
	if got := c.currentSerial(); got != 2 {
		t.Errorf("after the swap: certificate %d, want 2", got)
	}
}

// TestTLSHandshakeCheck checks the fallback for changes the watch misses:
// a handshake compares the files with those loaded, at most once per
// certStatInterval.
func TestTLSHandshakeCheck(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	ca.writePair(t, dir, 1)
	c, err := newCertReloader(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.close() // no watch: only handshakes notice changes
	serial := func() int64 {
		t.Helper()
		cert, err := c.getCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.SerialNumber.Int64()
	}
	ca.writePair(t, dir, 2)
	c.mu.Lock()
	c.lastStat = time.Now()
	c.mu.Unlock()
	if got := serial(); got != 1 {
		t.Errorf("a handshake within certStatInterval of the last check: certificate %d, want 1", got)
	}
	c.mu.Lock()
	c.lastStat = time.Now().Add(-certStatInterval)
	c.mu.Unlock()
	if got := serial(); got != 2 {
		t.Errorf("a handshake after certStatInterval: certificate %d, want 2", got)
	}
	// A key that does not match is refused; the last good pair stays.
	_, otherKey := ca.issue(t, 3)
	writeFileAtomic(t, filepath.Join(dir, "tls.key"), string(otherKey))
	c.mu.Lock()
	c.lastStat = time.Time{}
	c.mu.Unlock()
	if got := serial(); got != 2 {
		t.Errorf("after a mismatched key: certificate %d, want 2", got)
	}
}
