// Package webextest is an in-process simulator of Cisco Webex Identity SCIM 2
// as VENDORS.md section 1 describes it: org-scoped SCIM paths, the Webex
// filter table, Cisco error bodies, the Members endpoint, Bulk with
// lower-case "operations", OAuth token endpoints, per-token rate limits,
// search lag and injected transport faults. The webex adapter's tests run
// against it over loopback HTTP, and `gateway demo` serves it in-process.
//
// Behaviours the vendor leaves open ([?] in VENDORS.md) have a documented
// default and, where a client could depend on them, an option; see
// docs/webex-simulator.md.
package webextest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"

	"github.com/scim-gateway/scim-gateway/internal/simtest"
)

// maxBody caps a SCIM request body (Bulk requests are the largest).
const maxBody = 10 << 20

// Sim is a simulated Webex Identity org. It implements http.Handler for
// the SCIM paths under /identity/scim/ and the token endpoints under /v1/.
// A Sim is safe for concurrent use.
type Sim struct {
	cfg config

	mu      sync.Mutex // guards everything below
	users   map[string]*entry
	groups  map[string]*entry
	seq     int64 // creation order
	version int64 // the last meta.version number handed out
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	clients map[string]string // client id → secret
	buckets map[string]*bucket
	me      scim.Resource // the caller behind every token (GET /identity/scim/v2/Users/me)

	reqMu    sync.Mutex
	requests []Request
}

// Request is one SCIM request the simulator received (token requests are
// not recorded).
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// New returns a simulator with opts applied. Its org is empty unless
// WithSeed is given.
func New(opts ...Option) *Sim {
	s := &Sim{
		cfg:     defaultConfig(),
		users:   map[string]*entry{},
		groups:  map[string]*entry{},
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		clients: map[string]string{},
		buckets: map[string]*bucket{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.cfg.orgID == "" {
		s.cfg.orgID = newUUID()
	}
	now := s.now()
	s.version = now.UnixMilli()
	s.me = scim.Resource{
		"id":          newUUID(),
		"userName":    "admin@" + s.cfg.orgID[:8] + ".example.com",
		"displayName": "Simulator Admin",
		"userType":    "user",
		"active":      true,
		"emails":      []any{map[string]any{"value": "admin@" + s.cfg.orgID[:8] + ".example.com", "type": "work", "primary": true}},
		"roles":       []any{map[string]any{"value": "id_full_admin", "type": "cirole"}},
	}
	s.setMeta(s.me, "User", nil, now)
	s.mu.Lock()
	for i := range s.cfg.seedUsers {
		name := fmt.Sprintf("seed%04d@example.com", i+1)
		body := map[string]any{
			"schemas":     []any{scim.UserSchema},
			"userName":    name,
			"userType":    "user",
			"active":      true,
			"displayName": fmt.Sprintf("Seed User %d", i+1),
			"name":        map[string]any{"givenName": "Seed", "familyName": fmt.Sprintf("User%04d", i+1)},
		}
		if _, err := s.createUserLocked(body, now); err != nil {
			panic("webextest: seed: " + err.Error())
		}
	}
	s.mu.Unlock()
	return s
}

// Server is a Sim served by an httptest server on loopback.
type Server struct {
	*Sim
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	srv *httptest.Server
}

// NewServer starts a simulator on a loopback port; tb.Cleanup closes it.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	sim := New(opts...)
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	return &Server{Sim: sim, URL: srv.URL, srv: srv}
}

// BaseURL is the org's SCIM base URL: URL/identity/scim/{orgId}/v2.
func (s *Server) BaseURL() string {
	return s.URL + "/identity/scim/" + s.OrgID() + "/v2"
}

// TokenURL is the refresh endpoint, URL/v1/access_token.
func (s *Server) TokenURL() string { return s.URL + "/v1/access_token" }

// AppTokenURL is the service-app token endpoint of applicationID.
func (s *Server) AppTokenURL(applicationID string) string {
	return s.URL + "/v1/applications/" + applicationID + "/token"
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// OrgID returns the org's UUID.
func (s *Sim) OrgID() string { return s.cfg.orgID }

// Requests returns a copy of the SCIM requests received so far, oldest
// first.
func (s *Sim) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Header: r.Header.Clone(), Body: slices.Clone(r.Body)}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Sim) ResetRequests() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.requests = nil
}

