package memory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adapters.Adapter { return New() })
}

// TestConformanceNativeOff runs the suite with every native capability off
// and a small page, so that every case exercises the engine's emulation.
func TestConformanceNativeOff(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adapters.Adapter {
		no := false
		a, err := (&Config{Native: &no, MaxPageSize: 7}).Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return a
	})
}

func TestConfig(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		native  bool
		page    int
	}{
		{"zero value", Config{}, "", true, 0},
		{"native on", Config{Native: &yes, MaxPageSize: 50}, "", true, 50},
		{"native off", Config{Native: &no, MaxPageSize: 7}, "", false, 7},
		{"negative page", Config{MaxPageSize: -1}, "maxPageSize", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			a, err := tt.cfg.Open(t.Context())
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Open() succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := a.Capabilities()
			native := c.Sort && c.ETag && c.Patch && c.Filter["User"].Any && c.Filter["Group"].Any
			off := !c.Sort && !c.ETag && !c.Patch && len(c.Filter) == 0
			if native != tt.native || off == tt.native || c.MaxPageSize != tt.page {
				t.Errorf("Capabilities() = %+v, want native %v, MaxPageSize %d", c, tt.native, tt.page)
			}
			if len(c.ResourceTypes) != 2 || c.ResourceTypes[0] != scim.UserType || c.ResourceTypes[1] != scim.GroupType {
				t.Errorf("ResourceTypes = %v, want User and Group", c.ResourceTypes)
			}
		})
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newUser(name string, extra ...any) scim.Resource {
	r := scim.Resource{"schemas": []any{scim.UserSchema}, "userName": name}
	for i := 0; i+1 < len(extra); i += 2 {
		r[extra[i].(string)] = extra[i+1]
	}
	return r
}

func newGroup(name string, members ...string) scim.Resource {
	r := scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": name}
	if len(members) > 0 {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = map[string]any{"value": m}
		}
		r["members"] = ms
	}
	return r
}

func mustCreate(t *testing.T, a *Adapter, rt *scim.ResourceType, r scim.Resource) scim.Resource {
	t.Helper()
	out, err := a.Create(t.Context(), rt, r)
	if err != nil {
		t.Fatalf("Create %s: %v", rt.ID, err)
	}
	return out
}

func mustGet(t *testing.T, a *Adapter, rt *scim.ResourceType, id string) scim.Resource {
	t.Helper()
	out, err := a.Get(t.Context(), rt, id)
	if err != nil {
		t.Fatalf("Get %s %s: %v", rt.ID, id, err)
	}
	return out
}

func wantStatus(t *testing.T, what string, err error, status int, st scim.ScimType) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != status || se.ScimType != st {
		t.Errorf("%s: %v, want %d %q", what, err, status, st)
	}
}

