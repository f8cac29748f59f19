package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// recorder is the memory store seen through a decorator that records the
// List queries it answers and can run a hook before each write. It embeds
// the Adapter interface only, so it never offers Patcher: the engine must
// emulate PATCH over it.
type recorder struct {
	adapters.Adapter
	caps adapters.Capabilities

	mu           sync.Mutex
	lists        []adapters.Query
	gets         int
	beforeWrite  func(ctx context.Context, id string) // may be nil
	replaceMatch []string                             // ifMatch of each Replace
}

func newRecorder(a adapters.Adapter) *recorder {
	return &recorder{Adapter: a, caps: a.Capabilities()}
}

func (r *recorder) Capabilities() adapters.Capabilities { return r.caps }

func (r *recorder) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	r.mu.Lock()
	r.lists = append(r.lists, q)
	r.mu.Unlock()
	return r.Adapter.List(ctx, rt, q)
}

func (r *recorder) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	r.mu.Lock()
	r.gets++
	r.mu.Unlock()
	return r.Adapter.Get(ctx, rt, id)
}

func (r *recorder) Replace(ctx context.Context, rt *scim.ResourceType, id string, res scim.Resource, ifMatch string) (scim.Resource, error) {
	r.mu.Lock()
	hook := r.beforeWrite
	r.replaceMatch = append(r.replaceMatch, ifMatch)
	r.mu.Unlock()
	if hook != nil {
		hook(ctx, id)
	}
	return r.Adapter.Replace(ctx, rt, id, res, ifMatch)
}

func (r *recorder) listCalls() []adapters.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lists)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists, r.gets, r.replaceMatch = nil, 0, nil
}

