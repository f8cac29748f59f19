// Package router is the gateway's HTTP surface: the RFC 7644 SCIM protocol
// over chi, with its middleware (recover, request id, access log, body-size
// limit, authentication, target resolution) and the single renderer of SCIM
// errors. It parses requests into engine operations and renders the results;
// it knows nothing of vendors.
//
// /healthz, /readyz and /version answer without a credential (health.go).
// SCIM routes, each under /targets/{target}/scim/v2 and under /scim/v2 (the
// caller's default target, see auth.Principal.DefaultTarget):
//
//	GET                   /ServiceProviderConfig
//	GET                   /ResourceTypes, /ResourceTypes/{id}
//	GET                   /Schemas, /Schemas/{id}
//	GET                   /                      query across resource types (RFC 7644 §3.4.2.1)
//	POST                  /.search               query across resource types (§3.4.3)
//	POST                  /Bulk                  (§3.7)
//	GET, POST             /{endpoint}            list (§3.4.2), create (§3.3)
//	POST                  /{endpoint}/.search    (§3.4.3)
//	GET, PUT, PATCH, DELETE /{endpoint}/{id}     (§3.4.1, §3.5.1, §3.5.2, §3.6)
//
// {endpoint} is resolved against the resource types of the target's engine
// (scim.ResourceType.Endpoint, e.g. "Users"), so a target without Groups
// answers 404 at /Groups.
//
// URLs in responses (meta.location, the Location header, Bulk locations and
// the $ref of references) are canonical: Config.PublicURL +
// "/targets/{target}/scim/v2" + endpoint + "/" + id, also for requests made
// through /scim/v2. That base depends on the credential; a resource's location
// must not, so that every caller that may reach the target sees the same URL
// for the same resource (RFC 7643 §3.1: location is "the URI of the resource
// being returned").
package router

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is
// zero. Bulk requests have their own limit, the target's
// engine.Options.BulkMaxPayload.
const DefaultMaxBodyBytes = 1 << 20

// Config is what New needs to build the handler.
type Config struct {
	// Targets is the set of targets served, by name. Required. It may be
	// swapped at run time (Targets.Swap) without rebuilding the handler.
	Targets *Targets
	// Authenticator checks bearer tokens. Required.
	Authenticator auth.Authenticator
	// PublicURL is the gateway's external base URL (scheme, host and an
	// optional path prefix a proxy strips, e.g. "https://scim.example.com"),
	// from which every URL in a response is built. When empty, the base is
	// derived from each request (scheme from TLS, host from the Host header):
	// a caller then controls the URLs it gets back, which is acceptable only
	// for local or demo use. Production configurations set it.
	PublicURL string
	// MaxBodyBytes caps a request body except Bulk (413 beyond it); zero
	// means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// AnonymousDiscovery lets callers without a credential read
	// /ServiceProviderConfig, /ResourceTypes and /Schemas of a target named in
	// the path. Everything else always needs a credential. With it, target
	// names are public: a discovery document answers 200 for a target that
	// exists and 404 otherwise.
	AnonymousDiscovery bool
	// Logger receives one access-log line per request; nil discards them.
	Logger *slog.Logger
	// Health is what /readyz reports; nil means a Health that is ready at
	// once and has no targets to check.
	Health *Health
	// Build is what /version reports.
	Build BuildInfo
	// TracerProvider makes the server span of each request and, through the
	// request's context, the spans below it; nil means the global provider.
	TracerProvider trace.TracerProvider
	// Metrics, when not nil, is served at GET /metrics without a credential
	// (the Prometheus scrape handler, telemetry.Telemetry.MetricsHandler).
	Metrics http.Handler
}

// Targets is the set of targets the router serves: target name → engine. It
// is safe for concurrent use. Swap replaces the whole set at once (a config
// reload); a request keeps the engine it resolved when it started.
type Targets struct {
	m atomic.Pointer[map[string]*engine.Engine]
}

// NewTargets returns a set holding a copy of m.
func NewTargets(m map[string]*engine.Engine) *Targets {
	t := new(Targets)
	t.Swap(m)
	return t
}

// Swap replaces the set with a copy of m; nil engines are left out.
func (t *Targets) Swap(m map[string]*engine.Engine) {
	c := make(map[string]*engine.Engine, len(m))
	for name, e := range m {
		if e != nil {
			c[name] = e
		}
	}
	t.m.Store(&c)
}

// Lookup returns the engine of target name.
func (t *Targets) Lookup(name string) (*engine.Engine, bool) {
	m := t.m.Load()
	if m == nil {
		return nil, false
	}
	e, ok := (*m)[name]
	return e, ok
}

// server holds the dependencies of the handlers.
type server struct {
	targets     *Targets
	authn       auth.Authenticator
	publicURL   string // without a trailing slash; empty means derive per request
	maxBody     int64
	anonymousOK bool
	log         *slog.Logger
	health      *Health
	build       BuildInfo
	metrics     http.Handler
	mux         *chi.Mux // the root router, for computing Allow (see allowedMethods)

	tracerProvider trace.TracerProvider // nil: the global one, at each request
}

