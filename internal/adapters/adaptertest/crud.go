package adaptertest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// checkMeta checks the meta every returned resource carries (RFC 7643 §3.1).
func checkMeta(t *testing.T, what string, r scim.Resource, rt *scim.ResourceType) {
	t.Helper()
	if got := str(r, "meta.resourceType"); got != rt.ID {
		t.Errorf("%s: meta.resourceType = %q, want %q", what, got, rt.ID)
	}
	for _, p := range []string{"meta.created", "meta.lastModified"} {
		if _, err := time.Parse(time.RFC3339Nano, str(r, p)); err != nil {
			t.Errorf("%s: %s = %q, want an RFC 3339 date-time: %v", what, p, str(r, p), err)
		}
	}
	if v := r.Version(); len(v) < 4 || v[:3] != `W/"` || v[len(v)-1] != '"' {
		t.Errorf("%s: meta.version = %q, want a weak ETag W/\"...\"", what, v)
	}
}

func testCreateThenGet(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	created := x.user("bjensen", fmt.Sprintf(`"externalId": "bj-1", %q: "Babs Jensen",
		"name": {"givenName": "Barbara", "familyName": "Jensen"}, "active": true,
		"emails": [{"value": %q, "type": "work", "primary": true}]`, dn, x.email("bjensen")))
	checkMeta(t, "Create", created, x.users)
	got := x.get(x.users, created.ID())
	checkMeta(t, "Get", got, x.users)
	if got.ID() != created.ID() || got.Version() != created.Version() {
		t.Errorf("Get = id %q version %q, want %q %q", got.ID(), got.Version(), created.ID(), created.Version())
	}
	for path, want := range map[string]string{
		"userName": x.un("bjensen"), "externalId": "bj-1", dn: "Babs Jensen",
		"name.givenName": "Barbara", "name.familyName": "Jensen",
	} {
		if s := str(got, path); s != want {
			t.Errorf("Get %s = %q, want %q", path, s, want)
		}
	}
	if v, _ := got.Get(scim.ParsePath("active")); v != true {
		t.Errorf("Get active = %v, want true", v)
	}
	if e := element(got, "emails", x.email("bjensen")); e == nil || e["type"] != "work" || e["primary"] != true {
		t.Errorf("Get emails = %v, want the work email, primary", got["emails"])
	}
	if schemas, _ := got["schemas"].([]any); !slices.Contains(schemas, any(scim.UserSchema)) {
		t.Errorf("Get schemas = %v, want it to hold %s", got["schemas"], scim.UserSchema)
	}
	if str(got, "meta.created") != str(created, "meta.created") {
		t.Errorf("Get meta.created = %q, want %q as created", str(got, "meta.created"), str(created, "meta.created"))
	}
}

func testCreateIgnoresReadOnly(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	// RFC 7644 §3.3: id is assigned by the service provider, meta and other
	// read-only attributes a client sends are ignored.
	r := x.user("ro", `"id": "client-chosen", "meta": {"version": "W/\"client\"", "created": "1999-01-01T00:00:00Z"}`)
	if r.ID() == "client-chosen" {
		t.Errorf("Create kept the client's id %q", r.ID())
	}
	if r.Version() == `W/"client"` || str(r, "meta.created") == "1999-01-01T00:00:00Z" {
		t.Errorf("Create kept the client's meta: %v", r["meta"])
	}
	if _, err := x.e.Get(t.Context(), x.users, "client-chosen", engine.Projection{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get client-chosen: %v, want 404", err)
	}
}

func testCreateDuplicate(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("bjensen", "")
	for _, name := range []string{"bjensen", "BJensen"} {
		_, err := x.e.Create(t.Context(), x.users, res(t, x.userJSON(name, "")), engine.Projection{})
		// RFC 7643 §4.1.1: userName is unique and case-insensitive.
		wantError(t, "Create duplicate "+name, err, http.StatusConflict, scim.Uniqueness)
	}
	if n := len(x.all(x.users)); n != 1 {
		t.Errorf("after duplicate creates: %d users, want 1", n)
	}
}

func testGetMissing(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	rts := []*scim.ResourceType{x.users}
	if x.groups != nil {
		rts = append(rts, x.groups)
	}
	for _, rt := range rts {
		_, err := x.e.Get(t.Context(), rt, "does-not-exist", engine.Projection{})
		if !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("Get %s missing: %v, want errors.Is ErrNotFound", rt.ID, err)
		}
		wantError(t, "Get "+rt.ID+" missing", err, http.StatusNotFound, "")
		err = x.e.Delete(t.Context(), rt, "does-not-exist", "")
		wantError(t, "Delete "+rt.ID+" missing", err, http.StatusNotFound, "")
	}
}