func TestMeta(t *testing.T) {
	c := &clock{t: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))}
	a := New(WithClock(c.now))
	u := mustCreate(t, a, scim.UserType, newUser("bjensen", "id", "mine", "meta", map[string]any{"version": "x"}))
	wantMeta := map[string]any{
		"resourceType": "User", "created": "2024-05-06T06:08:09.123Z",
		"lastModified": "2024-05-06T06:08:09.123Z", "version": `W/"1"`,
	}
	if fmt.Sprint(u.Meta()) != fmt.Sprint(wantMeta) {
		t.Errorf("meta = %v, want %v", u.Meta(), wantMeta)
	}
	if len(u.ID()) != 36 || u.ID()[14] != '4' || u.ID() == "mine" {
		t.Errorf("id = %q, want a version 4 UUID", u.ID())
	}

	c.advance(time.Second)
	r, err := a.Replace(t.Context(), scim.UserType, u.ID(), newUser("bjensen", "title", "T"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Meta()["created"] != wantMeta["created"] || r.Meta()["lastModified"] != "2024-05-06T06:08:10.123Z" || r.Version() != `W/"2"` {
		t.Errorf("meta after Replace = %v", r.Meta())
	}

	// Writing the same content again is no change: version and
	// lastModified stay.
	c.advance(time.Second)
	same, err := a.Replace(t.Context(), scim.UserType, u.ID(), newUser("bjensen", "title", "T"), `W/"2"`)
	if err != nil {
		t.Fatal(err)
	}
	if same.Version() != `W/"2"` || same.Meta()["lastModified"] != "2024-05-06T06:08:10.123Z" {
		t.Errorf("meta after an identical Replace = %v, want version 2 kept", same.Meta())
	}
	if s, _ := same["schemas"].([]any); len(s) != 1 || s[0] != scim.UserSchema {
		t.Errorf("schemas = %v, want the core schema only", same["schemas"])
	}
	// An extension present adds its URN to schemas; an empty one is dropped.
	ext, err := a.Replace(t.Context(), scim.UserType, u.ID(), newUser("bjensen",
		scim.EnterpriseUserSchema, map[string]any{"department": "D"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := ext["schemas"].([]any); len(s) != 2 || s[1] != scim.EnterpriseUserSchema {
		t.Errorf("schemas = %v, want core and enterprise", ext["schemas"])
	}
	empty, err := a.Replace(t.Context(), scim.UserType, u.ID(), newUser("bjensen",
		scim.EnterpriseUserSchema, map[string]any{}), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, has := empty[scim.EnterpriseUserSchema]; has || len(empty["schemas"].([]any)) != 1 {
		t.Errorf("empty extension kept: %v", empty)
	}
}

func TestUserNameUnique(t *testing.T) {
	a := New()
	ctx := t.Context()
	bj := mustCreate(t, a, scim.UserType, newUser("bjensen"))
	_, err := a.Create(ctx, scim.UserType, newUser("BJensen"))
	wantStatus(t, "Create BJensen", err, http.StatusConflict, scim.Uniqueness)
	other := mustCreate(t, a, scim.UserType, newUser("other"))
	_, err = a.Replace(ctx, scim.UserType, other.ID(), newUser("bJENSEN"), "")
	wantStatus(t, "Replace to bJENSEN", err, http.StatusConflict, scim.Uniqueness)
	_, err = a.Create(ctx, scim.UserType, newUser("  "))
	wantStatus(t, "Create blank userName", err, http.StatusBadRequest, scim.InvalidValue)
	// Renaming frees the old name at once.
	if _, err := a.Replace(ctx, scim.UserType, bj.ID(), newUser("barbara"), ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, a, scim.UserType, newUser("BJENSEN"))
	if err := a.Delete(ctx, scim.UserType, other.ID(), ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, a, scim.UserType, newUser("Other"))
}

func TestGroupMembers(t *testing.T) {
	a := New()
	ctx := t.Context()
	alice := mustCreate(t, a, scim.UserType, newUser("alice", "displayName", "Alice Wong"))
	bob := mustCreate(t, a, scim.UserType, newUser("bob"))
	sub := mustCreate(t, a, scim.GroupType, newGroup("Sub"))
	g := newGroup("Team", alice.ID(), bob.ID(), sub.ID(), alice.ID())
	g["members"].([]any)[0].(map[string]any)["display"] = "client says"
	g["members"].([]any)[1].(map[string]any)["type"] = "user"
	team := mustCreate(t, a, scim.GroupType, g)

	want := fmt.Sprint([]any{
		map[string]any{"value": alice.ID(), "type": "User", "display": "Alice Wong"},
		map[string]any{"value": bob.ID(), "type": "User", "display": "bob"},
		map[string]any{"value": sub.ID(), "type": "Group", "display": "Sub"},
	})
	if got := fmt.Sprint(team["members"]); got != want {
		t.Errorf("members = %s, want %s", got, want)
	}

	// display follows a rename without touching the group's version.
	if _, err := a.Replace(ctx, scim.UserType, bob.ID(), newUser("bob", "displayName", "Robert"), ""); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, a, scim.GroupType, team.ID())
	if m := got["members"].([]any)[1].(map[string]any); m["display"] != "Robert" || got.Version() != team.Version() {
		t.Errorf("after rename: member %v, version %s (was %s)", m, got.Version(), team.Version())
	}

	for _, tt := range []struct {
		name string
		m    map[string]any
	}{
		{"missing member", map[string]any{"value": "nope"}},
		{"wrong type", map[string]any{"value": alice.ID(), "type": "Group"}},
		{"no value", map[string]any{"display": "x"}},
		{"self", map[string]any{"value": team.ID()}},
	} {
		bad := newGroup("Team")
		bad["members"] = []any{tt.m}
		_, err := a.Replace(ctx, scim.GroupType, team.ID(), bad, "")
		wantStatus(t, tt.name, err, http.StatusBadRequest, scim.InvalidValue)
	}
	bad := newGroup("Bad")
	bad["members"] = "not a list"
	_, err := a.Create(ctx, scim.GroupType, bad)
	wantStatus(t, "members not a list", err, http.StatusBadRequest, scim.InvalidValue)
	_, err = a.Create(ctx, scim.GroupType, newGroup(""))
	wantStatus(t, "no displayName", err, http.StatusBadRequest, scim.InvalidValue)
	// Group displayName is not unique (RFC 7643 §4.2 says uniqueness none).
	mustCreate(t, a, scim.GroupType, newGroup("Team"))
}

func TestUserGroupsDerived(t *testing.T) {
	a := New()
	ctx := t.Context()
	u := mustCreate(t, a, scim.UserType, newUser("u", "groups", []any{map[string]any{"value": "forged"}}))
	if _, has := u["groups"]; has {
		t.Errorf("client-sent groups kept: %v", u["groups"])
	}
	g1 := mustCreate(t, a, scim.GroupType, newGroup("One", u.ID()))
	g2 := mustCreate(t, a, scim.GroupType, newGroup("Two", u.ID()))
	want := fmt.Sprint([]any{
		map[string]any{"value": g1.ID(), "display": "One", "type": "direct"},
		map[string]any{"value": g2.ID(), "display": "Two", "type": "direct"},
	})
	if got := fmt.Sprint(mustGet(t, a, scim.UserType, u.ID())["groups"]); got != want {
		t.Errorf("groups = %s, want %s", got, want)
	}
	if err := a.Delete(ctx, scim.GroupType, g1.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if gs := mustGet(t, a, scim.UserType, u.ID())["groups"].([]any); len(gs) != 1 {
		t.Errorf("groups after deleting One = %v", gs)
	}
	// Deleting the user changes the group that listed it.
	if err := a.Delete(ctx, scim.UserType, u.ID(), ""); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, a, scim.GroupType, g2.ID())
	if _, has := got["members"]; has || got.Version() == g2.Version() {
		t.Errorf("group after deleting its member: %v (version was %s)", got, g2.Version())
	}
	if len(a.memberOf) != 0 {
		t.Errorf("membership index not empty: %v", a.memberOf)
	}
}

func TestManagerAndPassword(t *testing.T) {
	a := New()
	boss := mustCreate(t, a, scim.UserType, newUser("boss", "displayName", "The Boss"))
	emp := mustCreate(t, a, scim.UserType, newUser("emp", "password", "secret",
		scim.EnterpriseUserSchema, map[string]any{"manager": map[string]any{"value": boss.ID(), "displayName": "forged"}}))
	if _, has := emp["password"]; has {
		t.Errorf("password returned")
	}
	if v, _ := emp.Get(scim.Path{URN: scim.EnterpriseUserSchema, Attr: "manager", Sub: "displayName"}); v != "The Boss" {
		t.Errorf("manager.displayName = %v, want The Boss", v)
	}
	for _, rec := range a.byType["User"] {
		if _, has := rec.res["password"]; has {
			t.Errorf("password stored")
		}
	}
	// The derived manager.displayName filters like a stored attribute.
	e, err := filter.Parse(scim.EnterpriseUserSchema + `:manager.displayName eq "the boss"`)
	if err == nil {
		e, err = filter.Check(e, scim.UserType)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.List(t.Context(), scim.UserType, adapters.Query{Filter: e, StartIndex: 1, Count: -1})
	if err != nil || p.TotalResults != 1 || p.Resources[0].ID() != emp.ID() {
		t.Errorf("List manager.displayName = %v, %v; want emp", p, err)
	}
}

func TestDerived(t *testing.T) {
	for _, tt := range []struct {
		filter string
		rt     *scim.ResourceType
		want   bool
	}{
		{`userName eq "a"`, scim.UserType, false},
		{`emails[type eq "work"] and not (active eq true)`, scim.UserType, false},
		{`groups.value eq "g"`, scim.UserType, true},
		{`userName eq "a" or groups[display sw "x"]`, scim.UserType, true},
		{`not (manager.displayName pr)`, scim.UserType, true},
		{scim.EnterpriseUserSchema + `:department eq "d"`, scim.UserType, false},
		{`displayName eq "g"`, scim.GroupType, false},
		{`members.display eq "bob"`, scim.GroupType, true},
		{`members pr`, scim.GroupType, true},
	} {
		e, err := filter.Parse(tt.filter)
		if err == nil {
			e, err = filter.Check(e, tt.rt)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := derived(e); got != tt.want {
			t.Errorf("derived(%s) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestIfMatch(t *testing.T) {
	for _, tt := range []struct {
		ifMatch, current string
		want             bool
	}{
		{`W/"3"`, `W/"3"`, true},
		{`"3"`, `W/"3"`, true},
		{`W/"3"`, `"3"`, true},
		{`*`, `W/"3"`, true},
		{`W/"1", W/"3"`, `W/"3"`, true},
		{`W/"2"`, `W/"3"`, false},
		{`W/"33"`, `W/"3"`, false},
		{`3`, `W/"3"`, false},
	} {
		if got := etagMatches(tt.ifMatch, tt.current); got != tt.want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", tt.ifMatch, tt.current, got, tt.want)
		}
	}
	ctx := context.Background()
	native, off := New(), New(WithoutNative())
	for _, a := range []*Adapter{native, off} {
		u := mustCreate(t, a, scim.UserType, newUser("u"))
		_, errReplace := a.Replace(ctx, scim.UserType, u.ID(), newUser("u", "title", "x"), `W/"9"`)
		errDelete := a.Delete(ctx, scim.UserType, u.ID(), `W/"9"`)
		if a.native {
			wantStatus(t, "native Replace stale", errReplace, http.StatusPreconditionFailed, "")
			wantStatus(t, "native Delete stale", errDelete, http.StatusPreconditionFailed, "")
		} else if errReplace != nil || errDelete != nil {
			// Without native ETags the version is the engine's to check.
			t.Errorf("native-off ignores ifMatch: Replace %v, Delete %v", errReplace, errDelete)
		}
	}
}

func TestNativeOffRefuses(t *testing.T) {
	a := New(WithoutNative(), WithMaxPageSize(3))
	ctx := t.Context()
	u := mustCreate(t, a, scim.UserType, newUser("u"))
	var se *scim.Error
	_, err := a.List(ctx, scim.UserType, adapters.Query{Filter: &filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Pr}})
	if err == nil || errors.As(err, &se) {
		t.Errorf("native-off List with a filter: %v, want an internal error", err)
	}
	_, err = a.List(ctx, scim.UserType, adapters.Query{SortBy: scim.Path{Attr: "userName"}})
	if err == nil || errors.As(err, &se) {
		t.Errorf("native-off List with sortBy: %v, want an internal error", err)
	}
	_, err = a.Patch(ctx, scim.UserType, u.ID(), []scim.PatchOp{{Op: "remove", Path: "title"}}, "")
	if err == nil || errors.As(err, &se) {
		t.Errorf("native-off Patch: %v, want an internal error", err)
	}
}

func TestList(t *testing.T) {
	a := New(WithMaxPageSize(4))
	ctx := t.Context()
	var ids []string
	for i := range 6 {
		ids = append(ids, mustCreate(t, a, scim.UserType, newUser(fmt.Sprint("u", i)))["id"].(string))
	}
	for _, tt := range []struct {
		start, count int
		want         []string
	}{
		{1, 2, ids[:2]},
		{0, 2, ids[:2]},
		{5, 10, ids[4:]},
		{1, 10, ids[:4]}, // MaxPageSize caps
		{1, -1, ids[:4]}, // no count: the cap
		{1, 0, nil},      // count 0: totalResults only
		{7, 2, nil},
	} {
		p, err := a.List(ctx, scim.UserType, adapters.Query{StartIndex: tt.start, Count: tt.count})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range p.Resources {
			got = append(got, r.ID())
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || p.TotalResults != 6 {
			t.Errorf("List(start %d, count %d) = %v of %d, want %v of 6", tt.start, tt.count, got, p.TotalResults, tt.want)
		}
	}
	if _, err := a.List(ctx, &scim.ResourceType{ID: "Widget"}, adapters.Query{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("List of an unserved type: %v, want 404", err)
	}
	if _, err := a.Get(ctx, scim.GroupType, ids[0]); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get a user id as a Group: %v, want 404", err)
	}
}

func TestListSorted(t *testing.T) {
	a := New()
	mk := func(name string, extra ...any) { mustCreate(t, a, scim.UserType, newUser(name, extra...)) }
	mk("b", "emails", []any{map[string]any{"value": "z@x"}, map[string]any{"value": "a@x", "primary": true}}, "active", true)
	mk("C", "emails", []any{map[string]any{"value": "m@x"}})
	mk("a", "active", false)
	mk("D")
	tests := []struct {
		path string
		desc bool
		want string
	}{
		{"userName", false, "abCD"},
		{"userName", true, "DCba"},
		{"emails", false, "bCaD"}, // by the primary value, else the first; none last
		{"emails.value", true, "aDCb"},
		{"active", false, "abCD"},
	}
	for _, tt := range tests {
		p, _, _, ok := scim.UserType.Resolve(scim.ParsePath(tt.path))
		if !ok {
			t.Fatal(tt.path)
		}
		page, err := a.List(t.Context(), scim.UserType, adapters.Query{SortBy: p, Descending: tt.desc, StartIndex: 1, Count: -1})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, r := range page.Resources {
			got += r["userName"].(string)
		}
		if got != tt.want {
			t.Errorf("List sortBy %s descending=%v = %s, want %s", tt.path, tt.desc, got, tt.want)
		}
	}
}

// TestConcurrent hammers one store from many goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	a := New()
	ctx := t.Context()
	g := mustCreate(t, a, scim.GroupType, newGroup("All"))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				u, err := a.Create(ctx, scim.UserType, newUser(fmt.Sprintf("w%d-%d", w, i)))
				if err != nil {
					t.Error(err)
					return
				}
				cur, err := a.Get(ctx, scim.GroupType, g.ID())
				if err != nil {
					t.Error(err)
					return
				}
				ms, _ := cur["members"].([]any)
				next := newGroup("All")
				next["members"] = append(ms, map[string]any{"value": u.ID()})
				// Optimistic concurrency: a lost race is a 412, never a
				// lost update.
				if _, err := a.Replace(ctx, scim.GroupType, g.ID(), next, cur.Version()); err != nil &&
					!errors.Is(err, scim.ErrPreconditionFailed) {
					t.Error(err)
				}
				if _, err := a.List(ctx, scim.UserType, adapters.Query{StartIndex: 1, Count: 5}); err != nil {
					t.Error(err)
				}
				if i%5 == 0 {
					if err := a.Delete(ctx, scim.UserType, u.ID(), ""); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	got := mustGet(t, a, scim.GroupType, g.ID())
	for _, m := range got["members"].([]any) {
		id := m.(map[string]any)["value"].(string)
		if _, err := a.Get(ctx, scim.UserType, id); err != nil {
			t.Errorf("group lists %s, which is gone: %v", id, err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	a := New()
	ctx := b.Context()
	var id string
	for i := range 1000 {
		u, err := a.Create(ctx, scim.UserType, newUser(fmt.Sprint("user", i),
			"displayName", "User Name", "name", map[string]any{"givenName": "U", "familyName": "N"},
			"emails", []any{map[string]any{"value": "u@example.com", "type": "work", "primary": true}}))
		if err != nil {
			b.Fatal(err)
		}
		id = u.ID()
	}
	for i := range 10 {
		if _, err := a.Create(ctx, scim.GroupType, newGroup(fmt.Sprint("g", i), id)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Get(ctx, scim.UserType, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList measures the filter IdPs send before every create, over a
// thousand users in groups.
func BenchmarkList(b *testing.B) {
	a := New()
	ctx := b.Context()
	var ids []string
	for i := range 1000 {
		u, err := a.Create(ctx, scim.UserType, newUser(fmt.Sprint("user", i), "displayName", "User Name",
			"emails", []any{map[string]any{"value": "u@example.com", "type": "work"}}))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID())
	}
	for i := range 10 {
		if _, err := a.Create(ctx, scim.GroupType, newGroup(fmt.Sprint("g", i), ids[i*100:i*100+100]...)); err != nil {
			b.Fatal(err)
		}
	}
	e, err := filter.Parse(`userName eq "user500"`)
	if err != nil {
		b.Fatal(err)
	}
	if e, err = filter.Check(e, scim.UserType); err != nil {
		b.Fatal(err)
	}
	byName, _, _, _ := scim.UserType.Resolve(scim.ParsePath("userName"))
	for _, bc := range []struct {
		name string
		q    adapters.Query
		want int
	}{
		{"userName_eq", adapters.Query{Filter: e, StartIndex: 1, Count: 10}, 1},
		{"sorted_page", adapters.Query{SortBy: byName, Descending: true, StartIndex: 101, Count: 10}, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := a.List(ctx, scim.UserType, bc.q)
				if err != nil || len(p.Resources) != bc.want {
					b.Fatalf("List = %d resources, %v", len(p.Resources), err)
				}
			}
		})
	}
}