// Count returns how many resources of resourceType ("User" or "Group") the
// org holds now, whatever the search lag shows.
func (s *Sim) Count(resourceType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.EqualFold(resourceType, "User"):
		return len(s.users)
	case strings.EqualFold(resourceType, "Group"):
		return len(s.groups)
	}
	return 0
}

func (s *Sim) now() time.Time { return s.cfg.clock().UTC() }

// ServeHTTP answers the token endpoints and the SCIM paths. Every answer
// carries a TrackingID header: the request's own when it sent one, as
// Webex echoes it.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tid := r.Header.Get("TrackingID")
	if tid == "" {
		tid = "SIMULATOR_" + newUUID()
	}
	w.Header().Set("TrackingID", tid)
	p := r.URL.Path
	var err error
	switch {
	case strings.HasPrefix(p, "/identity/scim/"):
		s.serveSCIM(w, r, tid)
		return
	case p == "/v1/access_token":
		err = s.serveAccessToken(w, r)
	case isAppTokenPath(p):
		err = s.serveAppToken(w, r)
	default:
		err = platformErr(http.StatusNotFound, "The requested resource could not be found.")
	}
	if err != nil {
		s.writeError(w, tid, err)
	}
}

// isAppTokenPath matches /v1/applications/{applicationId}/token.
func isAppTokenPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/v1/applications/")
	if !ok {
		return false
	}
	app, tail, _ := strings.Cut(rest, "/")
	return app != "" && tail == "token"
}

// serveSCIM records the request, applies latency and faults, then handles it.
func (s *Sim) serveSCIM(w http.ResponseWriter, r *http.Request, tid string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, tid, platformErr(http.StatusRequestEntityTooLarge, "The request body is larger than %d bytes.", maxBody))
		return
	}
	s.reqMu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: slices.Clone(body),
	})
	s.reqMu.Unlock()

	if d := s.cfg.latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	var fault Fault
	if s.cfg.fault != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		fault = s.cfg.fault(r)
	}
	if !fault.IsZero() && fault.AfterApply {
		s.handleSCIM(&discard{}, r, tid, body)
	}
	switch {
	case fault.Drop:
		simtest.Drop(w)
	case fault.Status != 0:
		s.writeError(w, tid, faultError(fault))
	default:
		s.handleSCIM(w, r, tid, body)
	}
}

// call is one authenticated SCIM request.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	tid   string // the answer's TrackingID
	body  []byte
	token *accessToken
}

// handleSCIM authenticates, rate-limits and routes one SCIM request.
func (s *Sim) handleSCIM(w http.ResponseWriter, r *http.Request, tid string, body []byte) {
	if err := s.route(w, r, tid, body); err != nil {
		s.writeError(w, tid, err)
	}
}

