package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

type ctxKey int

const infoKey ctxKey = 0

// requestInfo is the router's state of one request, the one value it keeps
// in the context (one context.WithValue per request rather than one per
// layer): requestID puts it there, the inner layers fill it in, and the
// access log reports it. A request is served by one goroutine, so no
// locking is needed.
type requestInfo struct {
	id        string
	principal *auth.Principal // nil until authenticated, and for anonymous discovery
	target    *target         // nil until resolved
	err       *scim.Error     // the error rendered, if any
	stack     []byte          // set when the request panicked
}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{} // outside the middleware stack (unit tests): discarded
}

// maxRequestIDLen bounds an inbound X-Request-Id that is echoed and logged.
const maxRequestIDLen = 128

// requestID takes the caller's X-Request-Id when it is short and made of
// safe characters (it is echoed and logged), or makes a new one, and sends it
// back in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ri := &requestInfo{id: id}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey, ri)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:/+=", c) >= 0) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one line per request: method, route pattern (never the
// raw path, which holds ids), status, duration, target, subject, request id,
// and trace_id and span_id of the request's server span; for a failure the
// scimType, and for a 5xx the cause. Bodies, headers and tokens are never
// logged (STYLE.md §5: SCIM bodies are PII).
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := infoFrom(r.Context())
		sw := &statusWriter{ResponseWriter: w}
		// Deferred, so that a request aborted with http.ErrAbortHandler,
		// which recoverer passes on, is logged too.
		defer s.logRequest(r, sw, ri, start)
		next.ServeHTTP(sw, r)
	})
}

// logRequest writes the access-log line of a finished request.
func (s *server) logRequest(r *http.Request, sw *statusWriter, ri *requestInfo, start time.Time) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	route := ""
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		route = rctx.RoutePattern()
	}
	attrs := make([]slog.Attr, 0, 13)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.Int64("bytes", sw.bytes),
		slog.String("request_id", ri.id),
	)
	if traceID, spanID := telemetry.TraceIDs(r.Context()); traceID != "" {
		attrs = append(attrs, slog.String("trace_id", traceID), slog.String("span_id", spanID))
	}
	if ri.target != nil {
		attrs = append(attrs, slog.String("target", ri.target.name))
	}
	if ri.principal != nil {
		attrs = append(attrs, slog.String("subject", ri.principal.Subject))
	}
	level := slog.LevelInfo
	if ri.err != nil {
		if ri.err.ScimType != "" {
			attrs = append(attrs, slog.String("scim_type", string(ri.err.ScimType)))
		}
		if ri.err.Status >= 500 {
			level = slog.LevelError
			cause := ri.err.Detail
			if ri.err.Err != nil {
				cause = ri.err.Err.Error()
			}
			attrs = append(attrs, slog.String("error", cause))
		}
	}
	if ri.stack != nil {
		attrs = append(attrs, slog.String("stack", string(ri.stack)))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// recoverer turns a panic into a 500 SCIM error. The panic and its stack go
// into the request's access-log line, so it is logged once. A panic with
// http.ErrAbortHandler is passed on: it is net/http's way to abort a response.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ri := infoFrom(r.Context())
			ri.stack = debug.Stack()
			err := fmt.Errorf("router: panic: %v", v)
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				// Too late for an error response: the status is sent. The
				// client sees a truncated body; the log has the panic.
				ri.err = scim.AsError(err)
				return
			}
			writeError(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// wwwAuthenticate is the challenge of a 401 (RFC 6750 §3).
const wwwAuthenticate = `Bearer realm="scim-gateway"`

// authenticate resolves the Authorization header to a principal. Without a
// credential the request goes on anonymously only when anonymous discovery
// is allowed: discoveryAccess and requireCredential decide per route. A
// credential that is given but rejected is always a 401, with
// error="invalid_token" (RFC 6750 §3.1).
func (s *server) authenticate(next http.Handler) http.Handler {
	return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			if s.anonymousOK {
				next.ServeHTTP(w, r)
				return nil
			}
			return errUnauthenticated()
		}
		p, err := s.authn.Authenticate(r.Context(), token)
		if err == nil && p == nil {
			err = errors.New("router: authenticator returned neither principal nor error")
		}
		if err != nil {
			se := scim.AsError(err)
			if se.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", wwwAuthenticate+`, error="invalid_token"`)
				if se.Detail == "" {
					se = &scim.Error{Status: http.StatusUnauthorized, Detail: "invalid bearer token", Err: err}
				}
			}
			return se
		}
		infoFrom(r.Context()).principal = p
		next.ServeHTTP(w, r)
		return nil
	})
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// value; the scheme is case-insensitive (RFC 7235 §2.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func errUnauthenticated() *scim.Error {
	return &scim.Error{Status: http.StatusUnauthorized, Detail: "a bearer token is required (Authorization: Bearer <token>)"}
}