func testReplaceUser(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	ti := x.alt("title", dn)
	nn := x.alt("nickName", dn, ti)
	u := x.user("bjensen", fmt.Sprintf(`%q: "Babs", %q: "Tour Guide", %q: "B"`, dn, ti, nn))
	r, err := x.e.Replace(t.Context(), x.users, u.ID(),
		res(t, x.userJSON("bjensen", fmt.Sprintf(`%q: "Barbara Jensen", %q: "Manager"`, dn, ti))), "", engine.Projection{})
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	got := x.get(x.users, u.ID())
	for _, r := range []scim.Resource{r, got} {
		if str(r, dn) != "Barbara Jensen" || str(r, ti) != "Manager" {
			t.Errorf("after Replace: %s %q %s %q, want the new values", dn, str(r, dn), ti, str(r, ti))
		}
		// RFC 7644 §3.5.1: PUT replaces; an attribute left out is cleared.
		if has(r, nn) {
			t.Errorf("after Replace: %s = %q, want it cleared", nn, str(r, nn))
		}
		if r.ID() != u.ID() || str(r, "meta.created") != str(u, "meta.created") {
			t.Errorf("after Replace: id %q created %q, want %q %q kept", r.ID(), str(r, "meta.created"), u.ID(), str(u, "meta.created"))
		}
	}
	checkMeta(t, "Replace", r, x.users)
}

func testReplaceMissing(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	_, err := x.e.Replace(t.Context(), x.users, "does-not-exist", res(t, x.userJSON("nobody", "")), "", engine.Projection{})
	wantError(t, "Replace missing", err, http.StatusNotFound, "")
}

func testReplaceTakenUserName(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("alice", "")
	bob := x.user("bob", "")
	_, err := x.e.Replace(t.Context(), x.users, bob.ID(), res(t, x.userJSON("ALICE", "")), "", engine.Projection{})
	wantError(t, "Replace to a taken userName", err, http.StatusConflict, scim.Uniqueness)
	if got := x.str(x.get(x.users, bob.ID()), "userName"); got != "bob" {
		t.Errorf("after failed Replace: userName %q, want bob", got)
	}
	// Changing only the case of one's own userName is no conflict.
	if _, err := x.e.Replace(t.Context(), x.users, bob.ID(), res(t, x.userJSON("Bob", "")), "", engine.Projection{}); err != nil {
		t.Errorf("Replace bob with Bob: %v", err)
	}
}

