package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
)

// A configuration reload (SIGHUP, or a change of the file when
// server.watchConfig is set) loads and validates the file, opens the
// targets that are new or changed, then swaps the router's targets and the
// authenticator at once. A request keeps the targets it started with; the
// adapters no longer served are closed when the last such request ends, or
// after server.shutdownTimeout. A file that does not load, or a target that
// does not open, leaves the running configuration as it is. Settings fixed
// when the listener starts are logged as needing a restart.

// configSource is where the configuration is reloaded from.
type configSource struct {
	path   string
	getenv func(string) string
	// listen, when not empty, overrides server.listen (the --listen flag)
	// in every version of the file.
	listen string
	// hup delivers SIGHUP; nil means none is watched.
	hup <-chan os.Signal
}

// load reads and validates the file.
func (src *configSource) load() (*config.Config, [sha256.Size]byte, error) {
	data, err := os.ReadFile(src.path)
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("config: %w", err)
	}
	sum := sha256.Sum256(data)
	cfg, err := config.Parse(data, filepath.Dir(src.path), src.getenv)
	if err != nil {
		return nil, sum, fmt.Errorf("config %s:\n%w", src.path, err)
	}
	if src.listen != "" {
		cfg.Server.Listen = src.listen
	}
	return cfg, sum, nil
}

// watchDebounce lets a burst of file events (an editor's write and rename,
// a Kubernetes ConfigMap's symlink swap) end before the file is read.
const watchDebounce = 200 * time.Millisecond

// reloader applies new versions of the configuration. Its methods but
// current and close run on run's goroutine only.
type reloader struct {
	src     *configSource
	log     *slog.Logger
	level   *slog.LevelVar
	live    *liveTargets
	authn   *swapAuthenticator
	started *config.Config // what the listener and the router were built with
	cur     atomic.Pointer[config.Config]
	seen    [sha256.Size]byte // digest of the file last read
	watcher *fsnotify.Watcher // nil unless server.watchConfig
}

// newReloader returns a reloader of the configuration cfg, loaded from
// src. With server.watchConfig, the file is watched from now on, so that
// no change made once the gateway serves is missed.
func newReloader(src *configSource, cfg *config.Config, log *slog.Logger, level *slog.LevelVar, live *liveTargets, authn *swapAuthenticator) *reloader {
	r := &reloader{src: src, log: log, level: level, live: live, authn: authn, started: cfg}
	r.cur.Store(cfg)
	if data, err := os.ReadFile(src.path); err == nil {
		r.seen = sha256.Sum256(data)
	}
	if cfg.Server.WatchConfig {
		// The directory is watched, not the file: editors and Kubernetes
		// replace the file (rename, symlink swap) rather than write it.
		w, err := fsnotify.NewWatcher()
		if err == nil {
			if err = w.Add(filepath.Dir(src.path)); err != nil {
				_ = w.Close()
			}
		}
		if err != nil {
			log.Warn("not watching the config file; reload with SIGHUP", "path", src.path, "err", err)
		} else {
			r.watcher = w
		}
	}
	return r
}

// current returns the configuration in force. It is safe for concurrent use.
func (r *reloader) current() *config.Config { return r.cur.Load() }

// run reloads on SIGHUP and, with server.watchConfig, on changes of the
// file, until ctx ends; then it stops watching.
func (r *reloader) run(ctx context.Context) {
	var events chan fsnotify.Event
	var watchErrs chan error
	if r.watcher != nil {
		defer r.watcher.Close()
		events, watchErrs = r.watcher.Events, r.watcher.Errors
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.src.hup:
			r.reload(ctx, true)
		case <-events:
			// Any event in the directory: whether the file changed is
			// decided by its content once the burst is over.
			debounce.Reset(watchDebounce)
		case <-debounce.C:
			r.reload(ctx, false)
		case err := <-watchErrs:
			r.log.Warn("watching the config file", "path", r.src.path, "err", err)
		}
	}
}

