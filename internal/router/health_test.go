package router_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// checkFunc is an adapters.HealthChecker.
type checkFunc func(ctx context.Context) error

func (f checkFunc) Health(ctx context.Context) error { return f(ctx) }

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withHealth(h *router.Health) func(*router.Config) {
	return func(c *router.Config) { c.Health = h }
}

// readyz returns the status code and body of GET /readyz.
func (f *fixture) readyz(t *testing.T) (int, map[string]any) {
	t.Helper()
	resp := f.do(t, req{method: "GET", path: "/readyz"})
	return resp.status, resp.json(t)
}

func targetState(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	targets, _ := doc["targets"].(map[string]any)
	st, ok := targets[name].(map[string]any)
	if !ok {
		t.Fatalf("readyz has no target %q: %v", name, doc)
	}
	return st
}

func TestHealthz(t *testing.T) {
	h := router.NewHealth(router.HealthOptions{})
	f := newFixture(t, withHealth(h))
	for _, phase := range []struct {
		name string
		set  func()
	}{{"starting", func() {}}, {"ready", h.SetReady}, {"draining", h.SetDraining}} {
		phase.set()
		resp := f.do(t, req{method: "GET", path: "/healthz"})
		if resp.status != http.StatusOK || resp.json(t)["status"] != "ok" {
			t.Errorf("%s: GET /healthz = %d %s, want 200 {\"status\":\"ok\"}", phase.name, resp.status, resp.body)
		}
		if ct := resp.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q, want application/json", phase.name, ct)
		}
		if cc := resp.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", phase.name, cc)
		}
	}
	if resp := f.do(t, req{method: "HEAD", path: "/healthz"}); resp.status != http.StatusOK || len(resp.body) != 0 {
		t.Errorf("HEAD /healthz = %d with %d body bytes, want 200 and none", resp.status, len(resp.body))
	}
	if resp := f.do(t, req{method: "POST", path: "/healthz", body: "{}"}); resp.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.status)
	}
	// The SCIM roots still need a credential.
	if resp := f.do(t, req{method: "GET", path: "/scim/v2/Users"}); resp.status != http.StatusUnauthorized {
		t.Errorf("GET /scim/v2/Users without a token = %d, want 401", resp.status)
	}
}

func TestVersionEndpoint(t *testing.T) {
	build := router.BuildInfo{Version: "v1.2.3", Commit: "0123abc", GoVersion: "go1.26.8"}
	f := newFixture(t, func(c *router.Config) { c.Build = build })
	resp := f.do(t, req{method: "GET", path: "/version"})
	doc := resp.json(t)
	if resp.status != http.StatusOK || doc["version"] != "v1.2.3" || doc["commit"] != "0123abc" || doc["goVersion"] != "go1.26.8" {
		t.Errorf("GET /version = %d %s, want 200 with the build info", resp.status, resp.body)
	}
}

func TestReadyzPhases(t *testing.T) {
	h := router.NewHealth(router.HealthOptions{})
	f := newFixture(t, withHealth(h))
	if status, doc := f.readyz(t); status != http.StatusServiceUnavailable || doc["status"] != "starting" {
		t.Errorf("before SetReady: /readyz = %d %v, want 503 starting", status, doc)
	}
	h.SetReady()
	if status, doc := f.readyz(t); status != http.StatusOK || doc["status"] != "ready" {
		t.Errorf("after SetReady: /readyz = %d %v, want 200 ready", status, doc)
	}
	h.SetDraining()
	if status, doc := f.readyz(t); status != http.StatusServiceUnavailable || doc["status"] != "draining" {
		t.Errorf("draining: /readyz = %d %v, want 503 draining", status, doc)
	}
	h.SetReady()
	if status, doc := f.readyz(t); status != http.StatusServiceUnavailable || doc["status"] != "draining" {
		t.Errorf("SetReady after SetDraining: /readyz = %d %v, want 503 draining still", status, doc)
	}
}

