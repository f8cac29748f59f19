package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The defaults of HealthOptions.
const (
	DefaultHealthCacheTTL = 5 * time.Second
	DefaultHealthTimeout  = 2 * time.Second
	DefaultHealthWait     = 250 * time.Millisecond
)

// HealthOptions tune a Health; zero values take the defaults noted.
type HealthOptions struct {
	// CacheTTL is how long a check's result is reused, so that /readyz does
	// not call a vendor on every probe; default DefaultHealthCacheTTL.
	CacheTTL time.Duration
	// Timeout bounds one check; default DefaultHealthTimeout.
	Timeout time.Duration
	// Wait is how long /readyz waits for a check under way before it answers
	// with the last known result, so that a slow vendor cannot make the probe
	// itself time out; default DefaultHealthWait.
	Wait time.Duration
	// Logger gets one line each time a check starts or stops failing, with
	// the cause (which /readyz does not show); nil discards them.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now. For tests.
	Clock func() time.Time
}

// Health is the state /readyz reports: the phase of the process (starting,
// serving, draining) and the last known state of each target and of the
// shared cache. It is safe for concurrent use.
//
// Only the phase decides readiness. A target or cache that fails its check
// is reported as detail ("degraded") and the gateway stays ready: taking
// every replica out of a load balancer because one vendor blinked would turn
// a partial outage into a total one.
type Health struct {
	opts    HealthOptions
	phase   atomic.Int32
	targets atomic.Pointer[map[string]*probe]
	redis   atomic.Pointer[probe]
}

// The phases of a Health.
const (
	phaseStarting int32 = iota
	phaseReady
	phaseDraining
)

// NewHealth returns a Health in the starting phase, with no targets.
func NewHealth(opts HealthOptions) *Health {
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultHealthCacheTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultHealthTimeout
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultHealthWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	h := &Health{opts: opts}
	h.SetTargets(nil)
	return h
}

// SetReady marks the gateway ready: its configuration is loaded and its
// listeners accept connections. It has no effect once draining.
func (h *Health) SetReady() {
	h.phase.CompareAndSwap(phaseStarting, phaseReady)
}

// SetDraining marks the gateway as shutting down: /readyz answers 503 from
// now on, so that load balancers stop sending new requests.
func (h *Health) SetDraining() {
	h.phase.Store(phaseDraining)
}

// SetTargets replaces the targets reported, by name. A nil checker means
// the target's adapter has no health check; it is reported as "unchecked".
// Results cached for the previous set are dropped.
func (h *Health) SetTargets(checks map[string]adapters.HealthChecker) {
	m := make(map[string]*probe, len(checks))
	for name, c := range checks {
		m[name] = &probe{kind: "target", name: name, check: c}
	}
	h.targets.Store(&m)
}

// SetRedis sets the check of the shared cache; nil means no shared cache is
// configured, reported as "disabled".
func (h *Health) SetRedis(c adapters.HealthChecker) {
	if c == nil {
		h.redis.Store(nil)
		return
	}
	h.redis.Store(&probe{kind: "cache", name: "redis", check: c})
}

// probe is the cached state of one check.
type probe struct {
	kind, name string
	check      adapters.HealthChecker // nil: nothing to check

	mu      sync.Mutex
	last    *checkResult  // nil until the first check ends
	running chan struct{} // non-nil while a check runs; closed when it ends
}

type checkResult struct {
	err error
	at  time.Time
}

// result returns the probe's state, checking again when the cached result
// is older than the TTL. It waits up to h.opts.Wait for a check under way,
// then answers with the last result, or nil when there is none yet. The
// check itself runs on, bounded by h.opts.Timeout, for the next caller.
func (p *probe) result(h *Health) *checkResult {
	p.mu.Lock()
	if p.last != nil && h.opts.Clock().Sub(p.last.at) < h.opts.CacheTTL {
		last := p.last
		p.mu.Unlock()
		return last
	}
	done := p.running
	if done == nil {
		done = make(chan struct{})
		p.running = done
		go p.run(h, done)
	}
	p.mu.Unlock()

	wait := time.NewTimer(h.opts.Wait)
	defer wait.Stop()
	select {
	case <-done:
	case <-wait.C:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// run runs one check. Its context is not any caller's: the result is
// shared, and one prober giving up must not fail it for the others.
func (p *probe) run(h *Health, done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	err := callCheck(ctx, p.check)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	res := &checkResult{err: err, at: h.opts.Clock()}

	p.mu.Lock()
	prev := p.last
	p.last = res
	p.running = nil
	p.mu.Unlock()
	// Logged before the waiters go on, so that the line precedes the answer.
	switch wasFailing := prev != nil && prev.err != nil; {
	case err != nil && !wasFailing:
		h.opts.Logger.Warn("health check failing", p.kind, p.name, "err", err)
	case err == nil && wasFailing:
		h.opts.Logger.Info("health check ok again", p.kind, p.name)
	}
	close(done)
}

// callCheck runs a check, turning a panic into an error: a broken adapter
// must not take the process down through its health check.
func callCheck(ctx context.Context, c adapters.HealthChecker) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("health check panicked: %v", v)
		}
	}()
	return c.Health(ctx)
}

