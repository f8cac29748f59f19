package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// certReloader serves the certificate of server.tls and picks up a new one
// when the files change, without a restart: cert-manager and Kubernetes
// secret mounts replace them in place (a secret mount swaps a symlink).
// Changes are noticed by watching the files' directories and, should the
// watch miss one (network file systems, a directory the watch could not
// add), by comparing the files' identity and modification time during a
// handshake, at most once per certStatInterval. A new pair that does not
// load is logged and the previous one kept. It is safe for concurrent use.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu       sync.Mutex
	cert     *tls.Certificate
	stamp    pairStamp // of the files last read, loaded or not
	lastStat time.Time

	watcher *fsnotify.Watcher // nil when the directories could not be watched
	done    chan struct{}     // closed by close
	stopped chan struct{}     // closed when the watch loop has ended
}

// certStatInterval bounds how often a handshake checks the files.
const certStatInterval = time.Second

// certDebounce lets the writes of a rotation (certificate, then key) end
// before the pair is read.
const certDebounce = 100 * time.Millisecond

// newCertReloader loads the pair and starts watching the files.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log, done: make(chan struct{}), stopped: make(chan struct{})}
	st, err := c.statPair()
	if err != nil {
		return nil, fmt.Errorf("server.tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server.tls: %w", err)
	}
	c.cert, c.stamp, c.lastStat = &cert, st, time.Now()
	c.logLoaded(&cert)

	w, err := fsnotify.NewWatcher()
	if err == nil {
		for _, dir := range uniqueDirs(certFile, keyFile) {
			if err = w.Add(dir); err != nil {
				break
			}
		}
		if err != nil {
			_ = w.Close()
		}
	}
	if err != nil {
		log.Warn("not watching the TLS files; changes are noticed during handshakes", "err", err)
		close(c.stopped)
		return c, nil
	}
	c.watcher = w
	go c.watch()
	return c, nil
}

func uniqueDirs(files ...string) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, f := range files {
		if d := filepath.Dir(f); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// tlsConfig is the server's TLS configuration, serving c's certificate.
func (c *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.getCertificate,
	}
}

// getCertificate returns the current certificate, reloading it first when
// the files changed since they were last read.
func (c *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.lastStat) >= certStatInterval {
		c.lastStat = now
		c.reloadLocked()
	}
	return c.cert, nil
}

// watch reloads after file events, until close.
func (c *certReloader) watch() {
	defer close(c.stopped)
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-c.done:
			return
		case _, ok := <-c.watcher.Events:
			if !ok {
				return
			}
			debounce.Reset(certDebounce)
		case err, ok := <-c.watcher.Errors:
			if !ok {
				return
			}
			c.log.Warn("watching the TLS files", "err", err)
		case <-debounce.C:
			c.mu.Lock()
			c.reloadLocked()
			c.mu.Unlock()
		}
	}
}

// reloadLocked loads the pair when the files are not those last read;
// c.mu is held.
func (c *certReloader) reloadLocked() {
	st, err := c.statPair()
	if err != nil {
		// Between a rotation's steps, or gone: keep serving what we have.
		// The files are read again once they are back.
		if c.stamp.cert != nil {
			c.log.Error("TLS certificate reload failed; serving the previous certificate", "err", err)
		}
		c.stamp = pairStamp{}
		return
	}
	if st.same(c.stamp) {
		return
	}
	c.stamp = st
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		c.log.Error("TLS certificate reload failed; serving the previous certificate", "err", err)
		return
	}
	c.cert = &cert
	c.logLoaded(&cert)
}

func (c *certReloader) logLoaded(cert *tls.Certificate) {
	leaf := cert.Leaf
	if leaf == nil {
		c.log.Info("TLS certificate loaded", "certFile", c.certFile)
		return
	}
	c.log.Info("TLS certificate loaded", "certFile", c.certFile, "subject", leaf.Subject.String(),
		"dnsNames", leaf.DNSNames, "serial", leaf.SerialNumber.String(), "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Now().After(leaf.NotAfter) {
		c.log.Warn("TLS certificate has expired", "certFile", c.certFile, "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

// close stops the watch.
func (c *certReloader) close() {
	close(c.done)
	<-c.stopped
	if c.watcher != nil {
		_ = c.watcher.Close()
	}
}

// pairStamp identifies the versions of the two files: a rotation replaces
// a file (new identity) or rewrites it (new modification time or size).
type pairStamp struct {
	cert, key os.FileInfo
}

func (c *certReloader) statPair() (pairStamp, error) {
	cert, err := os.Stat(c.certFile) // follows the symlinks of a secret mount
	if err != nil {
		return pairStamp{}, err
	}
	key, err := os.Stat(c.keyFile)
	if err != nil {
		return pairStamp{}, err
	}
	return pairStamp{cert: cert, key: key}, nil
}

func (s pairStamp) same(o pairStamp) bool {
	return sameVersion(s.cert, o.cert) && sameVersion(s.key, o.key)
}

func sameVersion(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