func (s *Sim) route(w http.ResponseWriter, r *http.Request, tid string, body []byte) error {
	s.mu.Lock()
	now := s.now()
	key, at, err := s.authenticate(r, now)
	if err == nil {
		if secs, ok := s.take(key, now); !ok {
			err = &apiError{status: http.StatusTooManyRequests, platform: true, retryAfter: secs,
				detail: "Too many requests have been made. Wait and try again."}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c := &call{w: w, r: r, tid: tid, body: body, token: at}

	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/identity/scim/"), "/")
	if len(segs) == 3 && segs[0] == "v2" && segs[1] == "Users" && segs[2] == "me" {
		if err := allow(w, r, http.MethodGet); err != nil {
			return err
		}
		s.mu.Lock()
		me := s.me.Clone()
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, s.renderUserPlain(me))
		return nil
	}
	if len(segs) < 3 || segs[1] != "v2" || slices.Contains(segs, "") {
		return routeNotFound()
	}
	if orgUUID(segs[0]) != s.cfg.orgID {
		// Simulator choice: another org's base answers like a token
		// without rights in that org.
		return platformErr(http.StatusForbidden, "The caller is not authorized to access org %s.", segs[0])
	}
	rest := segs[2:]
	if len(rest) >= 2 && strings.HasPrefix(rest[1], ".") {
		return routeNotFound() // no /Users/.search (VENDORS.md 1.3)
	}
	switch {
	case len(rest) == 1 && rest[0] == "Users":
		return s.dispatch(c, map[string]func(*call) error{
			http.MethodGet: s.listUsers, http.MethodPost: s.postUser,
		})
	case len(rest) == 2 && rest[0] == "Users":
		id := rest[1]
		return s.dispatch(c, map[string]func(*call) error{
			http.MethodGet:    func(c *call) error { return s.getUser(c, id) },
			http.MethodPut:    func(c *call) error { return s.putUser(c, id) },
			http.MethodPatch:  func(c *call) error { return s.patchUser(c, id) },
			http.MethodDelete: func(c *call) error { return s.deleteUser(c, id) },
		})
	case len(rest) == 1 && rest[0] == "Groups":
		return s.dispatch(c, map[string]func(*call) error{
			http.MethodGet: s.listGroups, http.MethodPost: s.postGroup,
		})
	case len(rest) == 2 && rest[0] == "Groups":
		id := rest[1]
		return s.dispatch(c, map[string]func(*call) error{
			http.MethodGet:    func(c *call) error { return s.getGroup(c, id) },
			http.MethodPut:    func(c *call) error { return s.putGroup(c, id) },
			http.MethodPatch:  func(c *call) error { return s.patchGroup(c, id) },
			http.MethodDelete: func(c *call) error { return s.deleteGroup(c, id) },
		})
	case len(rest) == 3 && rest[0] == "Groups" && rest[2] == "Members":
		id := rest[1]
		return s.dispatch(c, map[string]func(*call) error{
			http.MethodGet: func(c *call) error { return s.getMembers(c, id) },
		})
	case len(rest) == 1 && rest[0] == "Bulk":
		return s.dispatch(c, map[string]func(*call) error{http.MethodPost: s.postBulk})
	}
	// /ServiceProviderConfig, /ResourceTypes, /Schemas and /Users/.search
	// are not under the org base (VENDORS.md 1.3).
	return routeNotFound()
}

func routeNotFound() error {
	return platformErr(http.StatusNotFound, "The requested resource could not be found.")
}

// dispatch runs the handler for c's method after the scope check: reads
// need identity:people_read or identity:people_rw, writes
// identity:people_rw (VENDORS.md 1.2).
func (s *Sim) dispatch(c *call, handlers map[string]func(*call) error) error {
	h, ok := handlers[c.r.Method]
	if !ok {
		methods := make([]string, 0, len(handlers))
		for m := range handlers {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		c.w.Header().Set("Allow", strings.Join(methods, ", "))
		return platformErr(http.StatusMethodNotAllowed, "Method %s is not allowed on this resource.", c.r.Method)
	}
	if c.r.Method == http.MethodGet {
		if !c.token.has(ScopePeopleRead, ScopePeopleRW) {
			return platformErr(http.StatusForbidden, "The access token does not have the required scope: identity:people_read or identity:people_rw.")
		}
	} else {
		if !c.token.has(ScopePeopleRW) {
			return platformErr(http.StatusForbidden, "The access token does not have the required scope: identity:people_rw.")
		}
		if ct := c.r.Header.Get("Content-Type"); ct != "" && len(c.body) > 0 && !strings.Contains(strings.ToLower(ct), "json") {
			return platformErr(http.StatusUnsupportedMediaType, "Content-Type %s is not supported; send application/json.", ct)
		}
	}
	return h(c)
}

func allow(w http.ResponseWriter, r *http.Request, method string) error {
	if r.Method != method {
		w.Header().Set("Allow", method)
		return platformErr(http.StatusMethodNotAllowed, "Method %s is not allowed on this resource.", r.Method)
	}
	return nil
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