func TestReadyzWithoutHealthIsReady(t *testing.T) {
	f := newFixture(t)
	if status, doc := f.readyz(t); status != http.StatusOK || doc["status"] != "ready" {
		t.Errorf("/readyz with no Config.Health = %d %v, want 200 ready", status, doc)
	}
}

// TestReadyzTargetDetail checks that failing targets and a failing cache
// are detail only: the gateway stays ready, and only what a *scim.Error
// says reaches the unauthenticated caller.
func TestReadyzTargetDetail(t *testing.T) {
	logs := new(syncBuffer)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := router.NewHealth(router.HealthOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Clock: clock.now})
	h.SetTargets(map[string]adapters.HealthChecker{
		"good":      checkFunc(func(context.Context) error { return nil }),
		"throttled": checkFunc(func(context.Context) error { return &scim.Error{Status: 503, Detail: "vendor is throttling"} }),
		"broken":    checkFunc(func(context.Context) error { return errors.New("dial tcp 10.1.2.3:443: connection refused") }),
		"panicky":   checkFunc(func(context.Context) error { panic("adapter bug") }),
		"plain":     nil,
	})
	h.SetReady()
	f := newFixture(t, withHealth(h))

	status, doc := f.readyz(t)
	if status != http.StatusOK || doc["status"] != "degraded" {
		t.Fatalf("/readyz = %d %v, want 200 degraded", status, doc)
	}
	tests := []struct {
		target, status, err string
	}{
		{"good", "ok", ""},
		{"throttled", "failing", "vendor is throttling"},
		{"broken", "failing", "health check failed (the cause is in the log)"},
		{"panicky", "failing", "health check failed (the cause is in the log)"},
		{"plain", "unchecked", ""},
	}
	for _, tt := range tests {
		st := targetState(t, doc, tt.target)
		if st["status"] != tt.status || (st["error"] != nil || tt.err != "") && st["error"] != tt.err {
			t.Errorf("target %s = %v, want status %q error %q", tt.target, st, tt.status, tt.err)
		}
		if tt.status == "ok" || tt.status == "failing" {
			if _, err := time.Parse(time.RFC3339, st["checkedAt"].(string)); err != nil {
				t.Errorf("target %s: checkedAt %v: %v", tt.target, st["checkedAt"], err)
			}
		}
	}
	if redis, _ := doc["redis"].(map[string]any); redis["status"] != "disabled" {
		t.Errorf("redis = %v, want disabled when none is set", doc["redis"])
	}
	// The causes are logged, once per transition: a check that keeps
	// failing is not logged again.
	clock.advance(time.Minute)
	if _, doc := f.readyz(t); targetState(t, doc, "broken")["checkedAt"] != "2026-03-01T12:01:00Z" {
		t.Errorf("broken = %v, want a check at 12:01", targetState(t, doc, "broken"))
	}
	out := logs.String()
	if n := strings.Count(out, "10.1.2.3"); n != 1 {
		t.Errorf("the broken target's cause is logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "adapter bug") {
		t.Errorf("the panic is not logged:\n%s", out)
	}
}

func TestReadyzRedis(t *testing.T) {
	h := router.NewHealth(router.HealthOptions{})
	h.SetReady()
	f := newFixture(t, withHealth(h))
	h.SetRedis(checkFunc(func(context.Context) error { return nil }))
	status, doc := f.readyz(t)
	if redis, _ := doc["redis"].(map[string]any); status != http.StatusOK || doc["status"] != "ready" || redis["status"] != "ok" {
		t.Errorf("/readyz = %d %v, want 200 ready with redis ok", status, doc)
	}
	h.SetRedis(checkFunc(func(context.Context) error { return &scim.Error{Status: 503, Detail: "redis unreachable"} }))
	status, doc = f.readyz(t)
	if redis, _ := doc["redis"].(map[string]any); status != http.StatusOK || doc["status"] != "degraded" ||
		redis["status"] != "failing" || redis["error"] != "redis unreachable" {
		t.Errorf("/readyz = %d %v, want 200 degraded with redis failing", status, doc)
	}
	h.SetRedis(nil)
	if _, doc := f.readyz(t); doc["status"] != "ready" {
		t.Errorf("/readyz after SetRedis(nil) = %v, want ready", doc)
	}
}

