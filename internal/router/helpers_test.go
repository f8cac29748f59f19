package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The tokens the test authenticator knows.
const (
	adminToken     = "admin-token"     // every target, default "memory"
	limitedToken   = "limited-token"   // only "usersonly", its default
	noDefaultToken = "nodefault-token" // "memory", no default target
	publicURL      = "https://scim.example.com/gw"
)

// testAuthenticator is a fixed token → principal table implementing
// auth.Authenticator, as the real static-token authenticator does.
type testAuthenticator map[string]*auth.Principal

func (a testAuthenticator) Authenticate(_ context.Context, token string) (*auth.Principal, error) {
	if p, ok := a[token]; ok {
		return p, nil
	}
	return nil, &scim.Error{Status: http.StatusUnauthorized, Detail: "unknown bearer token"}
}

var principals = testAuthenticator{
	adminToken:     {Subject: "admin", Targets: []string{"*"}, DefaultTarget: "memory"},
	limitedToken:   {Subject: "limited", Targets: []string{"usersonly"}, DefaultTarget: "usersonly"},
	noDefaultToken: {Subject: "nodefault", Targets: []string{"memory"}},
}

// scriptedAdapter is the memory store with a different set of resource types
// and, optionally, a Get that fails or panics, for the error paths that no
// client input reaches.
type scriptedAdapter struct {
	*memory.Adapter
	types []*scim.ResourceType
	get   func(id string) (scim.Resource, error)
}

func (a *scriptedAdapter) Capabilities() adapters.Capabilities {
	c := a.Adapter.Capabilities()
	if a.types != nil {
		c.ResourceTypes = a.types
	}
	return c
}

func (a *scriptedAdapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	if a.get != nil {
		return a.get(id)
	}
	return a.Adapter.Get(ctx, rt, id)
}

// smallOptions are the limits of the "small" target.
var smallOptions = engine.Options{DefaultPageSize: 2, MaxPageSize: 5, BulkMaxOperations: 2, BulkMaxPayload: 2048}

// newTargets builds the targets every test server serves:
//   - memory: the reference store, Users and Groups;
//   - usersonly: a store that serves Users only;
//   - small: tight page and Bulk limits;
//   - emulated: the store with every native capability off, so that the
//     engine emulates filter, sort, ETag checks and PATCH;
//   - faulty: Get fails by id: "panic" panics, "unavailable" is a 503 with
//     Retry-After, "vendor" an error that is not a *scim.Error.
func newTargets() map[string]*engine.Engine {
	faulty := &scriptedAdapter{Adapter: memory.New(), get: func(id string) (scim.Resource, error) {
		switch id {
		case "panic":
			panic("scripted panic")
		case "unavailable":
			return nil, &scim.Error{Status: http.StatusServiceUnavailable, Detail: "vendor is throttling", RetryAfter: 7}
		case "vendor":
			return nil, errors.New("vendor said: secret internal detail")
		}
		return nil, scim.NotFound("User", id)
	}}
	return map[string]*engine.Engine{
		"memory":    engine.New(memory.New(), engine.Options{}),
		"usersonly": engine.New(&scriptedAdapter{Adapter: memory.New(), types: []*scim.ResourceType{scim.UserType}}, engine.Options{}),
		"small":     engine.New(memory.New(), smallOptions),
		"emulated":  engine.New(memory.New(memory.WithoutNative()), engine.Options{}),
		"faulty":    engine.New(faulty, engine.Options{}),
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a gateway on loopback.
type fixture struct {
	url     string
	targets *router.Targets
	logs    *syncBuffer
	client  *http.Client
	handler http.Handler
}

// newFixture starts a server over fresh targets; edit may change the config.
func newFixture(t testing.TB, edit ...func(*router.Config)) *fixture {
	t.Helper()
	f := &fixture{targets: router.NewTargets(newTargets()), logs: new(syncBuffer)}
	cfg := router.Config{
		Targets:       f.targets,
		Authenticator: principals,
		PublicURL:     publicURL,
		MaxBodyBytes:  4096,
		Logger:        slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	for _, e := range edit {
		e(&cfg)
	}
	h, err := router.New(cfg)
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f.url, f.client, f.handler = srv.URL, srv.Client(), h
	return f
}

// response is a response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as an object, failing the test when it is not one.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// req is one request to send.
type req struct {
	method, path string
	token        string // "" sends no Authorization
	body         string
	header       map[string]string // Content-Type defaults to application/scim+json with a body
}

func (f *fixture) do(t testing.TB, rq req) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	hr, err := http.NewRequestWithContext(t.Context(), rq.method, f.url+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.token != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.body != "" {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	resp, err := f.client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// mustDo sends rq and fails unless the status is want.
func (f *fixture) mustDo(t testing.TB, rq req, want int) response {
	t.Helper()
	r := f.do(t, rq)
	if r.status != want {
		t.Fatalf("%s %s = %d, want %d\n%s", rq.method, rq.path, r.status, want, r.body)
	}
	return r
}

const (
	memoryRoot = "/targets/memory/scim/v2"
	usersRoot  = "/targets/usersonly/scim/v2"
)

// createUser creates a user on the memory target and returns its id and version.
func (f *fixture) createUser(t testing.TB, root, userName string) (id, version string) {
	t.Helper()
	r := f.mustDo(t, req{method: "POST", path: root + "/Users", token: adminToken,
		body: `{"schemas":["` + scim.UserSchema + `"],"userName":"` + userName + `","displayName":"` + userName + `"}`}, http.StatusCreated)
	m := r.json(t)
	id, _ = m["id"].(string)
	if id == "" {
		t.Fatalf("created user has no id: %s", r.body)
	}
	return id, r.header.Get("ETag")
}

// createGroup creates a group with the given member ids.
func (f *fixture) createGroup(t testing.TB, root, name string, members ...string) (id, version string) {
	t.Helper()
	ms := make([]string, len(members))
	for i, m := range members {
		ms[i] = `{"value":"` + m + `"}`
	}
	r := f.mustDo(t, req{method: "POST", path: root + "/Groups", token: adminToken,
		body: `{"schemas":["` + scim.GroupSchema + `"],"displayName":"` + name + `","members":[` + strings.Join(ms, ",") + `]}`}, http.StatusCreated)
	id, _ = r.json(t)["id"].(string)
	return id, r.header.Get("ETag")
}

// checkError checks that r is an RFC 7644 §3.12 error with the given status
// and scimType ("" for none).
func checkError(t testing.TB, r response, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("error Content-Type = %q, want application/scim+json", ct)
	}
	m := r.json(t)
	if got, ok := m["status"].(string); !ok || got != itoa(status) {
		t.Errorf("error status = %#v, want the string %q", m["status"], itoa(status))
	}
	schemas, _ := m["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.ErrorSchema {
		t.Errorf("error schemas = %v, want [%s]", m["schemas"], scim.ErrorSchema)
	}
	got, _ := m["scimType"].(string)
	if got != scimType {
		t.Errorf("scimType = %q, want %q\n%s", got, scimType, r.body)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("error without detail: %s", r.body)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// str returns the string at a dotted path of a decoded JSON object.
func str(m map[string]any, path string) string {
	var v any = m
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = obj[part]
	}
	s, _ := v.(string)
	return s
}
