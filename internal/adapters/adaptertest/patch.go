package adaptertest

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func testPatchUserForms(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	// With email userNames, the primary work email is the userName, and a
	// vendor adds it when it is missing (Webex): the user has it from the
	// start, and the value paths below pick emails by value, not by type,
	// so that they leave it alone.
	own := ""
	if x.domain != "" {
		own = fmt.Sprintf(`, {"value": %q, "type": "work", "primary": true}`, x.email("patchy"))
	}
	u := x.user("patchy", `"displayName": "Old", "title": "Clerk", "active": true,
		"name": {"givenName": "Pat", "familyName": "Chee"},
		"emails": [{"value": "work@example.com", "type": "work"}, {"value": "home@example.com", "type": "home"}`+own+`]`)
	emails := func(vals ...string) string {
		if own != "" {
			vals = append(vals, x.email("patchy"))
		}
		slices.Sort(vals)
		return fmt.Sprint(vals)
	}
	steps := []struct {
		name  string
		ops   string
		check func(r scim.Resource) string // "" when right, else what is wrong
	}{
		{"add simple", `[{"op": "add", "path": "nickName", "value": "Patty"}]`, func(r scim.Resource) string {
			return want(str(r, "nickName"), "Patty")
		}},
		{"replace simple", `[{"op": "replace", "path": "displayName", "value": "New"}]`, func(r scim.Resource) string {
			return want(str(r, "displayName"), "New")
		}},
		{"remove simple", `[{"op": "remove", "path": "title"}]`, func(r scim.Resource) string {
			if has(r, "title") {
				return "title still present"
			}
			return ""
		}},
		{"replace boolean", `[{"op": "replace", "path": "active", "value": false}]`, func(r scim.Resource) string {
			if v, _ := r.Get(scim.ParsePath("active")); v != false {
				return fmt.Sprintf("active = %v, want false", v)
			}
			return ""
		}},
		{"replace sub-attribute", `[{"op": "replace", "path": "name.givenName", "value": "Patricia"}]`, func(r scim.Resource) string {
			return want(str(r, "name.givenName")+"/"+str(r, "name.familyName"), "Patricia/Chee")
		}},
		// RFC 7644 §3.5.2.1: add to a multi-valued attribute appends.
		{"add multi-valued", `[{"op": "add", "path": "emails", "value": [{"value": "other@example.com", "type": "other"}]}]`, func(r scim.Resource) string {
			return want(fmt.Sprint(values(r, "emails", "value")), emails("home@example.com", "other@example.com", "work@example.com"))
		}},
		{"replace value path sub-attribute", `[{"op": "replace", "path": "emails[value eq \"work@example.com\"].value", "value": "new-work@example.com"}]`, func(r scim.Resource) string {
			return want(fmt.Sprint(values(r, "emails", "value")), emails("home@example.com", "new-work@example.com", "other@example.com"))
		}},
		{"remove value path", `[{"op": "remove", "path": "emails[type eq \"home\" or type eq \"other\"]"}]`, func(r scim.Resource) string {
			return want(fmt.Sprint(values(r, "emails", "value")), emails("new-work@example.com"))
		}},
		// RFC 7644 §3.5.2.3: without a path, the value's attributes are
		// replaced; sub-attributes not given are left unchanged.
		{"replace without path", `[{"op": "replace", "value": {"displayName": "No Path", "name": {"familyName": "Path"}}}]`, func(r scim.Resource) string {
			return want(str(r, "displayName")+"/"+str(r, "name.givenName")+"/"+str(r, "name.familyName"), "No Path/Patricia/Path")
		}},
		{"add without path", `[{"op": "add", "value": {"title": "Boss", "emails": [{"value": "x@example.com"}]}}]`, func(r scim.Resource) string {
			return want(str(r, "title")+fmt.Sprint(values(r, "emails", "value")), "Boss"+emails("new-work@example.com", "x@example.com"))
		}},
		{"several ops, op in any case", `[{"op": "Replace", "path": "title", "value": "Chief"}, {"op": "REMOVE", "path": "nickName"}]`, func(r scim.Resource) string {
			return want(fmt.Sprintf("%s %v", str(r, "title"), has(r, "nickName")), "Chief false")
		}},
		{"remove multi-valued", `[{"op": "remove", "path": "emails"}]`, func(r scim.Resource) string {
			// A vendor whose userName is the primary work email may put
			// that one back; nothing else may stay.
			if has(r, "emails") && (own == "" || fmt.Sprint(values(r, "emails", "value")) != emails()) {
				return fmt.Sprintf("emails still present: %v", values(r, "emails", "value"))
			}
			return ""
		}},
	}
	for _, st := range steps {
		r, err := x.patch(x.users, u.ID(), st.ops, "")
		if err != nil {
			t.Fatalf("%s: Patch %s: %v", st.name, st.ops, err)
		}
		if msg := st.check(r); msg != "" {
			t.Errorf("%s: Patch result: %s", st.name, msg)
		}
		if msg := st.check(x.get(x.users, u.ID())); msg != "" {
			t.Errorf("%s: Get after Patch: %s", st.name, msg)
		}
	}
}

