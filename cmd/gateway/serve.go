package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// serve opens the targets of cfg, listens on cfg.Server.Listen and serves
// until ctx ends, then shuts down gracefully within
// cfg.Server.ShutdownTimeout. Logs go to logOut. ready, when not nil, is
// called with the bound address once requests are accepted. The
// configuration is not reloaded: see serveReloading.
func serve(ctx context.Context, cfg *config.Config, logOut io.Writer, ready func(addr net.Addr)) error {
	return serveReloading(ctx, cfg, nil, logOut, ready)
}

// serveReloading is serve that also reloads the configuration from src
// (reload.go) when src is not nil.
//
// The shutdown, once ctx ends: /readyz answers 503 and responses ask
// clients to close their connections; after server.drainDelay the listener
// closes and the requests under way finish within server.shutdownTimeout,
// after which they are cut off; then the targets are closed.
func serveReloading(ctx context.Context, cfg *config.Config, src *configSource, logOut io.Writer, ready func(addr net.Addr)) error {
	level := new(slog.LevelVar)
	level.Set(logLevel(cfg.Log))
	log := newLogger(logOut, cfg.Log, level)
	verifier, err := auth.New(cfg.Auth)
	if err != nil {
		return err
	}
	authn := newSwapAuthenticator(verifier)
	health := router.NewHealth(router.HealthOptions{Logger: log})
	store, err := openCache(cfg, log, health)
	if err != nil {
		return err
	}
	defer closeCache(store, log)
	live := newLiveTargets(log, health, store)
	set, err := openTargets(ctx, cfg, nil, store)
	if err != nil {
		return err
	}
	live.install(set, 0)
	defer live.close()

	v, c := buildVersion()
	tcfg := cfg.Telemetry
	tcfg.ServiceVersion, tcfg.Stdout = v, logOut
	tel, err := telemetry.Setup(ctx, tcfg)
	if err != nil {
		return err
	}
	// Runs before the targets close (defers run last first), once the
	// requests under way have ended: their spans are exported.
	defer shutdownTelemetry(tel, log)
	log.Info("telemetry", "traces", tel.Exporter(), "metrics", tel.MetricsHandler() != nil)
	if r, ok := store.(*cache.Redis); ok {
		defer telemetry.RegisterRedisUp(func() bool { return r.State().Healthy })()
	}
	h, err := router.New(router.Config{
		Targets:            live.targets,
		Authenticator:      authn,
		PublicURL:          cfg.Server.PublicURL,
		MaxBodyBytes:       cfg.Server.MaxBodyBytes,
		AnonymousDiscovery: cfg.Server.AnonymousDiscovery,
		Logger:             log,
		Health:             health,
		Build:              router.BuildInfo{Version: v, Commit: c, GoVersion: runtime.Version()},
		Metrics:            tel.MetricsHandler(),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           live.track(h),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests get a context of their own (not ctx), so that the
		// requests under way when ctx ends can still finish during Shutdown.
	}
	var certs *certReloader
	if cfg.Server.TLS.Enabled() {
		if certs, err = newCertReloader(cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile, log); err != nil {
			return err
		}
		defer certs.close()
		srv.TLSConfig = certs.tlsConfig()
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() {
		if certs != nil {
			served <- srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig.GetCertificate
			return
		}
		served <- srv.Serve(ln)
	}()
	current := func() *config.Config { return cfg }
	if src != nil {
		r := newReloader(src, cfg, log, level, live, authn)
		rctx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			r.run(rctx)
		}()
		// A reload under way finishes before the targets are closed.
		defer func() {
			stop()
			<-stopped
		}()
		current = r.current
	}
	health.SetReady()
	log.Info("serving", "addr", ln.Addr().String(), "tls", certs != nil, "targets", len(cfg.Targets), "version", versionString())
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(ctx, srv, served, health, current().Server, log)
}

// shutdown drains srv once ctx has ended, as serveReloading describes.
func shutdown(ctx context.Context, srv *http.Server, served <-chan error, health *router.Health, s config.Server, log *slog.Logger) error {
	srv.SetKeepAlivesEnabled(false)
	health.SetDraining()
	if s.DrainDelay > 0 {
		log.Info("draining", "delay", s.DrainDelay.String())
		time.Sleep(s.DrainDelay)
	}
	log.Info("shutting down", "timeout", s.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Requests still running past the timeout are cut off.
		_ = srv.Close()
		err = fmt.Errorf("shutdown: %w", err)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve: %w", serr))
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// telemetryShutdownTimeout bounds the export of the last spans at
// shutdown: a collector that is down must not hold the process.
const telemetryShutdownTimeout = 5 * time.Second

func shutdownTelemetry(tel *telemetry.Telemetry, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), telemetryShutdownTimeout)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		log.Warn("telemetry shutdown", "err", err)
	}
}