// The states of one target or of the cache in a /readyz answer.
const (
	stateOK        = "ok"        // the last check passed
	stateFailing   = "failing"   // the last check failed; see error
	statePending   = "pending"   // the first check has not ended yet
	stateUnchecked = "unchecked" // the adapter has no health check
	stateDisabled  = "disabled"  // no shared cache is configured
)

// componentDoc is the state of one target or of the cache.
type componentDoc struct {
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	CheckedAt string `json:"checkedAt,omitempty"`
}

type readyDoc struct {
	// Status is "starting" or "draining" (503), else "ready" or, when a
	// target or the cache fails its check, "degraded" (both 200).
	Status  string                  `json:"status"`
	Targets map[string]componentDoc `json:"targets,omitempty"`
	Redis   *componentDoc           `json:"redis,omitempty"`
}

// readyz answers 200 while the gateway serves and 503 while it starts or
// drains, with the state of each target and of the cache as detail.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	h := s.health
	switch h.phase.Load() {
	case phaseStarting:
		writeHealthJSON(w, http.StatusServiceUnavailable, readyDoc{Status: "starting"})
		return
	case phaseDraining:
		writeHealthJSON(w, http.StatusServiceUnavailable, readyDoc{Status: "draining"})
		return
	}
	probes := *h.targets.Load()
	redis := h.redis.Load()

	doc := readyDoc{Status: "ready", Targets: make(map[string]componentDoc, len(probes))}
	names := make([]string, 0, len(probes))
	for name := range probes {
		names = append(names, name)
	}
	sort.Strings(names)
	docs := make([]componentDoc, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { docs[i] = h.state(probes[name]) })
	}
	redisDoc := componentDoc{Status: stateDisabled}
	if redis != nil {
		wg.Go(func() { redisDoc = h.state(redis) })
	}
	wg.Wait()
	for i, name := range names {
		doc.Targets[name] = docs[i]
		if docs[i].Status == stateFailing {
			doc.Status = "degraded"
		}
	}
	if redisDoc.Status == stateFailing {
		doc.Status = "degraded"
	}
	doc.Redis = &redisDoc
	writeHealthJSON(w, http.StatusOK, doc)
}

// state returns the /readyz detail of one probe.
func (h *Health) state(p *probe) componentDoc {
	if p.check == nil {
		return componentDoc{Status: stateUnchecked}
	}
	res := p.result(h)
	switch {
	case res == nil:
		return componentDoc{Status: statePending}
	case res.err != nil:
		return componentDoc{Status: stateFailing, Error: publicCause(res.err, h.opts.Timeout), CheckedAt: res.at.UTC().Format(time.RFC3339)}
	}
	return componentDoc{Status: stateOK, CheckedAt: res.at.UTC().Format(time.RFC3339)}
}

// publicCause describes a failed check for /readyz, which needs no
// credential: only what a *scim.Error says is safe to show (STYLE.md §3);
// any other cause, which may name internal hosts, goes to the log only.
func publicCause(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %v", timeout)
	}
	var se *scim.Error
	if errors.As(err, &se) && se.Detail != "" {
		return se.Detail
	}
	return "health check failed (the cause is in the log)"
}

// healthz answers 200 while the process can serve HTTP at all, draining
// included: a liveness probe that failed during a drain would get the
// process killed before its requests finish.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeHealthJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// BuildInfo describes the running build, for /version.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
}

func (s *server) version(w http.ResponseWriter, _ *http.Request) {
	writeHealthJSON(w, http.StatusOK, s.build)
}

// writeHealthJSON writes an operational answer: plain JSON, never cached.
func writeHealthJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"status":"error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