func jsonRes(t testing.TB, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

func mkUser(t testing.TB, e *engine.Engine, userName, extra string) scim.Resource {
	t.Helper()
	body := fmt.Sprintf(`{"schemas": [%q], "userName": %q`, scim.UserSchema, userName)
	if extra != "" {
		body += ", " + extra
	}
	r, err := e.Create(context.Background(), scim.UserType, jsonRes(t, body+"}"), engine.Projection{})
	if err != nil {
		t.Fatalf("Create %s: %v", userName, err)
	}
	return r
}

func wantStatus(t *testing.T, what string, err error, status int, st scim.ScimType) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != status || (st != "" && se.ScimType != st) {
		t.Errorf("%s: error %v, want %d %s", what, err, status, st)
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		in, want engine.Options
	}{
		{engine.Options{}, engine.Options{DefaultPageSize: 100, MaxPageSize: 1000, BulkMaxOperations: 1000, BulkMaxPayload: 1 << 20}},
		{engine.Options{DefaultPageSize: -1, MaxPageSize: -5, BulkMaxOperations: -1, BulkMaxPayload: -1},
			engine.Options{DefaultPageSize: 100, MaxPageSize: 1000, BulkMaxOperations: 1000, BulkMaxPayload: 1 << 20}},
		{engine.Options{DefaultPageSize: 500, MaxPageSize: 50, BulkMaxOperations: 3, BulkMaxPayload: 99},
			engine.Options{DefaultPageSize: 50, MaxPageSize: 50, BulkMaxOperations: 3, BulkMaxPayload: 99}},
	}
	for _, tt := range tests {
		if got := engine.New(memory.New(), tt.in).Options(); got != tt.want {
			t.Errorf("New(%+v).Options() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestResourceTypes(t *testing.T) {
	e := engine.New(memory.New(), engine.Options{})
	var got []string
	for _, rt := range e.ResourceTypes() {
		got = append(got, rt.ID)
	}
	if strings.Join(got, ",") != "User,Group" {
		t.Errorf("ResourceTypes() = %v, want User,Group", got)
	}
	for id, want := range map[string]*scim.ResourceType{"User": scim.UserType, "group": scim.GroupType, "Device": nil} {
		if got := e.ResourceType(id); got != want {
			t.Errorf("ResourceType(%q) = %v, want %v", id, got, want)
		}
	}
	// A target without Groups does not serve them.
	rec := newRecorder(memory.New())
	rec.caps.ResourceTypes = []*scim.ResourceType{scim.UserType}
	if e := engine.New(rec, engine.Options{}); e.ResourceType("Group") != nil || len(e.ResourceTypes()) != 1 {
		t.Errorf("users-only target serves %v", e.ResourceTypes())
	}
}

func TestCreateValidatesAndProjects(t *testing.T) {
	e := engine.New(memory.New(), engine.Options{})
	ctx := t.Context()
	_, err := e.Create(ctx, scim.UserType, jsonRes(t, `{"userName": "u", "shoeSize": 44}`), engine.Projection{})
	wantStatus(t, "Create with an unknown attribute", err, http.StatusBadRequest, scim.InvalidSyntax)
	_, err = e.Create(ctx, scim.UserType, jsonRes(t, `{"displayName": "no userName"}`), engine.Projection{})
	wantStatus(t, "Create without userName", err, http.StatusBadRequest, scim.InvalidValue)

	// Entra ID's string booleans and a differently cased name reach the
	// adapter canonical.
	r, err := e.Create(ctx, scim.UserType, jsonRes(t, `{"USERNAME": "u", "active": "True", "password": "p"}`),
		engine.Projection{Attributes: []string{"active"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if r["active"] != true || r["userName"] != nil || r["password"] != nil || r.ID() == "" {
		t.Errorf("Create attributes=active = %v, want id and active=true only", r)
	}
	got, err := e.Get(ctx, scim.UserType, r.ID(), engine.Projection{})
	if err != nil || got["userName"] != "u" || got["active"] != true {
		t.Errorf("Get after Create = %v, %v", got, err)
	}
}

// TestETagEmulation runs writes with a stale If-Match against the store with
// native ETags off: the engine's own read-compare must refuse them.
func TestETagEmulation(t *testing.T) {
	rec := newRecorder(memory.New(memory.WithoutNative()))
	e := engine.New(rec, engine.Options{})
	ctx := t.Context()
	u := mkUser(t, e, "etag", `"displayName": "one"`)
	cur, err := e.Replace(ctx, scim.UserType, u.ID(), jsonRes(t, `{"userName": "etag", "displayName": "two"}`), u.Version(), engine.Projection{})
	if err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	stale := u.Version()
	_, err = e.Replace(ctx, scim.UserType, u.ID(), jsonRes(t, `{"userName": "etag", "displayName": "three"}`), stale, engine.Projection{})
	wantStatus(t, "Replace with a stale version", err, http.StatusPreconditionFailed, "")
	err = e.Delete(ctx, scim.UserType, u.ID(), stale)
	wantStatus(t, "Delete with a stale version", err, http.StatusPreconditionFailed, "")
	// Weak and strong forms, a list and * all compare as RFC 7232 does for
	// weak tags.
	strong := strings.TrimPrefix(cur.Version(), "W/")
	for _, tag := range []string{strong, `W/"zzz", ` + cur.Version(), "*"} {
		if _, err := e.Replace(ctx, scim.UserType, u.ID(), jsonRes(t, `{"userName": "etag", "displayName": "two"}`), tag, engine.Projection{}); err != nil {
			t.Errorf("Replace If-Match %s: %v", tag, err)
		}
	}
	if err := e.Delete(ctx, scim.UserType, u.ID(), cur.Version()); err != nil {
		t.Errorf("Delete with the current version: %v", err)
	}
	// Without If-Match no read is needed.
	v := mkUser(t, e, "noread", "")
	rec.reset()
	if _, err := e.Replace(ctx, scim.UserType, v.ID(), jsonRes(t, `{"userName": "noread"}`), "", engine.Projection{}); err != nil {
		t.Fatal(err)
	}
	if rec.gets != 0 {
		t.Errorf("Replace without If-Match read the resource %d times, want 0", rec.gets)
	}
}

func TestETagMatches(t *testing.T) {
	tests := []struct {
		ifMatch, current string
		want             bool
	}{
		{`W/"3"`, `W/"3"`, true},
		{`"3"`, `W/"3"`, true},
		{`W/"3"`, `"3"`, true},
		{`W/"2"`, `W/"3"`, false},
		{`*`, `W/"3"`, true},
		{`W/"1", W/"3"`, `W/"3"`, true},
		{` , `, `W/"3"`, false},
		{`W/"3"`, ``, false},
	}
	for _, tt := range tests {
		if got := engine.ETagMatches(tt.ifMatch, tt.current); got != tt.want {
			t.Errorf("ETagMatches(%q, %q) = %v, want %v", tt.ifMatch, tt.current, got, tt.want)
		}
	}
}

// immutableUser is the User type with a vendor extension holding an
// immutable attribute, served by the memory store (which keeps extension
// objects as given).
var immutableUser = &scim.ResourceType{
	ID: "User", Name: "User", Endpoint: "/Users", Schema: scim.UserSchemaDef,
	Extensions: []*scim.Schema{{ID: "urn:example:vendor:1.0:User", Attributes: []*scim.Attribute{
		{Name: "badge", Type: scim.String, Mutability: scim.Immutable, Returned: scim.ByDefault},
	}}},
}

func TestReplaceImmutable(t *testing.T) {
	rec := newRecorder(memory.New())
	rec.caps.ResourceTypes = []*scim.ResourceType{immutableUser}
	e := engine.New(rec, engine.Options{})
	ctx := t.Context()
	u, err := e.Create(ctx, immutableUser, jsonRes(t, `{"userName": "imm", "urn:example:vendor:1.0:User": {"badge": "B-1"}}`), engine.Projection{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, err = e.Replace(ctx, immutableUser, u.ID(), jsonRes(t, `{"userName": "imm", "urn:example:vendor:1.0:User": {"badge": "B-2"}}`), "", engine.Projection{})
	wantStatus(t, "Replace changing an immutable attribute", err, http.StatusBadRequest, scim.Mutability)
	r, err := e.Replace(ctx, immutableUser, u.ID(), jsonRes(t, `{"userName": "imm", "displayName": "D"}`), "", engine.Projection{})
	if err != nil {
		t.Fatalf("Replace omitting the immutable attribute: %v", err)
	}
	if ext, _ := r["urn:example:vendor:1.0:User"].(map[string]any); ext["badge"] != "B-1" || r["displayName"] != "D" {
		t.Errorf("Replace omitting badge = %v, want badge kept and displayName set", r)
	}
}

// failing is an adapter whose every call fails with a cause that is not a
// *scim.Error, as a vendor's transport error would.
type failing struct{ adapters.Adapter }

var errVendor = errors.New("vendor: connection reset")

func (failing) Get(context.Context, *scim.ResourceType, string) (scim.Resource, error) {
	return nil, errVendor
}
func (failing) List(context.Context, *scim.ResourceType, adapters.Query) (adapters.Page, error) {
	return adapters.Page{}, errVendor
}
func (failing) Create(context.Context, *scim.ResourceType, scim.Resource) (scim.Resource, error) {
	return nil, errVendor
}
func (failing) Replace(context.Context, *scim.ResourceType, string, scim.Resource, string) (scim.Resource, error) {
	return nil, errVendor
}
func (failing) Delete(context.Context, *scim.ResourceType, string, string) error { return errVendor }

func TestAdapterErrorsStayInternal(t *testing.T) {
	e := engine.New(failing{memory.New(memory.WithoutNative())}, engine.Options{})
	ctx := t.Context()
	ok := jsonRes(t, `{"userName": "u"}`)
	_, errGet := e.Get(ctx, scim.UserType, "x", engine.Projection{})
	_, errSearch := e.Search(ctx, scim.UserType, engine.Query{Count: -1})
	_, errCreate := e.Create(ctx, scim.UserType, ok, engine.Projection{})
	_, errReplace := e.Replace(ctx, scim.UserType, "x", ok, "", engine.Projection{})
	_, errPatch := e.Patch(ctx, scim.UserType, "x", []scim.PatchOp{{Op: "remove", Path: "title"}}, "", engine.Projection{})
	errDelete := e.Delete(ctx, scim.UserType, "x", "")
	for name, err := range map[string]error{"Get": errGet, "Search": errSearch, "Create": errCreate,
		"Replace": errReplace, "Patch": errPatch, "Delete": errDelete} {
		if !errors.Is(err, errVendor) {
			t.Errorf("%s: %v, want it to wrap the vendor error", name, err)
		}
		if se := scim.AsError(err); se.Status != http.StatusInternalServerError {
			t.Errorf("%s: renders as %d, want 500", name, se.Status)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "engine: ") {
			t.Errorf("%s: %q, want the engine's context prefix", name, err)
		}
	}
}
