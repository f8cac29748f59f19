package adaptertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// multiForm is what PatchUserForms does to a multi-valued attribute: the
// elements the user starts with, and for each step the operation's value
// and the values expected after it.
type multiForm struct {
	attr       string // "emails" or "phoneNumbers"
	create     string // JSON array
	add        string // JSON array
	addWant    []string
	replace    string // value path of a value sub-attribute
	replaced   string // its new value
	replWant   []string
	remove     string // value path that matches two types
	rmWant     []string
	noPath     string // JSON array added without a path
	noPathWant []string
	keep       []string // values the target holds on its own: left by remove
}

// userForms returns the multiForm for the target: emails of the types
// work, home and other, or, where a user has only its work email,
// phoneNumbers of two types; ok is false when there is neither.
func userForms(x *target) (f multiForm, ok bool) {
	if !x.oneEmail {
		f = multiForm{
			attr:       "emails",
			create:     `[{"value": "work@example.com", "type": "work"}, {"value": "home@example.com", "type": "home"}]`,
			add:        `[{"value": "other@example.com", "type": "other"}]`,
			addWant:    []string{"home@example.com", "other@example.com", "work@example.com"},
			replace:    `emails[value eq "work@example.com"].value`,
			replaced:   "new-work@example.com",
			replWant:   []string{"home@example.com", "new-work@example.com", "other@example.com"},
			remove:     `emails[type eq "home" or type eq "other"]`,
			rmWant:     []string{"new-work@example.com"},
			noPath:     `[{"value": "x@example.com"}]`,
			noPathWant: []string{"new-work@example.com", "x@example.com"},
		}
		// With email userNames, the primary work email is the userName,
		// and a vendor adds it when it is missing (Webex): the user has it
		// from the start, and the value paths pick emails by value, not by
		// type, so that they leave it alone.
		if x.domain != "" {
			own := x.email("patchy")
			f.create = strings.TrimSuffix(f.create, "]") + fmt.Sprintf(`, {"value": %q, "type": "work", "primary": true}]`, own)
			f.keep = []string{own}
		}
		return f, true
	}
	a, b, ok := x.phoneTypes()
	if !ok {
		return multiForm{}, false
	}
	// One number of each type at any time: a vendor may hold no more
	// (RingCentral).
	return multiForm{
		attr:       "phoneNumbers",
		create:     fmt.Sprintf(`[{"value": "+15550100", "type": %q}]`, a),
		add:        fmt.Sprintf(`[{"value": "+15550101", "type": %q}]`, b),
		addWant:    []string{"+15550100", "+15550101"},
		replace:    `phoneNumbers[value eq "+15550100"].value`,
		replaced:   "+15550102",
		replWant:   []string{"+15550101", "+15550102"},
		remove:     fmt.Sprintf(`phoneNumbers[type eq %q or value eq "+15559999"]`, b),
		rmWant:     []string{"+15550102"},
		noPath:     fmt.Sprintf(`[{"value": "+15550103", "type": %q}]`, b),
		noPathWant: []string{"+15550102", "+15550103"},
	}, true
}