// TestReadyzCaches checks that probes do not reach the vendor more than once
// per CacheTTL, however many there are and however concurrent.
func TestReadyzCaches(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := router.NewHealth(router.HealthOptions{CacheTTL: 5 * time.Second, Wait: time.Minute, Clock: clock.now})
	release := make(chan struct{})
	var calls atomic.Int32
	h.SetTargets(map[string]adapters.HealthChecker{"slow": checkFunc(func(context.Context) error {
		calls.Add(1)
		<-release
		return nil
	})})
	h.SetReady()
	f := newFixture(t, withHealth(h))

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if status, doc := f.readyz(t); status != http.StatusOK || targetState(t, doc, "slow")["status"] != "ok" {
				t.Errorf("/readyz = %d %v, want 200 with slow ok", status, doc)
			}
		})
	}
	// Let the first check end once it has started; the others wait for it.
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("8 concurrent probes made %d checks, want 1", n)
	}
	clock.advance(4 * time.Second)
	f.readyz(t)
	if n := calls.Load(); n != 1 {
		t.Errorf("a probe within the TTL made a check (%d in all), want the cached result", n)
	}
	clock.advance(2 * time.Second)
	f.readyz(t)
	if n := calls.Load(); n != 2 {
		t.Errorf("a probe after the TTL: %d checks in all, want 2", n)
	}
}

func TestReadyzCheckTimeout(t *testing.T) {
	h := router.NewHealth(router.HealthOptions{Timeout: 20 * time.Millisecond, Wait: time.Minute})
	h.SetTargets(map[string]adapters.HealthChecker{
		// Waits for its deadline, as a hung vendor connection does.
		"hung": checkFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }),
		// Ignores its deadline and returns nil late: still a timeout.
		"deaf": checkFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }),
	})
	h.SetReady()
	f := newFixture(t, withHealth(h))
	status, doc := f.readyz(t)
	if status != http.StatusOK {
		t.Errorf("/readyz = %d, want 200: a hung vendor does not fail readiness", status)
	}
	for _, name := range []string{"hung", "deaf"} {
		if st := targetState(t, doc, name); st["status"] != "failing" || st["error"] != "no answer within 20ms" {
			t.Errorf("target %s = %v, want failing, no answer within 20ms", name, st)
		}
	}
}

// TestReadyzDoesNotWaitForSlowChecks checks that a probe answers after
// HealthOptions.Wait even when a check takes longer, so that a slow vendor
// cannot make the probe itself time out.
func TestReadyzDoesNotWaitForSlowChecks(t *testing.T) {
	h := router.NewHealth(router.HealthOptions{Wait: 10 * time.Millisecond, Timeout: time.Minute})
	release := make(chan struct{})
	h.SetTargets(map[string]adapters.HealthChecker{"slow": checkFunc(func(context.Context) error {
		<-release
		return nil
	})})
	h.SetReady()
	f := newFixture(t, withHealth(h))
	status, doc := f.readyz(t)
	if st := targetState(t, doc, "slow"); status != http.StatusOK || doc["status"] != "ready" || st["status"] != "pending" {
		t.Errorf("/readyz during the first check = %d %v, want 200 ready with slow pending", status, doc)
	}
	close(release)
	for {
		_, doc := f.readyz(t)
		if st := targetState(t, doc, "slow"); st["status"] == "ok" {
			break
		} else if st["status"] != "pending" {
			t.Fatalf("slow = %v, want pending, then ok", st)
		}
		time.Sleep(time.Millisecond)
	}
}
