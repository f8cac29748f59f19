package router

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// handlerFunc is a handler that returns its failure; ServeHTTP renders it.
// Middleware that can fail has this shape too, so that writeError is the one
// place that writes a SCIM error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, r, err)
	}
}

// errorBody is the SCIM Error of RFC 7644 §3.12; status is a string there.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeError renders err as a SCIM Error response and records it for the
// access-log line, which logs it once. Anything that is not a *scim.Error is a
// 500 whose detail is fixed (scim.AsError), so causes never reach a client.
// A 401 carries a WWW-Authenticate challenge (RFC 7235 §3.1), a 429 or 503
// with RetryAfter a Retry-After header (RFC 7231 §7.1.3).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := scim.AsError(err)
	infoFrom(r.Context()).err = se
	h := w.Header()
	if se.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", wwwAuthenticate)
	}
	if se.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(se.RetryAfter))
	}
	// A header set for a success (ETag, Location) must not describe an error.
	h.Del("ETag")
	h.Del("Location")
	status := se.Status
	if status < 400 || status > 599 {
		// Only failures are rendered here; a *scim.Error with another
		// status is a bug below.
		status = http.StatusInternalServerError
		se = &scim.Error{Status: status, Detail: "internal error", Err: se}
		infoFrom(r.Context()).err = se
	}
	detail := se.Detail
	if detail == "" {
		detail = http.StatusText(status)
	}
	writeJSON(w, status, errorBody{
		Schemas:  []string{scim.ErrorSchema},
		Status:   strconv.Itoa(status),
		ScimType: string(se.ScimType),
		Detail:   detail,
	})
}

// notFound answers a path that names no route.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) error {
	return scim.Errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", r.URL.EscapedPath())
}

// methodNotAllowed answers a route that exists with another method: 405
// with Allow (RFC 7231 §6.5.5). chi reports a 405 for a path that one of the
// generic routes (/{endpoint}) matches even when the endpoint is not a
// resource type of the target; that is a 404.
func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	allowed := s.allowedMethods(r)
	if len(allowed) == 0 {
		return s.notFound(w, r)
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	return scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed here; allowed: %s",
		r.Method, strings.Join(allowed, ", "))
}

// routeMethods are the methods the router serves, in the order Allow lists them.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods returns the methods the request's path is served with, by
// asking the route tree for each method. A match on a generic route counts
// only when its {endpoint} is a resource type of the target.
func (s *server) allowedMethods(r *http.Request) []string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	t := targetFrom(r.Context())
	var allowed []string
	for _, m := range routeMethods {
		rctx := chi.NewRouteContext()
		if s.mux.Find(rctx, m, path) == "" {
			continue
		}
		if ep := rctx.URLParam("endpoint"); ep != "" && (t == nil || t.resourceType(pathParam(r, ep)) == nil) {
			continue
		}
		allowed = append(allowed, m)
	}
	return allowed
}

// endpointNotServed is the failure of a generic route whose {endpoint} is
// not a resource type of the target: 405 when another route serves the path
// (POST /Schemas), else 404 (GET /Groups on a target without Groups).
func (s *server) endpointNotServed(w http.ResponseWriter, r *http.Request, endpoint string) error {
	if allowed := s.allowedMethods(r); len(allowed) > 0 && !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed here; allowed: %s",
			r.Method, strings.Join(allowed, ", "))
	}
	t := targetFrom(r.Context())
	return scim.Errorf(http.StatusNotFound, "", "target %q serves no resource type at /%s", t.name, endpoint)
}