func principalFrom(ctx context.Context) *auth.Principal {
	return infoFrom(ctx).principal
}

// target is the target a request addresses, resolved.
type target struct {
	name string
	eng  *engine.Engine
	// base is the canonical SCIM root of the target, absolute:
	// public URL + "/targets/{name}/scim/v2".
	base string
}

func targetFrom(ctx context.Context) *target {
	return infoFrom(ctx).target
}

// resolveTarget finds the target named in the path (named), or the
// principal's default target (/scim/v2). The order is: unknown target 404,
// then a target the principal may not reach 403. An anonymous caller
// (anonymous discovery) may name any existing target; it has no default
// target, so /scim/v2 needs a credential.
func (s *server) resolveTarget(named bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			p := principalFrom(r.Context())
			var name string
			switch {
			case named:
				name = pathParam(r, chi.URLParam(r, "target"))
			case p == nil:
				return errUnauthenticated()
			case p.DefaultTarget == "":
				return scim.Errorf(http.StatusNotFound, "",
					"no default target is bound to this credential: use /targets/{target}/scim/v2")
			default:
				name = p.DefaultTarget
			}
			eng, ok := s.targets.Lookup(name)
			if !ok {
				return scim.Errorf(http.StatusNotFound, "", "target %q not found", name)
			}
			if p != nil && !p.MayReach(name) {
				return scim.Errorf(http.StatusForbidden, "", "this credential may not reach target %q", name)
			}
			infoFrom(r.Context()).target = &target{name: name, eng: eng, base: s.base(r) + "/targets/" + url.PathEscape(name) + "/scim/v2"}
			next.ServeHTTP(w, r.WithContext(telemetry.WithTarget(r.Context(), name)))
			return nil
		})
	}
}

// base returns the public base URL: the configured one, or, when none is
// configured, one derived from the request for local and demo use (the Host
// header is the caller's to choose, see Config.PublicURL).
func (s *server) base(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// requireCredential answers 401 to an anonymous caller (see
// Config.AnonymousDiscovery): everything but discovery needs a credential.
func (s *server) requireCredential(next http.Handler) http.Handler {
	return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if principalFrom(r.Context()) == nil {
			return errUnauthenticated()
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// discoveryAccess lets discovery through for a principal or, with anonymous
// discovery, for anyone (authenticate has already refused anonymous callers
// otherwise).
func (s *server) discoveryAccess(next http.Handler) http.Handler {
	return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if principalFrom(r.Context()) == nil && !s.anonymousOK {
			return errUnauthenticated()
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// limitBody caps the request body at limit(r) bytes: a larger declared
// Content-Length is refused at once, and a body that grows past the limit
// fails when read (readBody turns that into a 413).
func (s *server) limitBody(limit func(r *http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			n := limit(r)
			if r.ContentLength > n {
				return errTooLarge(r, n)
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

func (s *server) bodyLimit(*http.Request) int64 { return s.maxBody }

// bulkLimit is the target's maxPayloadSize (RFC 7644 §3.7.4).
func (s *server) bulkLimit(r *http.Request) int64 {
	if t := targetFrom(r.Context()); t != nil {
		if n := t.eng.Options().BulkMaxPayload; n > 0 {
			return n
		}
	}
	return s.maxBody
}

// errTooLarge is the 413 for a body over n bytes; for Bulk it names
// maxPayloadSize as RFC 7644 §3.7.4 shows.
func errTooLarge(r *http.Request, n int64) *scim.Error {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && strings.HasSuffix(rctx.RoutePattern(), "/Bulk") {
		return scim.Errorf(http.StatusRequestEntityTooLarge, "",
			"The size of the bulk operation exceeds the maxPayloadSize (%d).", n)
	}
	return scim.Errorf(http.StatusRequestEntityTooLarge, "", "The request body exceeds %d bytes.", n)
}

// pathParam decodes a chi URL parameter. chi routes on the escaped path when
// the request has one (URL.RawPath), and then parameters are still escaped.
func pathParam(r *http.Request, raw string) string {
	if r.URL.RawPath == "" {
		return raw
	}
	if s, err := url.PathUnescape(raw); err == nil {
		return s
	}
	return raw
}