// reload applies the file when it loads and its targets open; force
// reloads a file whose content is unchanged (SIGHUP: secrets it names may
// have changed).
func (r *reloader) reload(ctx context.Context, force bool) {
	cfg, sum, err := r.src.load()
	if !force && err == nil && sum == r.seen {
		return
	}
	r.seen = sum
	if err != nil {
		r.log.Error("config reload refused; the running configuration stays", "err", err)
		return
	}
	verifier, err := auth.New(cfg.Auth)
	if err != nil {
		r.log.Error("config reload refused; the running configuration stays", "err", err)
		return
	}
	set, err := openTargets(ctx, cfg, r.live.current(), r.live.store)
	if err != nil {
		r.log.Error("config reload refused; the running configuration stays", "err", err)
		return
	}
	reopened := set.newAdapters(r.live.current())
	r.live.install(set, cfg.Server.ShutdownTimeout)
	r.authn.swap(verifier)
	r.cur.Store(cfg)
	r.log.Info("config reloaded", "targets", set.names(), "opened", reopened)
	if keys := needsRestart(r.started, cfg); len(keys) > 0 {
		r.log.Warn("config change needs restart; the running values stay until then", "keys", keys)
	}
	// Last, so that the lines above are written at the level they were
	// asked for under.
	r.level.Set(logLevel(cfg.Log))
}

// needsRestart lists the keys whose new values take effect only when the
// process restarts: those of the listener and of the router, and what is
// set up once for the process (the cache store, the log format, telemetry,
// whose providers are process-wide).
func needsRestart(running, next *config.Config) []string {
	a, b := running.Server, next.Server
	var keys []string
	for _, k := range []struct {
		key     string
		changed bool
	}{
		{"server.listen", a.Listen != b.Listen},
		{"server.tls.certFile", a.TLS.CertFile != b.TLS.CertFile},
		{"server.tls.keyFile", a.TLS.KeyFile != b.TLS.KeyFile},
		{"server.publicURL", a.PublicURL != b.PublicURL},
		{"server.maxBodyBytes", a.MaxBodyBytes != b.MaxBodyBytes},
		{"server.anonymousDiscovery", a.AnonymousDiscovery != b.AnonymousDiscovery},
		{"server.readHeaderTimeout", a.ReadHeaderTimeout != b.ReadHeaderTimeout},
		{"server.readTimeout", a.ReadTimeout != b.ReadTimeout},
		{"server.writeTimeout", a.WriteTimeout != b.WriteTimeout},
		{"server.idleTimeout", a.IdleTimeout != b.IdleTimeout},
		{"server.watchConfig", a.WatchConfig != b.WatchConfig},
		{"cache.redis", !reflect.DeepEqual(running.Cache.Redis, next.Cache.Redis)},
		{"cache.maxEntries", running.Cache.MaxEntries != next.Cache.MaxEntries},
		{"log.format", running.Log.Format != next.Log.Format},
		{"telemetry", !reflect.DeepEqual(running.Telemetry, next.Telemetry)},
	} {
		if k.changed {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// swapAuthenticator is the authenticator of the configuration in force;
// a reload swaps it. It is safe for concurrent use.
type swapAuthenticator struct {
	v atomic.Pointer[auth.Verifier]
}

func newSwapAuthenticator(v *auth.Verifier) *swapAuthenticator {
	a := new(swapAuthenticator)
	a.swap(v)
	return a
}

func (a *swapAuthenticator) swap(v *auth.Verifier) { a.v.Store(v) }

// Authenticate implements auth.Authenticator with the current verifier.
func (a *swapAuthenticator) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	return a.v.Load().Authenticate(ctx, token)
}

// openAdapter is an open adapter and the target it was opened for. Sets
// share it across reloads while the target is unchanged.
type openAdapter struct {
	target  config.Target
	adapter adapters.Adapter
	refs    int // sets installed and not yet released that hold it; guarded by liveTargets.mu
}

// targetSet is the targets of one configuration as served, and the count
// of the requests that started while it was current.
type targetSet struct {
	engines  map[string]*engine.Engine
	checks   map[string]adapters.HealthChecker
	adapters map[string]*openAdapter

	// The requests that hold the set, and whether a reload retired it:
	// idle is closed once both say it is unused. Atomics, not a mutex,
	// since every request passes here.
	inFlight atomic.Int64
	retired  atomic.Bool
	idle     chan struct{}
	idleOnce sync.Once
}

func newTargetSet(n int) *targetSet {
	return &targetSet{
		engines:  make(map[string]*engine.Engine, n),
		checks:   make(map[string]adapters.HealthChecker, n),
		adapters: make(map[string]*openAdapter, n),
		idle:     make(chan struct{}),
	}
}

// names returns the set's target names, sorted.
func (s *targetSet) names() []string {
	names := make([]string, 0, len(s.adapters))
	for n := range s.adapters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newAdapters returns the names of the targets whose adapter s does not
// share with prev.
func (s *targetSet) newAdapters(prev *targetSet) []string {
	var out []string
	for _, n := range s.names() {
		if prev == nil || prev.adapters[n] != s.adapters[n] {
			out = append(out, n)
		}
	}
	return out
}

func (s *targetSet) acquire() { s.inFlight.Add(1) }

// release and retire each check the other's state after changing their
// own, so whichever comes second sees the set unused.
func (s *targetSet) release() {
	if s.inFlight.Add(-1) == 0 && s.retired.Load() {
		s.idleOnce.Do(func() { close(s.idle) })
	}
}

func (s *targetSet) retire() {
	s.retired.Store(true)
	if s.inFlight.Load() == 0 {
		s.idleOnce.Do(func() { close(s.idle) })
	}
}

// liveTargets is the target set in force, the sets retired by reloads
// whose requests are still running, and the adapters under them. It is
// safe for concurrent use; install is called by one goroutine at a time.
type liveTargets struct {
	log     *slog.Logger
	targets *router.Targets
	health  *router.Health
	store   cache.Store // the cache every set's adapters are wrapped with
	cur     atomic.Pointer[targetSet]

	mu      sync.Mutex // guards openAdapter.refs
	pending sync.WaitGroup
	closing chan struct{} // closed by close: retired sets are released at once
}

func newLiveTargets(log *slog.Logger, health *router.Health, store cache.Store) *liveTargets {
	return &liveTargets{log: log, targets: router.NewTargets(nil), health: health, store: store, closing: make(chan struct{})}
}

// current returns the set in force, nil before the first install.
func (lt *liveTargets) current() *targetSet { return lt.cur.Load() }

// track counts each request against the set in force when it starts.
//
// Why this suffices: the router resolves a request's target once, after
// track ran, and install swaps the router's targets before it retires the
// previous set. A request that resolved a target of the previous set
// therefore started before that swap and holds the previous set, or an
// older one, which it keeps from being released until it ends.
func (lt *liveTargets) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := lt.cur.Load(); s != nil {
			s.acquire()
			defer s.release()
		}
		next.ServeHTTP(w, r)
	})
}