func testPatchUserForms(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	// The text attributes the steps write: displayName, title and nickName,
	// or what stands in for them.
	dn := x.alt("displayName")
	ti := x.alt("title", dn)
	nn := x.alt("nickName", dn, ti)
	f, multi := userForms(x)
	extra := fmt.Sprintf(`%q: "Old", %q: "Clerk", "active": true, "name": {"givenName": "Pat", "familyName": "Chee"}`, dn, ti)
	if multi {
		extra += fmt.Sprintf(`, %q: %s`, f.attr, f.create)
	} else {
		t.Log("PATCH of a multi-valued attribute: left out, the target's users have one email and no phoneNumbers of two types")
	}
	u := x.user("patchy", extra)
	if multi && f.attr != "emails" {
		// What the target added on its own (RingCentral's extension
		// number) stays through the steps.
		sent := values(res(t, fmt.Sprintf(`{"v": %s}`, f.create)), "v", "value")
		for _, v := range values(u, f.attr, "value") {
			if !slices.Contains(sent, v) {
				f.keep = append(f.keep, v)
			}
		}
	}
	list := func(vals ...string) string {
		vals = append(slices.Clone(vals), f.keep...)
		slices.Sort(vals)
		return fmt.Sprint(vals)
	}
	got := func(r scim.Resource) string { return fmt.Sprint(values(r, f.attr, "value")) }
	type step struct {
		name  string
		ops   string
		check func(r scim.Resource) string // "" when right, else what is wrong
	}
	steps := []step{
		{"add simple", fmt.Sprintf(`[{"op": "add", "path": %q, "value": "Patty"}]`, nn), func(r scim.Resource) string {
			return want(str(r, nn), "Patty")
		}},
		{"replace simple", fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "New"}]`, dn), func(r scim.Resource) string {
			return want(str(r, dn), "New")
		}},
		{"remove simple", fmt.Sprintf(`[{"op": "remove", "path": %q}]`, ti), func(r scim.Resource) string {
			if has(r, ti) {
				return ti + " still present"
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
	}
	if multi {
		steps = append(steps, []step{
			// RFC 7644 §3.5.2.1: add to a multi-valued attribute appends.
			{"add multi-valued", fmt.Sprintf(`[{"op": "add", "path": %q, "value": %s}]`, f.attr, f.add), func(r scim.Resource) string {
				return want(got(r), list(f.addWant...))
			}},
			{"replace value path sub-attribute", fmt.Sprintf(`[{"op": "replace", "path": %q, "value": %q}]`, f.replace, f.replaced), func(r scim.Resource) string {
				return want(got(r), list(f.replWant...))
			}},
			{"remove value path", fmt.Sprintf(`[{"op": "remove", "path": %q}]`, f.remove), func(r scim.Resource) string {
				return want(got(r), list(f.rmWant...))
			}},
		}...)
	}
	noPath := fmt.Sprintf(`{%q: "Boss"}`, ti)
	if multi {
		noPath = fmt.Sprintf(`{%q: "Boss", %q: %s}`, ti, f.attr, f.noPath)
	}
	steps = append(steps, []step{
		// RFC 7644 §3.5.2.3: without a path, the value's attributes are
		// replaced; sub-attributes not given are left unchanged.
		{"replace without path", fmt.Sprintf(`[{"op": "replace", "value": {%q: "No Path", "name": {"familyName": "Path"}}}]`, dn), func(r scim.Resource) string {
			return want(str(r, dn)+"/"+str(r, "name.givenName")+"/"+str(r, "name.familyName"), "No Path/Patricia/Path")
		}},
		{"add without path", `[{"op": "add", "value": ` + noPath + `}]`, func(r scim.Resource) string {
			if !multi {
				return want(str(r, ti), "Boss")
			}
			return want(str(r, ti)+got(r), "Boss"+list(f.noPathWant...))
		}},
		{"several ops, op in any case", fmt.Sprintf(`[{"op": "Replace", "path": %q, "value": "Chief"}, {"op": "REMOVE", "path": %q}]`, ti, nn), func(r scim.Resource) string {
			return want(fmt.Sprintf("%s %v", str(r, ti), has(r, nn)), "Chief false")
		}},
	}...)
	if multi {
		steps = append(steps, step{"remove multi-valued", fmt.Sprintf(`[{"op": "remove", "path": %q}]`, f.attr), func(r scim.Resource) string {
			// A vendor may put back what it holds on its own (the primary
			// work email that is the userName); nothing else may stay.
			if has(r, f.attr) && got(r) != list() {
				return fmt.Sprintf("%s still present: %v", f.attr, got(r))
			}
			return ""
		}})
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
	// Each step needs its attribute: a vendor may hold only some of the
	// extension (RingCentral: department alone).
	start := map[string]string{}
	for k, v := range map[string]string{"employeeNumber": "1", "costCenter": "CC"} {
		if x.advertises(ent + ":" + k) {
			start[k] = v
		}
	}
	extra := ""
	if len(start) > 0 {
		b, _ := json.Marshal(start)
		extra = fmt.Sprintf(`%q: %s`, ent, b)
	}
	u := x.user("emp", extra)
	bossID := ""
	if x.advertises(ent + ":manager.value") {
		bossID = x.user("boss", "").ID()
	}
	for _, st := range []struct {
		ops        string
		path, want string
	}{
		{fmt.Sprintf(`[{"op": "replace", "path": "%s:employeeNumber", "value": "42"}]`, ent), ent + ":employeeNumber", "42"},
		{fmt.Sprintf(`[{"op": "add", "path": "%s:manager.value", "value": %q}]`, ent, bossID), ent + ":manager.value", bossID},
		{fmt.Sprintf(`[{"op": "replace", "path": "%s:department", "value": "Ops"}]`, ent), ent + ":department", "Ops"},
		{fmt.Sprintf(`[{"op": "replace", "value": {"%s:department": "Support"}}]`, ent), ent + ":department", "Support"},
		{fmt.Sprintf(`[{"op": "add", "value": {%q: {"department": "Sales"}}}]`, ent), ent + ":department", "Sales"},
		{fmt.Sprintf(`[{"op": "replace", "value": {"%s:division": "North"}}]`, ent), ent + ":division", "North"},
		{fmt.Sprintf(`[{"op": "remove", "path": "%s:costCenter"}]`, ent), ent + ":costCenter", ""},
	} {
		if !x.need("Patch of "+st.path, st.path) {
			continue
		}
		if _, err := x.patch(x.users, u.ID(), st.ops, ""); err != nil {
			t.Fatalf("Patch %s: %v", st.ops, err)
		}
		if got := str(x.get(x.users, u.ID()), st.path); got != st.want {
			t.Errorf("after Patch %s: %s = %q, want %q", st.ops, st.path, got, st.want)
		}
	}
	// Earlier values survive the path-less add (it merges, RFC 7644 §3.5.2.1).
	got := x.get(x.users, u.ID())
	if x.need("values kept by a path-less add", ent+":employeeNumber", ent+":department") && str(got, ent+":employeeNumber") != "42" {
		t.Errorf("employeeNumber = %q after later patches, want 42", str(got, ent+":employeeNumber"))
	}
	if !x.need("filter on the patched extension attribute", ent+":department") {
		return
	}
	lr := x.search(x.users, engine.Query{Filter: ent + `:department eq "sales"`, Count: -1})
	if len(lr.Resources) != 1 || lr.Resources[0].ID() != u.ID() {
		t.Errorf("filter on the patched extension attribute: %v", x.names(lr.Resources, "userName"))
	}
	// Removing the extension attribute removes it from the filter's reach.
	x.mustPatch(x.users, u.ID(), fmt.Sprintf(`[{"op": "remove", "path": "%s:department"}]`, ent))
	if got := x.get(x.users, u.ID()); has(got, ent+":department") {
		t.Errorf("after removing department: %v", got[ent])
	}
	if lr := x.search(x.users, engine.Query{Filter: ent + `:department pr`, Count: -1}); lr.TotalResults != 0 {
		t.Errorf("department pr after its removal: %v", x.names(lr.Resources, "userName"))
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
	u := x.user("err", fmt.Sprintf(`"emails": [{"value": %q, "type": "work"}]`, x.workEmail("err", "w@example.com")))
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
	dn := x.alt("displayName")
	nn := x.alt("nickName", dn)
	u := x.user("atom", fmt.Sprintf(`%q: "Before", "emails": [{"value": %q, "type": "work"}]`, dn, x.workEmail("atom", "w@example.com")))
	_, err := x.patch(x.users, u.ID(), fmt.Sprintf(`[
		{"op": "replace", "path": %q, "value": "After"},
		{"op": "add", "path": %q, "value": "N"},
		{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]`, dn, nn), "")
	wantError(t, "Patch with a failing last op", err, http.StatusBadRequest, scim.NoTarget)
	got := x.get(x.users, u.ID())
	if str(got, dn) != "Before" || has(got, nn) || got.Version() != u.Version() {
		t.Errorf("after a failed Patch: %s %q %s %q version %s; want Before, none, %s",
			dn, str(got, dn), nn, str(got, nn), got.Version(), u.Version())
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
	_, err := x.patch(x.users, "does-not-exist", fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "x"}]`, x.alt("displayName")), "")
	wantError(t, "Patch missing", err, http.StatusNotFound, "")
}