// openTargets opens every target of cfg and puts an engine in front of
// each. A target whose adapter and settings are those it has in prev (the
// set being served, or nil) keeps prev's adapter, with its state: the
// memory store's data, a vendor client's tokens and breaker. On failure
// the adapters opened here are closed again.
//
// Each target's adapter is wrapped by the cache (store) as cfg.Cache says;
// the wrapper holds no state of its own that a reload could lose: the
// entries are in store.
func openTargets(ctx context.Context, cfg *config.Config, prev *targetSet, store cache.Store) (*targetSet, error) {
	opts := engine.Options{
		DefaultPageSize:   cfg.Server.DefaultPageSize,
		MaxPageSize:       cfg.Server.MaxPageSize,
		BulkMaxOperations: cfg.Server.Bulk.MaxOperations,
		BulkMaxPayload:    cfg.Server.Bulk.MaxPayloadSize,
	}
	set := newTargetSet(len(cfg.Targets))
	var opened []*openAdapter
	for _, t := range cfg.Targets {
		oa := prev.reusable(t)
		if oa == nil {
			share(t, cfg.Cache.Replicas, store)
			a, err := t.Settings.Open(ctx)
			if err != nil {
				closeAdapters(opened, nil)
				return nil, fmt.Errorf("target %q: open: %w", t.Name, err)
			}
			oa = &openAdapter{target: t, adapter: a}
			opened = append(opened, oa)
		}
		set.adapters[t.Name] = oa
		served := oa.adapter
		if o, on := cfg.Cache.Options(t.Name); on && store != nil {
			served = cache.Wrap(served, store, o)
		}
		set.engines[t.Name] = engine.New(served, opts)
		hc, _ := oa.adapter.(adapters.HealthChecker)
		set.checks[t.Name] = hc
	}
	return set, nil
}

// share lets the replicas share target t's vendor token and rate limit in
// Redis, when the cache has a Redis store and t's adapter can. It is
// called just before Open, after reusable compared t's settings.
func share(t config.Target, replicas int, store cache.Store) {
	r, isRedis := store.(*cache.Redis)
	sh, ok := t.Settings.(adapters.Sharer)
	if !isRedis || !ok {
		return
	}
	sh.Share(adapters.Shared{
		Tokens: func(fetch func(context.Context) (*oauth2.Token, error), early time.Duration) outbound.TokenSource {
			return cache.SharedTokens(fetch, early, r, t.Name, cache.TokenOptions{})
		},
		Limiter: func(group string, limit rate.Limit, burst int) outbound.Limiter {
			return cache.SharedLimiter(r, t.Name, group, limit, burst, cache.LimiterOptions{Replicas: replicas})
		},
	})
}

// openCache opens the store the cache section names (in process unless
// cache.redis is set). A Redis store reports its health in /readyz and
// logs each change of state.
func openCache(cfg *config.Config, log *slog.Logger, health *router.Health) (cache.Store, error) {
	store, err := cfg.Cache.Open(func(s cache.State) {
		if s.Healthy {
			log.Info("cache: redis answers again")
		} else {
			log.Warn("cache: redis unavailable; serving from the vendors", "err", s.LastError)
		}
	})
	if err != nil {
		return nil, err
	}
	if r, ok := store.(*cache.Redis); ok {
		health.SetRedis(r)
	}
	return store, nil
}

func closeCache(store cache.Store, log *slog.Logger) {
	if c, ok := store.(io.Closer); ok {
		if err := c.Close(); err != nil {
			log.Warn("closing the cache", "err", err)
		}
	}
}

// reusable returns the adapter s serves for target t, when t's adapter and
// settings are unchanged; nil otherwise, and when s is nil.
func (s *targetSet) reusable(t config.Target) *openAdapter {
	if s == nil {
		return nil
	}
	oa := s.adapters[t.Name]
	if oa == nil || oa.target.Adapter != t.Adapter || !reflect.DeepEqual(oa.target.Settings, t.Settings) {
		return nil
	}
	return oa
}

// closeAdapters closes the adapters that hold resources (io.Closer),
// logging failures when log is not nil.
func closeAdapters(as []*openAdapter, log *slog.Logger) {
	for _, a := range as {
		if c, ok := a.adapter.(io.Closer); ok {
			if err := c.Close(); err != nil && log != nil {
				log.Warn("closing target", "target", a.target.Name, "err", err)
			}
		}
	}
}

// logLevel is cfg's level; the loader accepts only valid ones.
func logLevel(cfg config.Log) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		level = slog.LevelInfo
	}
	return level
}

// newLogger returns the slog logger cfg asks for, writing to w at level,
// which a reload may change. Lines logged within a traced request carry
// its trace_id and span_id.
func newLogger(w io.Writer, cfg config.Log, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
}
