// Package rctest is an in-process simulator of RingCentral SCIM 2.0 as
// VENDORS.md section 2 describes it: Users only, numeric ids, the
// two-filter search, string-valued PATCH, the unassigned-extension
// precondition, SCIM and platform error bodies, the OAuth token endpoint
// with the JWT-bearer grant and rotating refresh tokens, and the
// usage-plan rate limits (Light, Heavy, Auth) with their X-Rate-Limit-*
// headers and a penalty that every request made during it restarts. The
// ringcentral adapter's tests run against it over loopback HTTP, and
// `gateway demo` serves it in-process.
//
// Behaviours the vendor leaves open ([?] in VENDORS.md) have a documented
// default and an option; see docs/ringcentral-simulator.md.
package rctest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/simtest"
)

// maxBody caps a request body: the maxPayloadSize of the
// ServiceProviderConfig RingCentral is reported to serve (VENDORS.md 2.7).
const maxBody = 1 << 20

// TokenPath is the path of the OAuth token endpoint.
const TokenPath = "/restapi/oauth/token"

// SCIMPrefix is the path of the SCIM base.
const SCIMPrefix = "/scim/v2"

// Sim is a simulated RingCentral account. It implements http.Handler for
// the SCIM paths under /scim/ and the token endpoint. A Sim is safe for
// concurrent use.
type Sim struct {
	cfg config

	mu         sync.Mutex       // guards everything below
	order      []*user          // every user, in id (= creation) order; ids only grow
	byName     map[string]*user // by lower-cased userName (= the work email)
	nextID     int64
	nextExt    int
	freeExt    []string // extension numbers deletes gave back
	unassigned int      // unassigned extensions left; -1: unlimited
	access     map[string]*accessToken
	refresh    map[string]*refreshToken
	clients    map[string]string // client id → secret
	jwts       map[string]string // JWT credential → client id
	windows    map[string]*window
	violations int

	reqMu    sync.Mutex
	requests []*Request
	tokenReq []*Request
}

// Request is one request the simulator received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Status is the status answered; 0 when the connection was dropped (a
	// Fault) or the answer is not written yet.
	Status int
	// At is when the request arrived, by the simulator's clock.
	At time.Time
	// Group is the usage-plan group the request counts in (GroupLight,
	// GroupHeavy, GroupAuth), or "" for the health check and paths that do
	// not exist.
	Group string
}

// firstUserID is the id of the first user created (the example id of
// VENDORS.md 2.6); ids increase from it.
const firstUserID = 1271140020

// firstExtension is the extension number of the first user.
const firstExtension = 101

// New returns a simulator with opts applied. The account has no users
// unless WithSeed is given.
func New(opts ...Option) *Sim {
	s := &Sim{
		cfg:     defaultConfig(),
		byName:  map[string]*user{},
		nextID:  firstUserID,
		nextExt: firstExtension,
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		clients: map[string]string{},
		jwts:    map[string]string{},
		windows: map[string]*window{},
	}
	for _, o := range opts {
		o(s)
	}
	s.unassigned = s.cfg.unassigned
	s.seed(s.cfg.seedUsers, s.now())
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

// BaseURL is the SCIM base URL, URL/scim/v2.
func (s *Server) BaseURL() string { return s.URL + SCIMPrefix }

// TokenURL is the token endpoint, URL/restapi/oauth/token.
func (s *Server) TokenURL() string { return s.URL + TokenPath }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Count returns how many users the account holds now.
func (s *Sim) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// UnassignedExtensions returns how many unassigned extensions are left, or
// -1 when the supply is unlimited (no WithUnassignedExtensions).
func (s *Sim) UnassignedExtensions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unassigned
}

// Requests returns a copy of the SCIM requests received so far (everything
// under /scim/), oldest first.
func (s *Sim) Requests() []Request { return s.copyRequests(&s.requests) }

// TokenRequests returns a copy of the token-endpoint requests received so
// far, oldest first.
func (s *Sim) TokenRequests() []Request { return s.copyRequests(&s.tokenReq) }

func (s *Sim) copyRequests(list *[]*Request) []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make([]Request, len(*list))
	for i, r := range *list {
		out[i] = *r
		out[i].Header = r.Header.Clone()
		out[i].Body = slices.Clone(r.Body)
	}
	return out
}

// ResetRequests forgets the recorded SCIM and token requests.
func (s *Sim) ResetRequests() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.requests, s.tokenReq = nil, nil
}

func (s *Sim) now() time.Time { return s.cfg.clock().UTC() }

// ServeHTTP records the request, handles it (or the Fault WithFault asks
// for), waits the latency and answers.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	isToken := p == TokenPath
	if !isToken && p != "/scim" && !strings.HasPrefix(p, "/scim/") {
		s.writeError(w, r, routeNotFound(p))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, r, scimErr(http.StatusRequestEntityTooLarge, "", "The request body is larger than %d bytes", maxBody))
		return
	}
	rec := &Request{
		Method: r.Method, Path: p, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
		At: s.now(), Group: groupOf(r.Method, p),
	}
	s.reqMu.Lock()
	if isToken {
		s.tokenReq = append(s.tokenReq, rec)
	} else {
		s.requests = append(s.requests, rec)
	}
	s.reqMu.Unlock()

	var fault Fault
	if s.cfg.fault != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		fault = s.cfg.fault(r)
	}
	buf := &buffer{header: http.Header{}}
	if fault.IsZero() || fault.AfterApply {
		s.handle(buf, r, body, isToken)
	}
	status := buf.status
	switch {
	case fault.Drop:
		status = 0
	case fault.Status != 0:
		status = fault.Status
	}
	s.reqMu.Lock()
	rec.Status = status
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
	switch {
	case fault.Drop:
		simtest.Drop(w)
	case fault.Status != 0:
		s.writeError(w, r, faultError(fault))
	default:
		buf.copyTo(w)
	}
}