func testPatchUserNameConflict(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("taken", "")
	u := x.user("free", "")
	ops := fmt.Sprintf(`{"op": "replace", "path": "userName", "value": %q}`, x.un("TAKEN"))
	if x.oneEmail {
		// The work email follows the userName it must equal.
		ops += fmt.Sprintf(`, {"op": "replace", "path": "emails", "value": [{"value": %q, "type": "work"}]}`, x.email("TAKEN"))
	}
	_, err := x.patch(x.users, u.ID(), "["+ops+"]", "")
	wantError(t, "Patch userName to a taken one", err, http.StatusConflict, scim.Uniqueness)
	if got := x.str(x.get(x.users, u.ID()), "userName"); got != "free" {
		t.Errorf("userName after failed Patch = %q, want free", got)
	}
}

func testVersionChanges(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	u := x.user("versioned", fmt.Sprintf(`%q: "v1"`, dn))
	seen := map[string]bool{u.Version(): true}
	r, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("versioned", fmt.Sprintf(`%q: "v2"`, dn))), "", engine.Projection{})
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
	p := x.mustPatch(x.users, u.ID(), fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "v3"}]`, dn))
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
	dn := x.alt("displayName")
	u := x.user("etag", fmt.Sprintf(`%q: "one"`, dn))
	stale := u.Version()
	cur := x.mustPatch(x.users, u.ID(), fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "two"}]`, dn)).Version()
	for _, tag := range []string{stale, `W/"no-such-version"`} {
		_, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("etag", fmt.Sprintf(`%q: "three"`, dn))), tag, engine.Projection{})
		wantError(t, "Replace If-Match "+tag, err, http.StatusPreconditionFailed, "")
		_, err = x.patch(x.users, u.ID(), fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "three"}]`, dn), tag)
		wantError(t, "Patch If-Match "+tag, err, http.StatusPreconditionFailed, "")
		err = x.e.Delete(t.Context(), x.users, u.ID(), tag)
		wantError(t, "Delete If-Match "+tag, err, http.StatusPreconditionFailed, "")
	}
	got := x.get(x.users, u.ID())
	if str(got, dn) != "two" || got.Version() != cur {
		t.Errorf("after refused writes: %s %q version %s, want two %s", dn, str(got, dn), got.Version(), cur)
	}
}

func testIfMatchCurrent(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	u := x.user("etag", fmt.Sprintf(`%q: "one"`, dn))
	r, err := x.e.Replace(t.Context(), x.users, u.ID(), res(t, x.userJSON("etag", fmt.Sprintf(`%q: "two"`, dn))), u.Version(), engine.Projection{})
	if err != nil {
		t.Fatalf("Replace with the current version: %v", err)
	}
	p, err := x.patch(x.users, u.ID(), fmt.Sprintf(`[{"op": "replace", "path": %q, "value": "three"}]`, dn), r.Version())
	if err != nil {
		t.Fatalf("Patch with the current version: %v", err)
	}
	if err := x.e.Delete(t.Context(), x.users, u.ID(), p.Version()); err != nil {
		t.Fatalf("Delete with the current version: %v", err)
	}
}