// New returns the gateway's HTTP handler, or an error naming the bad field of
// cfg. The handler is safe for concurrent use.
func New(cfg Config) (http.Handler, error) {
	var errs []error
	if cfg.Targets == nil {
		errs = append(errs, errors.New("router: Targets: required"))
	}
	if cfg.Authenticator == nil {
		errs = append(errs, errors.New("router: Authenticator: required"))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("router: MaxBodyBytes: must not be negative, got %d", cfg.MaxBodyBytes))
	}
	public, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &server{
		targets:     cfg.Targets,
		authn:       cfg.Authenticator,
		publicURL:   public,
		maxBody:     cfg.MaxBodyBytes,
		anonymousOK: cfg.AnonymousDiscovery,
		log:         cfg.Logger,
		health:      cfg.Health,
		build:       cfg.Build,
		metrics:     cfg.Metrics,

		tracerProvider: cfg.TracerProvider,
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.health == nil {
		s.health = NewHealth(HealthOptions{})
		s.health.SetReady()
	}
	s.mux = s.routes()
	return s.mux, nil
}

// parsePublicURL checks the configured base URL and returns it without a
// trailing slash.
func parsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("router: PublicURL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("router: PublicURL: scheme must be http or https, got %q", raw)
	case u.Host == "":
		return "", fmt.Errorf("router: PublicURL: host required, got %q", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("router: PublicURL: must be scheme://host[/prefix] only, got %q", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// The SCIM service roots: a named target, and the caller's default target.
const (
	targetsPrefix = "/targets/{target}/scim/v2"
	defaultPrefix = "/scim/v2"
)

func (s *server) routes() *chi.Mux {
	r := chi.NewRouter()
	// Middleware, outermost first:
	//  1. requestID: first, so that every later layer, the access-log line
	//     and every error response carry the id.
	//  2. traced (telemetry.go): the server span and request metrics, outside
	//     accessLog so that its line carries the trace and span ids.
	//  3. accessLog: wraps the ResponseWriter to see the final status, so it
	//     must sit outside recoverer: a panic then still ends in exactly one
	//     access-log line, as a 500, with the panic in it.
	//  4. recoverer: turns a panic below it into a 500 SCIM error.
	// Inside each SCIM root (scimRoutes): authenticate, then resolveTarget,
	// so that an unauthenticated caller gets 401 before learning whether a
	// target exists; then, per route, requireCredential and the body limit,
	// so that no body is read before the caller is known.
	r.Use(requestID, s.traced, s.accessLog, s.recoverer)
	r.NotFound(handlerFunc(s.notFound).ServeHTTP)
	r.MethodNotAllowed(handlerFunc(s.methodNotAllowed).ServeHTTP)
	// Operational endpoints (health.go): no credential, outside the SCIM
	// roots, for probes and load balancers.
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.Method(m, "/healthz", http.HandlerFunc(s.healthz))
		r.Method(m, "/readyz", http.HandlerFunc(s.readyz))
		r.Method(m, "/version", http.HandlerFunc(s.version))
		if s.metrics != nil {
			r.Method(m, "/metrics", s.metrics)
		}
	}
	r.Route(targetsPrefix, s.scimRoutes(true))
	r.Route(defaultPrefix, s.scimRoutes(false))
	return r
}

// scimRoutes registers one SCIM service root: with named, the root of the
// target in the path, else the root of the caller's default target.
func (s *server) scimRoutes(named bool) func(chi.Router) {
	return func(r chi.Router) { s.scimRoot(r, named) }
}

func (s *server) scimRoot(r chi.Router, named bool) {
	r.Use(s.authenticate, s.resolveTarget(named))
	// Routes that do not exist answer only to callers with a credential, so
	// that the order 401, 403/404 (target), 404/405 (route) always holds.
	r.NotFound(s.requireCredential(handlerFunc(s.notFound)).ServeHTTP)
	r.MethodNotAllowed(s.requireCredential(handlerFunc(s.methodNotAllowed)).ServeHTTP)

	// Discovery (RFC 7644 §4): anonymous when Config.AnonymousDiscovery.
	r.Group(func(r chi.Router) {
		r.Use(s.discoveryAccess)
		r.Method(http.MethodGet, "/ServiceProviderConfig", handlerFunc(s.serviceProviderConfig))
		r.Method(http.MethodGet, "/ResourceTypes", handlerFunc(s.listResourceTypes))
		r.Method(http.MethodGet, "/ResourceTypes/{id}", handlerFunc(s.getResourceType))
		r.Method(http.MethodGet, "/Schemas", handlerFunc(s.listSchemas))
		r.Method(http.MethodGet, "/Schemas/{id}", handlerFunc(s.getSchema))
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requireCredential)
		r.With(s.limitBody(s.bulkLimit)).Method(http.MethodPost, "/Bulk", handlerFunc(s.bulk))
		r.Group(func(r chi.Router) {
			r.Use(s.limitBody(s.bodyLimit))
			r.Method(http.MethodGet, "/", handlerFunc(s.list))
			r.Method(http.MethodPost, "/.search", handlerFunc(s.search))
			r.Method(http.MethodGet, "/{endpoint}", handlerFunc(s.list))
			r.Method(http.MethodPost, "/{endpoint}", handlerFunc(s.create))
			r.Method(http.MethodPost, "/{endpoint}/.search", handlerFunc(s.search))
			r.Method(http.MethodGet, "/{endpoint}/{id}", handlerFunc(s.get))
			r.Method(http.MethodPut, "/{endpoint}/{id}", handlerFunc(s.replace))
			r.Method(http.MethodPatch, "/{endpoint}/{id}", handlerFunc(s.patch))
			r.Method(http.MethodDelete, "/{endpoint}/{id}", handlerFunc(s.delete))
		})
	})
}
