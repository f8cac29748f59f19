package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// TestMain runs the gateway's main instead of the tests when
// GATEWAY_TEST_MAIN is set, so that tests can start the test binary as the
// gateway process and send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("GATEWAY_TEST_MAIN") == "1" {
		os.Args = append([]string{"gateway"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatedConfig is the settings of a target whose adapter is the memory store
// with a Get that waits until the gate is closed: a request under way for
// as long as a test wants.
type gatedConfig struct {
	gate    chan struct{} // closed: every Get goes on
	entered chan string   // gets each Get's id as it starts waiting
	closed  atomic.Bool   // the adapter was closed
}

func newGatedConfig() *gatedConfig {
	return &gatedConfig{gate: make(chan struct{}), entered: make(chan string, 64)}
}

func (c *gatedConfig) Validate() error { return nil }

func (c *gatedConfig) Open(context.Context) (adapters.Adapter, error) {
	return &gatedAdapter{Adapter: memory.New(), cfg: c}, nil
}

// waitEntered waits until n Gets wait at the gate.
func (c *gatedConfig) waitEntered(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-c.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d requests reached the adapter within 10s", i, n)
		}
	}
}

type gatedAdapter struct {
	*memory.Adapter
	cfg *gatedConfig
}

func (a *gatedAdapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	a.cfg.entered <- id
	select {
	case <-a.cfg.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return a.Adapter.Get(ctx, rt, id)
}

func (a *gatedAdapter) Close() error {
	a.cfg.closed.Store(true)
	return nil
}

// hashOf is the hex SHA-256 of a token, as a configuration names it.
func hashOf(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// configDoc is a configuration on loopback with the given targets (memory
// adapters) and tokens, each token reaching every target; extra is added
// under server.
func configDoc(targets, tokens []string, extra string) string {
	var b strings.Builder
	b.WriteString("server:\n  listen: 127.0.0.1:0\n  shutdownTimeout: 10s\n" + extra + "targets:\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "  - {name: %s, adapter: memory}\n", t)
	}
	b.WriteString("credentials:\n  tokens:\n")
	for _, tok := range tokens {
		fmt.Fprintf(&b, "    - {name: %s, sha256: %s, targets: [\"*\"], defaultTarget: %s}\n", tok, hashOf(tok), targets[0])
	}
	return b.String()
}

// writeFileAtomic replaces path's content the way editors and config
// management do: a new file renamed over the old one.
func writeFileAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// gateway is serveReloading running in the background.
type gateway struct {
	base   string // http(s)://addr
	out    *syncBuffer
	done   chan error
	cancel context.CancelFunc
}

// startGateway runs serveReloading(cfg, src) until the test ends; src may
// be nil.
func startGateway(t *testing.T, cfg *config.Config, src *configSource) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{out: new(syncBuffer), done: make(chan error, 1), cancel: cancel}
	addrs := make(chan net.Addr, 1)
	go func() { g.done <- serveReloading(ctx, cfg, src, g.out, func(a net.Addr) { addrs <- a }) }()
	t.Cleanup(func() {
		cancel()
		<-g.done
	})
	scheme := "http://"
	if cfg.Server.TLS.Enabled() {
		scheme = "https://"
	}
	select {
	case a := <-addrs:
		g.base = scheme + a.String()
	case err := <-g.done:
		t.Fatalf("serve ended before serving: %v\n%s", err, g.out)
	case <-time.After(10 * time.Second):
		t.Fatalf("not serving within 10s:\n%s", g.out)
	}
	return g
}

// wait returns serve's result, failing the test after 10s.
func (g *gateway) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-g.done:
		g.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not return within 10s:\n%s", g.out)
		return nil
	}
}

// loadDoc writes doc as a configuration file and loads it.
func loadDoc(t *testing.T, doc string) (*config.Config, *configSource) {
	t.Helper()
	src := &configSource{path: filepath.Join(t.TempDir(), "gateway.yaml"), getenv: func(string) string { return "" }}
	writeFileAtomic(t, src.path, doc)
	cfg, _, err := src.load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, src
}

// result is one response, or the error in its place.
type result struct {
	status int
	err    error
}

// getAsync sends GET url with token and delivers the outcome on the channel.
func getAsync(url, token string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		// A connection of its own: the in-flight requests must not queue
		// behind one another on a shared one.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err != nil {
			ch <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- result{status: resp.StatusCode}
	}()
	return ch
}

// createUser creates a user on target and returns its id.
func createUser(t *testing.T, base, target, token, userName string) string {
	t.Helper()
	status, doc := call(t, "POST", base+"/targets/"+target+"/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST %s Users = %d %v, want 201", target, status, doc)
	}
	return doc["id"].(string)
}

// refused waits until a new connection to addr is refused, failing the
// test when it is still accepted after 10s.
func refused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return
		case errors.Is(err, syscall.ECONNRESET):
			// Dialed as the listener closed: try again.
		case err != nil:
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		default:
			conn.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections 10s into the shutdown", addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHealthEndpoints(t *testing.T) {
	cfg, _ := loadDoc(t, configDoc([]string{"alpha", "beta"}, []string{"tok"}, ""))
	g := startGateway(t, cfg, nil)
	for _, path := range []string{"/healthz", "/readyz", "/version"} {
		status, doc := call(t, "GET", g.base+path, "", "")
		if status != http.StatusOK {
			t.Errorf("GET %s = %d %v, want 200 without a credential", path, status, doc)
		}
	}
	_, doc := call(t, "GET", g.base+"/readyz", "", "")
	targets, _ := doc["targets"].(map[string]any)
	if doc["status"] != "ready" || len(targets) != 2 || targets["alpha"] == nil || targets["beta"] == nil {
		t.Errorf("/readyz = %v, want ready with alpha and beta", doc)
	}
	_, doc = call(t, "GET", g.base+"/version", "", "")
	v, c := buildVersion()
	if doc["version"] != v || doc["commit"] != c || !strings.HasPrefix(doc["goVersion"].(string), "go") {
		t.Errorf("/version = %v, want version %q commit %q and the Go version", doc, v, c)
	}
}

