package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
)

// serve opens the targets of cfg, listens on cfg.Server.Listen and serves
// until ctx ends, then shuts down gracefully within
// cfg.Server.ShutdownTimeout. Logs go to logOut. ready, when not nil, is
// called with the bound address once requests are accepted.
func serve(ctx context.Context, cfg *config.Config, logOut io.Writer, ready func(addr net.Addr)) error {
	log := newLogger(logOut, cfg.Log)
	authn, err := auth.New(cfg.Auth)
	if err != nil {
		return err
	}
	engines, closeTargets, err := openTargets(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeTargets(log)
	h, err := router.New(router.Config{
		Targets:            router.NewTargets(engines),
		Authenticator:      authn,
		PublicURL:          cfg.Server.PublicURL,
		MaxBodyBytes:       cfg.Server.MaxBodyBytes,
		AnonymousDiscovery: cfg.Server.AnonymousDiscovery,
		Logger:             log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests get a context of their own (not ctx), so that the
		// requests under way when ctx ends can still finish during Shutdown.
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "targets", len(engines), "version", versionString())
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
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

// openTargets opens every target's adapter and puts an engine in front of
// each. The returned func closes the adapters that hold resources.
func openTargets(ctx context.Context, cfg *config.Config) (map[string]*engine.Engine, func(*slog.Logger), error) {
	opts := engine.Options{
		DefaultPageSize:   cfg.Server.DefaultPageSize,
		MaxPageSize:       cfg.Server.MaxPageSize,
		BulkMaxOperations: cfg.Server.Bulk.MaxOperations,
		BulkMaxPayload:    cfg.Server.Bulk.MaxPayloadSize,
	}
	engines := make(map[string]*engine.Engine, len(cfg.Targets))
	var opened []namedAdapter
	closeAll := func(log *slog.Logger) {
		for _, a := range opened {
			if c, ok := a.adapter.(io.Closer); ok {
				if err := c.Close(); err != nil && log != nil {
					log.Warn("closing target", "target", a.name, "err", err)
				}
			}
		}
	}
	for _, t := range cfg.Targets {
		a, err := t.Settings.Open(ctx)
		if err != nil {
			closeAll(nil)
			return nil, nil, fmt.Errorf("target %q: open: %w", t.Name, err)
		}
		opened = append(opened, namedAdapter{t.Name, a})
		engines[t.Name] = engine.New(a, opts)
	}
	return engines, closeAll, nil
}

type namedAdapter struct {
	name    string
	adapter adapters.Adapter
}

// newLogger returns the slog logger cfg asks for, writing to w.
func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