func testDeleteUser(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("gone", "")
	x.user("kept", "")
	if err := x.e.Delete(t.Context(), x.users, u.ID(), ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := x.e.Get(t.Context(), x.users, u.ID(), engine.Projection{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want 404", err)
	}
	wantError(t, "Delete twice", x.e.Delete(t.Context(), x.users, u.ID(), ""), http.StatusNotFound, "")
	if got := x.names(x.all(x.users), "userName"); !equal(got, []string{"kept"}) {
		t.Errorf("users after Delete = %v, want [kept]", got)
	}
	// The userName is free again.
	x.user("gone", "")
}

// testResultsAreCopies checks the adapter hands out copies: a caller (the
// engine's projection, a cache) that changes a result changes nothing stored.
func testResultsAreCopies(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("copy", fmt.Sprintf(`"name": {"givenName": "Orig"}, "emails": [{"value": %q}]`, x.workEmail("copy", "a@example.com")))
	ctx := t.Context()
	nEmails := len(values(u, "emails", "value")) // a vendor may add the work email
	for i := range 2 {
		r, err := a.Get(ctx, x.users, u.ID())
		if err != nil {
			t.Fatalf("adapter Get: %v", err)
		}
		if i == 1 {
			if str(r, "name.givenName") != "Orig" || x.str(r, "userName") != "copy" || len(values(r, "emails", "value")) != nEmails {
				t.Fatalf("stored resource changed through a returned copy: %v", r)
			}
			break
		}
		r["userName"] = "changed"
		r["name"].(map[string]any)["givenName"] = "Changed"
		r["emails"] = append(r["emails"].([]any), map[string]any{"value": "b@example.com"})
		r.Meta()["version"] = "W/\"x\""
	}
	page, err := a.List(ctx, x.users, adapters.Query{StartIndex: 1, Count: 10})
	if err != nil || len(page.Resources) == 0 {
		t.Fatalf("adapter List: %v, %v", page, err)
	}
	page.Resources[0]["userName"] = "changed"
	if got := x.str(x.get(x.users, u.ID()), "userName"); got != "copy" {
		t.Errorf("stored userName changed through a List result: %q", got)
	}
}

func testGroupCRUD(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	aliceName := ""
	if x.need("member display from displayName", "displayName") {
		aliceName = `"displayName": "Alice Wong"`
	}
	alice := x.user("alice", aliceName)
	bob := x.user("bob", "")
	g := x.group("Admins", alice.ID())
	checkMeta(t, "Create Group", g, x.groups)
	got := x.get(x.groups, g.ID())
	if str(got, "displayName") != "Admins" {
		t.Errorf("Get Group displayName = %q, want Admins", str(got, "displayName"))
	}
	m := element(got, "members", alice.ID())
	if m == nil {
		t.Fatalf("Get Group members = %v, want alice", got["members"])
	}
	// RFC 7643 §4.2: members carry type, and display is read-only and filled
	// by the service provider.
	if m["type"] != "User" {
		t.Errorf("member type = %v, want User", m["type"])
	}
	if m["display"] != "Alice Wong" && m["display"] != x.un("alice") {
		t.Errorf("member display = %v, want Alice Wong or %s", m["display"], x.un("alice"))
	}

	// A group can be a member of another group.
	parent := x.group("Everyone", bob.ID(), g.ID())
	if m := element(x.get(x.groups, parent.ID()), "members", g.ID()); m == nil || m["type"] != "Group" {
		t.Errorf("nested member = %v, want type Group", m)
	}

	r, err := x.e.Replace(t.Context(), x.groups, g.ID(), res(t, groupJSON("Administrators", bob.ID())), "", engine.Projection{})
	if err != nil {
		t.Fatalf("Replace Group: %v", err)
	}
	if str(r, "displayName") != "Administrators" || !equal(values(r, "members", "value"), []string{bob.ID()}) {
		t.Errorf("after Replace Group: %v, want Administrators with bob", r)
	}
	if err := x.e.Delete(t.Context(), x.groups, g.ID(), ""); err != nil {
		t.Fatalf("Delete Group: %v", err)
	}
	if _, err := x.e.Get(t.Context(), x.groups, g.ID(), engine.Projection{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get Group after Delete: %v, want 404", err)
	}
	// The deleted group is no longer a member of the parent.
	if got := values(x.get(x.groups, parent.ID()), "members", "value"); !equal(got, []string{bob.ID()}) {
		t.Errorf("parent members after deleting a member group = %v, want [bob]", got)
	}
}

func testGroupMemberMustExist(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	_, err := x.e.Create(t.Context(), x.groups, res(t, groupJSON("Ghosts", "no-such-user")), engine.Projection{})
	wantError(t, "Create Group with a missing member", err, http.StatusBadRequest, scim.InvalidValue)
	if n := len(x.all(x.groups)); n != 0 {
		t.Errorf("after failed Create: %d groups, want 0", n)
	}
	g := x.group("Real")
	_, err = x.patch(x.groups, g.ID(), `[{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]`, "")
	wantError(t, "Patch add a missing member", err, http.StatusBadRequest, scim.InvalidValue)
}

func testGroupMembershipInUserGroups(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	u := x.user("member", "")
	other := x.user("other", "")
	g1 := x.group("One", u.ID())
	g2 := x.group("Two", u.ID(), other.ID())

	got := x.get(x.users, u.ID())
	if ids := values(got, "groups", "value"); !equal(ids, sorted(g1.ID(), g2.ID())) {
		t.Fatalf("User.groups = %v, want [%s %s]", got["groups"], g1.ID(), g2.ID())
	}
	if e := element(got, "groups", g1.ID()); e["display"] != "One" {
		t.Errorf("User.groups display = %v, want One", e["display"])
	}
	if e := element(got, "groups", g1.ID()); e["type"] != nil && e["type"] != "direct" {
		t.Errorf("User.groups type = %v, want direct", e["type"])
	}

	// Removing the membership on the group shows on the user.
	x.mustPatch(x.groups, g1.ID(), `[{"op": "remove", "path": "members[value eq \"`+u.ID()+`\"]"}]`)
	if ids := values(x.get(x.users, u.ID()), "groups", "value"); !equal(ids, []string{g2.ID()}) {
		t.Errorf("User.groups after member removal = %v, want [%s]", ids, g2.ID())
	}
	// groups is read-only (RFC 7643 §4.1.2): a PUT that sends it changes
	// nothing, a PATCH that targets it fails.
	r, err := x.e.Replace(t.Context(), x.users, u.ID(),
		res(t, x.userJSON("member", `"groups": [{"value": "`+g1.ID()+`"}]`)), "", engine.Projection{})
	if err != nil {
		t.Fatalf("Replace with groups: %v", err)
	}
	if ids := values(r, "groups", "value"); !equal(ids, []string{g2.ID()}) {
		t.Errorf("User.groups after PUT with groups = %v, want [%s] unchanged", ids, g2.ID())
	}
	_, err = x.patch(x.users, u.ID(), `[{"op": "add", "path": "groups", "value": [{"value": "`+g1.ID()+`"}]}]`, "")
	wantError(t, "Patch User.groups", err, http.StatusBadRequest, scim.Mutability)
}

func testDeleteUserLeavesGroups(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	u := x.user("leaver", "")
	stay := x.user("stayer", "")
	g := x.group("Team", u.ID(), stay.ID())
	if err := x.e.Delete(t.Context(), x.users, u.ID(), ""); err != nil {
		t.Fatalf("Delete user: %v", err)
	}
	if got := values(x.get(x.groups, g.ID()), "members", "value"); !equal(got, []string{stay.ID()}) {
		t.Errorf("members after deleting a member = %v, want [%s]", got, stay.ID())
	}
}

func testDeleteGroupLeavesUserGroups(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	u := x.user("member", "")
	g := x.group("Doomed", u.ID())
	keep := x.group("Kept", u.ID())
	if err := x.e.Delete(t.Context(), x.groups, g.ID(), ""); err != nil {
		t.Fatalf("Delete group: %v", err)
	}
	if got := values(x.get(x.users, u.ID()), "groups", "value"); !equal(got, []string{keep.ID()}) {
		t.Errorf("User.groups after deleting a group = %v, want [%s]", got, keep.ID())
	}
}
