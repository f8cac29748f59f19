package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

var setDisplay = []scim.PatchOp{{Op: "replace", Path: "displayName", Value: "Patched"}}

// concurrentTitle returns a hook that, before each of the first n writes
// through rec, changes the user's title behind the engine's back, as
// another writer would.
func concurrentTitle(t *testing.T, rec *recorder, n int) func(ctx context.Context, id string) {
	writes := 0
	return func(ctx context.Context, id string) {
		if writes++; writes > n {
			return
		}
		cur, err := rec.Adapter.Get(ctx, scim.UserType, id)
		if err != nil {
			t.Errorf("concurrent Get: %v", err)
			return
		}
		// A new value each time: a write that changes nothing keeps the
		// version, and would race no one.
		cur["title"] = fmt.Sprintf("Concurrent %d", writes)
		if _, err := rec.Adapter.Replace(ctx, scim.UserType, id, cur, ""); err != nil {
			t.Errorf("concurrent Replace: %v", err)
		}
	}
}

func TestPatchEmulated(t *testing.T) {
	// The recorder hides the store's Patcher, so PATCH is emulated; the
	// store's own ETags guard the Replace.
	rec := newRecorder(memory.New())
	rec.caps.Patch = false
	e := engine.New(rec, engine.Options{})
	ctx := t.Context()
	u := mkUser(t, e, "p", `"displayName": "Before", "title": "T"`)

	rec.reset()
	r, err := e.Patch(ctx, scim.UserType, u.ID(), setDisplay, "", engine.Projection{Attributes: []string{"displayName"}})
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if r["displayName"] != "Patched" || r["title"] != nil {
		t.Errorf("Patch attributes=displayName = %v", r)
	}
	if len(rec.replaceMatch) != 1 || rec.replaceMatch[0] != u.Version() {
		t.Errorf("Replace ifMatch = %q, want the version read, %q", rec.replaceMatch, u.Version())
	}

	// A lost race without If-Match is retried from a fresh read: both
	// changes survive.
	rec.beforeWrite = concurrentTitle(t, rec, 2)
	r, err = e.Patch(ctx, scim.UserType, u.ID(), []scim.PatchOp{{Op: "replace", Path: "nickName", Value: "N"}}, "", engine.Projection{})
	if err != nil {
		t.Fatalf("Patch racing two writers: %v", err)
	}
	if r["nickName"] != "N" || r["title"] != "Concurrent 2" {
		t.Errorf("after retries: nickName %v title %v, want N and the second concurrent title", r["nickName"], r["title"])
	}

	// Losing every round ends with the 412, after a bounded number.
	rec.reset()
	rec.beforeWrite = concurrentTitle(t, rec, 1000)
	_, err = e.Patch(ctx, scim.UserType, u.ID(), setDisplay, "", engine.Projection{})
	wantStatus(t, "Patch losing every race", err, http.StatusPreconditionFailed, "")
	if n := len(rec.replaceMatch); n != 5 {
		t.Errorf("Patch made %d rounds, want 5 (the engine's patchAttempts)", n)
	}

	// With the caller's If-Match, a lost race is the caller's 412 at once.
	rec.beforeWrite = nil
	cur, err := e.Get(ctx, scim.UserType, u.ID(), engine.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	rec.reset()
	rec.beforeWrite = concurrentTitle(t, rec, 1)
	_, err = e.Patch(ctx, scim.UserType, u.ID(), setDisplay, cur.Version(), engine.Projection{})
	wantStatus(t, "Patch with If-Match losing a race", err, http.StatusPreconditionFailed, "")
	if len(rec.replaceMatch) != 1 {
		t.Errorf("Patch with If-Match made %d rounds, want 1", len(rec.replaceMatch))
	}
	// A stale If-Match fails before any write.
	rec.reset()
	_, err = e.Patch(ctx, scim.UserType, u.ID(), setDisplay, `W/"stale"`, engine.Projection{})
	wantStatus(t, "Patch with a stale If-Match", err, http.StatusPreconditionFailed, "")
	if len(rec.replaceMatch) != 0 {
		t.Errorf("Patch with a stale If-Match wrote")
	}
}

func TestPatchEmulatedErrors(t *testing.T) {
	e := engine.New(memory.New(memory.WithoutNative()), engine.Options{})
	ctx := t.Context()
	u := mkUser(t, e, "p", `"emails": [{"value": "a@example.com", "type": "work"}]`)
	for _, tt := range []struct {
		name string
		ops  []scim.PatchOp
		st   scim.ScimType
	}{
		{"read-only", []scim.PatchOp{{Op: "replace", Path: "id", Value: "x"}}, scim.Mutability},
		{"unknown attribute", []scim.PatchOp{{Op: "replace", Path: "shoeSize", Value: 1}}, scim.InvalidPath},
		{"no target", []scim.PatchOp{{Op: "replace", Path: `emails[type eq "fax"].value`, Value: "x"}}, scim.NoTarget},
		{"wrong type", []scim.PatchOp{{Op: "replace", Path: "active", Value: "maybe"}}, scim.InvalidValue},
		{"required removed", []scim.PatchOp{{Op: "remove", Path: "userName"}}, ""},
	} {
		_, err := e.Patch(ctx, scim.UserType, u.ID(), tt.ops, "", engine.Projection{})
		wantStatus(t, tt.name, err, http.StatusBadRequest, tt.st)
	}
	got, err := e.Get(ctx, scim.UserType, u.ID(), engine.Projection{})
	if err != nil || got.Version() != u.Version() {
		t.Errorf("failed patches changed the resource: %v, %v", got, err)
	}
	_, err = e.Patch(ctx, scim.UserType, "missing", setDisplay, "", engine.Projection{})
	wantStatus(t, "Patch missing", err, http.StatusNotFound, "")
}

func TestPatchNative(t *testing.T) {
	// memory.New() implements Patcher and declares it.
	e := engine.New(memory.New(), engine.Options{})
	ctx := t.Context()
	u := mkUser(t, e, "n", `"displayName": "Before"`)
	r, err := e.Patch(ctx, scim.UserType, u.ID(), setDisplay, u.Version(), engine.Projection{ExcludedAttributes: []string{"meta"}})
	if err != nil {
		t.Fatalf("native Patch: %v", err)
	}
	if r["displayName"] != "Patched" || r["meta"] != nil {
		t.Errorf("native Patch excludedAttributes=meta = %v", r)
	}
	_, err = e.Patch(ctx, scim.UserType, u.ID(), setDisplay, u.Version(), engine.Projection{})
	wantStatus(t, "native Patch with a stale version", err, http.StatusPreconditionFailed, "")
}

// nativePatchNoETag is the memory store patching natively but declaring no
// native ETags, as a vendor with PATCH and without versions would.
type nativePatchNoETag struct{ *memory.Adapter }

func (a nativePatchNoETag) Capabilities() adapters.Capabilities {
	c := a.Adapter.Capabilities()
	c.ETag = false
	return c
}

func TestPatchNativeWithoutETag(t *testing.T) {
	e := engine.New(nativePatchNoETag{memory.New()}, engine.Options{})
	if c := e.Capabilities(); !c.Patch || c.ETag {
		t.Fatalf("Capabilities() = %+v, want Patch without ETag", c)
	}
	ctx := t.Context()
	u := mkUser(t, e, "n", `"displayName": "Before"`)
	_, err := e.Patch(ctx, scim.UserType, u.ID(), setDisplay, `W/"stale"`, engine.Projection{})
	wantStatus(t, "Patch with a stale If-Match", err, http.StatusPreconditionFailed, "")
	r, err := e.Patch(ctx, scim.UserType, u.ID(), setDisplay, u.Version(), engine.Projection{})
	if err != nil || r["displayName"] != "Patched" {
		t.Errorf("Patch with the current version = %v, %v", r, err)
	}
	_, err = e.Patch(ctx, scim.UserType, "missing", setDisplay, `W/"1"`, engine.Projection{})
	wantStatus(t, "Patch missing with If-Match", err, http.StatusNotFound, "")
}