// TestShutdownDrains checks the shutdown on a signal (ctx ending): /readyz
// answers 503 during server.drainDelay, then new connections are refused,
// and the requests under way all finish with their answer.
func TestShutdownDrains(t *testing.T) {
	cfg, _ := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "  drainDelay: 2s\n"))
	gated := newGatedConfig()
	cfg.Targets[0].Settings = gated
	cfg.Cache.Disabled = true // concurrent Gets must each reach the gate, not share one
	g := startGateway(t, cfg, nil)
	id := createUser(t, g.base, "alpha", "tok", "bjensen")

	const n = 4
	var results []<-chan result
	for range n {
		results = append(results, getAsync(g.base+"/scim/v2/Users/"+id, "tok"))
	}
	gated.waitEntered(t, n)
	g.cancel()

	// During the drain delay the listener still accepts, and says it is
	// going away: not ready, and the connection is not kept. (Until serve
	// has seen ctx end, /readyz may still say ready.)
	for {
		resp, err := http.Get(g.base + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz during the drain delay: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"ready"`) {
			time.Sleep(time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"draining"`) || !resp.Close {
			t.Errorf("GET /readyz while draining = %d %s (close %v), want 503 draining with Connection: close", resp.StatusCode, body, resp.Close)
		}
		break
	}
	waitFor(t, g.out, regexp.MustCompile(`"msg":"shutting down"`), nil)
	refused(t, strings.TrimPrefix(g.base, "http://"))

	close(gated.gate)
	for i, ch := range results {
		if r := <-ch; r.err != nil || r.status != http.StatusOK {
			t.Errorf("in-flight request %d = %d %v, want 200", i, r.status, r.err)
		}
	}
	if err := g.wait(t); err != nil {
		t.Fatalf("serve = %v, want nil after a graceful shutdown\n%s", err, g.out)
	}
	if !strings.Contains(g.out.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line:\n%s", g.out)
	}
	if !gated.closed.Load() {
		t.Error("the target was not closed at the end")
	}
}

// TestShutdownTimeout checks that requests still running after
// server.shutdownTimeout are cut off and serve reports it.
func TestShutdownTimeout(t *testing.T) {
	cfg, _ := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, ""))
	cfg.Server.ShutdownTimeout = 50 * time.Millisecond
	gated := newGatedConfig()
	cfg.Targets[0].Settings = gated
	cfg.Cache.Disabled = true // concurrent Gets must each reach the gate, not share one
	g := startGateway(t, cfg, nil)
	res := getAsync(g.base+"/scim/v2/Users/x", "tok")
	gated.waitEntered(t, 1)
	g.cancel()
	err := g.wait(t)
	if err == nil || !strings.Contains(err.Error(), "shutdown: context deadline exceeded") {
		t.Errorf("serve = %v, want the shutdown deadline exceeded", err)
	}
	if r := <-res; r.err == nil {
		t.Errorf("the request cut off got %d, want a broken connection", r.status)
	}
}

// TestSignals runs the gateway as its own process and sends it real
// signals: SIGHUP reloads the configuration, SIGTERM drains and stops it
// with exit status 0.
func TestSignals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.yaml")
	writeFileAtomic(t, path, configDoc([]string{"alpha"}, []string{"old"}, "  watchConfig: false\n"))
	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1")
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := waitFor(t, out, servingRE, exited)[1]
	base := "http://" + addr

	writeFileAtomic(t, path, configDoc([]string{"alpha"}, []string{"new"}, "  watchConfig: false\n"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, regexp.MustCompile(`"msg":"config reloaded"`), exited)
	if status, _ := call(t, "GET", base+"/scim/v2/Users", "new", ""); status != http.StatusOK {
		t.Errorf("after SIGHUP: the new token = %d, want 200", status)
	}
	if status, _ := call(t, "GET", base+"/scim/v2/Users", "old", ""); status != http.StatusUnauthorized {
		t.Errorf("after SIGHUP: the removed token = %d, want 401", status)
	}

	// A request under way when SIGTERM comes: its headers are sent now,
	// its body only once the shutdown has begun. The server's "100
	// Continue" shows that the handler runs and waits for the body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late"}`
	head := "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer new\r\nContent-Type: application/scim+json\r\n" +
		"Expect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	cont := make([]byte, len("HTTP/1.1 100 Continue\r\n\r\n"))
	if _, err := io.ReadFull(conn, cont); err != nil || string(cont) != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("read %q, %v; want HTTP/1.1 100 Continue", cont, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, regexp.MustCompile(`"msg":"shutting down"`), exited)
	refused(t, addr)
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 201") {
		t.Errorf("in-flight request got %q, want a 201", firstLine(string(resp)))
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("gateway exited with %v, want status 0\n%s", err, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("gateway still running 10s after SIGTERM\n%s", out)
	}
	if !strings.Contains(out.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line:\n%s", out)
	}
}