func want(got, want string) string {
	if got != want {
		return fmt.Sprintf("%q, want %q", got, want)
	}
	return ""
}

func testPatchExtension(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needEnterprise()
	boss := x.user("boss", `"displayName": "The Boss"`)
	u := x.user("emp", fmt.Sprintf(`%q: {"employeeNumber": "1", "costCenter": "CC"}`, ent))
	for _, st := range []struct {
		ops        string
		path, want string
	}{
		{fmt.Sprintf(`[{"op": "replace", "path": "%s:employeeNumber", "value": "42"}]`, ent), ent + ":employeeNumber", "42"},
		{fmt.Sprintf(`[{"op": "add", "path": "%s:manager.value", "value": %q}]`, ent, boss.ID()), ent + ":manager.value", boss.ID()},
		{fmt.Sprintf(`[{"op": "add", "value": {%q: {"department": "Sales"}}}]`, ent), ent + ":department", "Sales"},
		{fmt.Sprintf(`[{"op": "replace", "value": {"%s:division": "North"}}]`, ent), ent + ":division", "North"},
		{fmt.Sprintf(`[{"op": "remove", "path": "%s:costCenter"}]`, ent), ent + ":costCenter", ""},
	} {
		if _, err := x.patch(x.users, u.ID(), st.ops, ""); err != nil {
			t.Fatalf("Patch %s: %v", st.ops, err)
		}
		if got := str(x.get(x.users, u.ID()), st.path); got != st.want {
			t.Errorf("after Patch %s: %s = %q, want %q", st.ops, st.path, got, st.want)
		}
	}
	// Earlier values survive the path-less add (it merges, RFC 7644 §3.5.2.1).
	got := x.get(x.users, u.ID())
	if str(got, ent+":employeeNumber") != "42" {
		t.Errorf("employeeNumber = %q after later patches, want 42", str(got, ent+":employeeNumber"))
	}
	lr := x.search(x.users, engine.Query{Filter: ent + `:department eq "sales"`, Count: -1})
	if len(lr.Resources) != 1 || lr.Resources[0].ID() != u.ID() {
		t.Errorf("filter on the patched extension attribute: %v", x.names(lr.Resources, "userName"))
	}
}