// install makes s the set in force and retires the previous one: its
// adapters that s does not share are closed once its last request ends, or
// after grace at most.
func (lt *liveTargets) install(s *targetSet, grace time.Duration) {
	lt.mu.Lock()
	for _, oa := range s.adapters {
		oa.refs++
	}
	lt.mu.Unlock()
	// The order matters, see track.
	lt.targets.Swap(s.engines)
	lt.health.SetTargets(s.checks)
	old := lt.cur.Swap(s)
	if old == nil {
		return
	}
	old.retire()
	lt.pending.Add(1)
	go func() {
		defer lt.pending.Done()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-old.idle:
		case <-lt.closing:
		case <-t.C:
			lt.log.Warn("closing the targets of the previous configuration with requests still running", "grace", grace.String())
		}
		lt.releaseSet(old)
	}()
}

// releaseSet drops s's hold on its adapters, closing those no other set
// holds.
func (lt *liveTargets) releaseSet(s *targetSet) {
	var unused []*openAdapter
	lt.mu.Lock()
	for _, oa := range s.adapters {
		if oa.refs--; oa.refs == 0 {
			unused = append(unused, oa)
		}
	}
	lt.mu.Unlock()
	closeAdapters(unused, lt.log)
}

// close releases every set, closing all adapters; for the end of serve,
// when no request runs any more.
func (lt *liveTargets) close() {
	close(lt.closing)
	lt.pending.Wait()
	if s := lt.cur.Swap(nil); s != nil {
		lt.releaseSet(s)
	}
}