// groupOf is the usage-plan group of a request (VENDORS.md 2.3, 2.10):
// SCIM reads (GET, and the POST of /Users/.search) are Light, SCIM writes
// Heavy, the token endpoint Auth; the health check and unknown paths are in
// none.
func groupOf(method, path string) string {
	if path == TokenPath {
		return GroupAuth
	}
	rest, ok := strings.CutPrefix(path, SCIMPrefix+"/")
	if !ok || rest == "health" || route(rest) == routeNone {
		return ""
	}
	if method == http.MethodGet || method == http.MethodHead || rest == "Users/.search" {
		return GroupLight
	}
	return GroupHeavy
}

// routeKind names the SCIM paths the simulator serves.
type routeKind int

const (
	routeNone routeKind = iota
	routeUsers
	routeSearch
	routeUser
	routeSPC
	routeSchemas
	routeSchema
	routeResourceTypes
	routeResourceType
)

// route classifies a path below /scim/v2/.
func route(rest string) routeKind {
	first, second, two := strings.Cut(rest, "/")
	if two && (second == "" || strings.Contains(second, "/")) {
		return routeNone
	}
	switch {
	case first == "Users" && !two:
		return routeUsers
	case first == "Users" && second == ".search":
		return routeSearch
	case first == "Users":
		return routeUser
	case first == "ServiceProviderConfig" && !two:
		return routeSPC
	case first == "Schemas" && !two:
		return routeSchemas
	case first == "Schemas":
		return routeSchema
	case first == "ResourceTypes" && !two:
		return routeResourceTypes
	case first == "ResourceTypes":
		return routeResourceType
	}
	return routeNone
}

// call is one authenticated SCIM request.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	token *accessToken
	arg   string // the path's last segment: a user id, schema URI or type
}

// handle answers one request into w.
func (s *Sim) handle(w http.ResponseWriter, r *http.Request, body []byte, isToken bool) {
	var err error
	if isToken {
		err = s.serveToken(w, r, body)
	} else {
		err = s.serveSCIM(w, r, body)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// serveSCIM routes a SCIM request: unknown paths 404 (no /Groups, /Bulk or
// /Me, VENDORS.md 2.3); then the bearer token (401), the usage-plan limit
// (429), the method (405) and the app permission (403).
func (s *Sim) serveSCIM(w http.ResponseWriter, r *http.Request, body []byte) error {
	p := r.URL.Path
	if p == "/scim/health" || p == SCIMPrefix+"/health" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			return scimErr(http.StatusMethodNotAllowed, "", "Method %s is not allowed", r.Method)
		}
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "OK")
		return nil
	}
	rest, _ := strings.CutPrefix(p, SCIMPrefix+"/")
	kind := routeNone
	if strings.HasPrefix(p, SCIMPrefix+"/") {
		kind = route(rest)
	}
	if kind == routeNone {
		return routeNotFound(p)
	}
	group := groupOf(r.Method, p)

	s.mu.Lock()
	now := s.now()
	at, err := s.authenticate(r, now)
	if err == nil {
		rr := s.admit(at.rateKey(), group, now)
		rr.setHeaders(w.Header())
		if rr.retryAfter > 0 {
			err = rateExceeded(rr.retryAfter)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}

	c := &call{w: w, r: r, body: body, token: at}
	if _, last, ok := strings.Cut(rest, "/"); ok {
		c.arg = last
	}
	get := map[string]func(*call) error{}
	switch kind {
	case routeUsers:
		get[http.MethodGet], get[http.MethodPost] = s.listUsers, s.postUser
	case routeSearch:
		get[http.MethodPost] = s.searchUsers
	case routeUser:
		get[http.MethodGet], get[http.MethodPut] = s.getUser, s.putUser
		get[http.MethodPatch], get[http.MethodDelete] = s.patchUser, s.deleteUser
	case routeSPC:
		get[http.MethodGet] = s.getSPC
	case routeSchemas:
		get[http.MethodGet] = s.listSchemas
	case routeSchema:
		get[http.MethodGet] = s.getSchema
	case routeResourceTypes:
		get[http.MethodGet] = s.listResourceTypes
	case routeResourceType:
		get[http.MethodGet] = s.getResourceType
	}
	h, ok := get[r.Method]
	if !ok {
		methods := make([]string, 0, len(get))
		for m := range get {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		w.Header().Set("Allow", strings.Join(methods, ", "))
		return scimErr(http.StatusMethodNotAllowed, "", "Method %s is not allowed", r.Method)
	}
	need := PermissionReadAccounts
	if group == GroupHeavy {
		need = PermissionEditAccounts
	}
	if !at.has(need) {
		return scimErr(http.StatusForbidden, "", "In order to call this API endpoint, application needs to have [%s] permission", need)
	}
	if group == GroupHeavy || r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); len(body) > 0 && ct != "" && !containsFold(ct, "json") {
			return scimErr(http.StatusUnsupportedMediaType, "", "Content-Type %s is not supported; send application/json or application/scim+json", ct)
		}
	}
	return h(c)
}

// containsFold reports whether sub is within s, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