func testPatchGroupMembers(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	u1, u2, u3 := x.user("one", ""), x.user("two", ""), x.user("three", "")
	g := x.group("Team")
	steps := []struct {
		name string
		ops  string
		want []string
	}{
		{"add members", fmt.Sprintf(`[{"op": "add", "path": "members", "value": [{"value": %q}, {"value": %q}]}]`, u1.ID(), u2.ID()),
			sorted(u1.ID(), u2.ID())},
		{"add an existing member", fmt.Sprintf(`[{"op": "add", "path": "members", "value": [{"value": %q}]}]`, u1.ID()),
			sorted(u1.ID(), u2.ID())},
		{"remove by value filter", fmt.Sprintf(`[{"op": "remove", "path": "members[value eq \"%s\"]"}]`, u1.ID()),
			sorted(u2.ID())},
		{"replace members", fmt.Sprintf(`[{"op": "replace", "path": "members", "value": [{"value": %q}, {"value": %q}]}]`, u3.ID(), u1.ID()),
			sorted(u1.ID(), u3.ID())},
		// Entra ID removes members with a value array and no filter.
		{"remove by value array", fmt.Sprintf(`[{"op": "Remove", "path": "members", "value": [{"value": %q}]}]`, u3.ID()),
			sorted(u1.ID())},
		{"add and remove together", fmt.Sprintf(`[{"op": "add", "path": "members", "value": [{"value": %q}]}, {"op": "remove", "path": "members[value eq \"%s\"]"}]`, u2.ID(), u1.ID()),
			sorted(u2.ID())},
		{"remove all", `[{"op": "remove", "path": "members"}]`, nil},
	}
	for _, st := range steps {
		if _, err := x.patch(x.groups, g.ID(), st.ops, ""); err != nil {
			t.Fatalf("%s: Patch: %v", st.name, err)
		}
		got := x.get(x.groups, g.ID())
		if ids := values(got, "members", "value"); !equal(ids, st.want) {
			t.Errorf("%s: members = %v, want %v", st.name, ids, st.want)
		}
		// User.groups follows.
		for _, u := range []scim.Resource{u1, u2, u3} {
			in := element(x.get(x.users, u.ID()), "groups", g.ID()) != nil
			if want := element(got, "members", u.ID()) != nil; in != want {
				t.Errorf("%s: %s in User.groups = %v, want %v", st.name, x.str(u, "userName"), in, want)
			}
		}
	}
	r := x.mustPatch(x.groups, g.ID(), `[{"op": "replace", "path": "displayName", "value": "Renamed"}]`)
	if str(r, "displayName") != "Renamed" {
		t.Errorf("rename group: %q", str(r, "displayName"))
	}
}

func testPatchErrors(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("err", `"emails": [{"value": "w@example.com", "type": "work"}]`)
	for _, tt := range []struct {
		name string
		ops  string
		want scim.ScimType
	}{
		// RFC 7644 §3.5.2.2: remove needs a path.
		{"remove without path", `[{"op": "remove"}]`, scim.NoTarget},
		// RFC 7644 §3.5.2.3: a value filter that matches nothing.
		{"replace unmatched value path", `[{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]`, scim.NoTarget},
		{"read-only id", `[{"op": "replace", "path": "id", "value": "new-id"}]`, scim.Mutability},
		{"read-only meta", `[{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}]`, scim.Mutability},
		{"unknown attribute", `[{"op": "replace", "path": "noSuchAttribute", "value": "x"}]`, scim.InvalidPath},
		{"unknown sub-attribute", `[{"op": "replace", "path": "name.noSuchSub", "value": "x"}]`, scim.InvalidPath},
		{"bad path syntax", `[{"op": "replace", "path": "emails[type eq", "value": "x"}]`, scim.InvalidPath},
		{"wrong value type", `[{"op": "replace", "path": "active", "value": "not-a-boolean"}]`, scim.InvalidValue},
	} {
		_, err := x.patch(x.users, u.ID(), tt.ops, "")
		wantError(t, tt.name, err, http.StatusBadRequest, tt.want)
	}
	if got := x.get(x.users, u.ID()); got.Version() != u.Version() {
		t.Errorf("failed patches changed the version: %s → %s", u.Version(), got.Version())
	}
}

func testPatchAtomic(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("atom", `"displayName": "Before", "emails": [{"value": "w@example.com", "type": "work"}]`)
	_, err := x.patch(x.users, u.ID(), `[
		{"op": "replace", "path": "displayName", "value": "After"},
		{"op": "add", "path": "nickName", "value": "N"},
		{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]`, "")
	wantError(t, "Patch with a failing last op", err, http.StatusBadRequest, scim.NoTarget)
	got := x.get(x.users, u.ID())
	if str(got, "displayName") != "Before" || has(got, "nickName") || got.Version() != u.Version() {
		t.Errorf("after a failed Patch: displayName %q nickName %v version %s; want Before, none, %s",
			str(got, "displayName"), got["nickName"], got.Version(), u.Version())
	}
	if x.groups == nil {
		return
	}
	g := x.group("G")
	_, err = x.patch(x.groups, g.ID(), fmt.Sprintf(`[
		{"op": "add", "path": "members", "value": [{"value": %q}]},
		{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]`, u.ID()), "")
	wantError(t, "Patch adding a missing member", err, http.StatusBadRequest, scim.InvalidValue)
	if got := x.get(x.groups, g.ID()); has(got, "members") && len(values(got, "members", "value")) > 0 {
		t.Errorf("after a failed member Patch: members = %v, want none", got["members"])
	}
	if has(x.get(x.users, u.ID()), "groups") {
		t.Errorf("after a failed member Patch the user shows groups")
	}
}

func testPatchMissing(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	_, err := x.patch(x.users, "does-not-exist", `[{"op": "replace", "path": "displayName", "value": "x"}]`, "")
	wantError(t, "Patch missing", err, http.StatusNotFound, "")
}

func testPatchUserNameConflict(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("taken", "")
	u := x.user("free", "")
	_, err := x.patch(x.users, u.ID(), fmt.Sprintf(`[{"op": "replace", "path": "userName", "value": %q}]`, x.un("TAKEN")), "")
	wantError(t, "Patch userName to a taken one", err, http.StatusConflict, scim.Uniqueness)
	if got := x.str(x.get(x.users, u.ID()), "userName"); got != "free" {
		t.Errorf("userName after failed Patch = %q, want free", got)
	}
}

func testVersionChanges(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("versioned", `"displayName": "v1"`)
	seen := map[string]bool{u.Version(): true}
	r, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("versioned", `"displayName": "v2"`)), "", engine.Projection{})
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if seen[r.Version()] {
		t.Errorf("Replace kept version %s", r.Version())
	}
	seen[r.Version()] = true
	if got := x.get(x.users, u.ID()).Version(); got != r.Version() {
		t.Errorf("Get after Replace: version %s, want %s", got, r.Version())
	}
	p := x.mustPatch(x.users, u.ID(), `[{"op": "replace", "path": "displayName", "value": "v3"}]`)
	if seen[p.Version()] {
		t.Errorf("Patch kept version %s", p.Version())
	}
	if got := x.get(x.users, u.ID()).Version(); got != p.Version() {
		t.Errorf("Get after Patch: version %s, want %s", got, p.Version())
	}
	if x.groups != nil {
		g := x.group("G")
		p := x.mustPatch(x.groups, g.ID(), fmt.Sprintf(`[{"op": "add", "path": "members", "value": [{"value": %q}]}]`, u.ID()))
		if p.Version() == g.Version() {
			t.Errorf("adding a member kept the group version %s", g.Version())
		}
	}
}

func testIfMatchMismatch(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("etag", `"displayName": "one"`)
	stale := u.Version()
	cur := x.mustPatch(x.users, u.ID(), `[{"op": "replace", "path": "displayName", "value": "two"}]`).Version()
	for _, tag := range []string{stale, `W/"no-such-version"`} {
		_, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("etag", `"displayName": "three"`)), tag, engine.Projection{})
		wantError(t, "Replace If-Match "+tag, err, http.StatusPreconditionFailed, "")
		_, err = x.patch(x.users, u.ID(), `[{"op": "replace", "path": "displayName", "value": "three"}]`, tag)
		wantError(t, "Patch If-Match "+tag, err, http.StatusPreconditionFailed, "")
		err = x.e.Delete(t.Context(), x.users, u.ID(), tag)
		wantError(t, "Delete If-Match "+tag, err, http.StatusPreconditionFailed, "")
	}
	got := x.get(x.users, u.ID())
	if str(got, "displayName") != "two" || got.Version() != cur {
		t.Errorf("after refused writes: displayName %q version %s, want two %s", str(got, "displayName"), got.Version(), cur)
	}
}

func testIfMatchCurrent(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("etag", `"displayName": "one"`)
	r, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("etag", `"displayName": "two"`)), u.Version(), engine.Projection{})
	if err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	p, err := x.patch(x.users, u.ID(), `[{"op": "replace", "path": "displayName", "value": "three"}]`, r.Version())
	if err != nil {
		t.Fatalf("Patch with the current version: %v", err)
	}
	if err := x.e.Delete(t.Context(), x.users, u.ID(), p.Version()); err != nil {
		t.Fatalf("Delete with the current version: %v", err)
	}
}
