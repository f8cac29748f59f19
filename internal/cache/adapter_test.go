package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// counting is the reference store with a count of the reads that reach it.
type counting struct {
	*memory.Adapter
	gets, lists atomic.Int64
	gate        chan struct{} // when set, Get waits for it to close
}

func newCounting() *counting { return &counting{Adapter: memory.New()} }

func (c *counting) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	c.gets.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	return c.Adapter.Get(ctx, rt, id)
}

func (c *counting) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	c.lists.Add(1)
	return c.Adapter.List(ctx, rt, q)
}

// storeKinds are the stores the decorator's tests run over: in process,
// and Redis (a real redis-server, one per test).
var storeKinds = []struct {
	name string
	open func(t *testing.T) cache.Store
}{
	{"memory", func(t *testing.T) cache.Store { return cache.NewMemory(0, nil) }},
	{"redis", func(t *testing.T) cache.Store { return openRedis(t, redistest.Start(t).Addr) }},
}

func forStores(t *testing.T, f func(t *testing.T, s cache.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.open(t)) })
	}
}

// replica is one gateway replica's view of a target: the decorator over
// the shared vendor (inner) and the shared store.
func replica(t *testing.T, inner adapters.Adapter, s cache.Store) adapters.Adapter {
	t.Helper()
	return cache.Wrap(inner, s, cache.Options{Target: t.Name()})
}

func mustCreate(t *testing.T, a adapters.Adapter, rt *scim.ResourceType, r scim.Resource) scim.Resource {
	t.Helper()
	out, err := a.Create(t.Context(), rt, r)
	if err != nil {
		t.Fatalf("Create %s: %v", rt.ID, err)
	}
	return out
}

func mustGet(t *testing.T, a adapters.Adapter, rt *scim.ResourceType, id string) scim.Resource {
	t.Helper()
	out, err := a.Get(t.Context(), rt, id)
	if err != nil {
		t.Fatalf("Get %s %s: %v", rt.ID, id, err)
	}
	return out
}

func user(name string) scim.Resource {
	return scim.Resource{"schemas": []any{scim.UserSchema}, "userName": name}
}

func eq(attr, value string) filter.Expr {
	return &filter.Compare{Path: scim.Path{Attr: attr}, Op: filter.Eq, Value: value}
}

func lookup(t *testing.T, a adapters.Adapter, attr, value string) []scim.Resource {
	t.Helper()
	page, err := a.List(t.Context(), scim.UserType, adapters.Query{Filter: eq(attr, value), StartIndex: 1, Count: 10})
	if err != nil {
		t.Fatalf("List %s eq %q: %v", attr, value, err)
	}
	if page.TotalResults != len(page.Resources) {
		t.Fatalf("List %s eq %q: totalResults %d with %d resources", attr, value, page.TotalResults, len(page.Resources))
	}
	return page.Resources
}

func groupNames(r scim.Resource) []string {
	var out []string
	for _, g := range scim.AsList(r["groups"]) {
		out = append(out, fmt.Sprint(g.(map[string]any)["display"]))
	}
	return out
}

func TestGetHitMissInvalidate(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		inner := newCounting()
		a := replica(t, inner, s)
		u := mustCreate(t, a, scim.UserType, user("bjensen"))
		mustGet(t, a, scim.UserType, u.ID())
		got := mustGet(t, a, scim.UserType, u.ID())
		if n := inner.gets.Load(); n != 1 {
			t.Fatalf("two Gets reached the vendor %d times, want 1", n)
		}
		if got["userName"] != "bjensen" {
			t.Fatalf("cached Get userName = %v", got["userName"])
		}
		// Results are the caller's: changing one changes no entry.
		got["userName"] = "changed"
		if again := mustGet(t, a, scim.UserType, u.ID()); again["userName"] != "bjensen" {
			t.Fatalf("after changing a result, Get userName = %v, want bjensen", again["userName"])
		}
		r := user("bjensen")
		r["displayName"] = "Babs"
		if _, err := a.Replace(t.Context(), scim.UserType, u.ID(), r, ""); err != nil {
			t.Fatal(err)
		}
		before := inner.gets.Load()
		if got := mustGet(t, a, scim.UserType, u.ID()); got["displayName"] != "Babs" {
			t.Fatalf("Get after Replace: displayName = %v, want Babs", got["displayName"])
		}
		if inner.gets.Load() != before+1 {
			t.Fatalf("Get after Replace did not reach the vendor")
		}
		if err := a.Delete(t.Context(), scim.UserType, u.ID(), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(t.Context(), scim.UserType, u.ID()); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("Get after Delete: %v, want 404", err)
		}
		st, ok := cache.StatsOf(a)
		if !ok || st.Hits < 2 || st.Misses < 2 {
			t.Fatalf("StatsOf = %+v, %v; want hits and misses counted", st, ok)
		}
	})
}

func TestCrossReplicaInvalidation(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		inner := newCounting()
		a, b := replica(t, inner, s), replica(t, inner, s)
		ctx := t.Context()
		u := mustCreate(t, a, scim.UserType, user("bjensen"))
		v := mustCreate(t, a, scim.UserType, user("jsmith"))

		// Both users and a group are read (and cached) through b.
		g := mustCreate(t, a, scim.GroupType, scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": "Admins",
			"members": []any{map[string]any{"value": u.ID()}}})
		if got := groupNames(mustGet(t, b, scim.UserType, u.ID())); len(got) != 1 || got[0] != "Admins" {
			t.Fatalf("b: bjensen's groups = %v, want [Admins]", got)
		}
		if got := groupNames(mustGet(t, b, scim.UserType, v.ID())); len(got) != 0 {
			t.Fatalf("b: jsmith's groups = %v, want none", got)
		}
		mustGet(t, b, scim.GroupType, g.ID())

		// A user write through a: b sees it.
		r := user("bjensen")
		r["title"] = "Boss"
		if _, err := a.Replace(ctx, scim.UserType, u.ID(), r, ""); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, b, scim.UserType, u.ID()); got["title"] != "Boss" {
			t.Fatalf("b after a's Replace: title = %v, want Boss", got["title"])
		}

		// A membership change through a (native PATCH, members named):
		// the group and both users' groups change for b.
		mustGet(t, b, scim.UserType, u.ID())
		_, err := a.(adapters.Patcher).Patch(ctx, scim.GroupType, g.ID(), []scim.PatchOp{
			{Op: "add", Path: "members", Value: []any{map[string]any{"value": v.ID()}}},
			{Op: "remove", Path: fmt.Sprintf("members[value eq %q]", u.ID())},
		}, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := groupNames(mustGet(t, b, scim.UserType, v.ID())); len(got) != 1 {
			t.Fatalf("b: jsmith's groups after being added = %v, want [Admins]", got)
		}
		if got := groupNames(mustGet(t, b, scim.UserType, u.ID())); len(got) != 0 {
			t.Fatalf("b: bjensen's groups after being removed = %v, want none", got)
		}
		if ms := scim.AsList(mustGet(t, b, scim.GroupType, g.ID())["members"]); len(ms) != 1 {
			t.Fatalf("b: members = %v, want jsmith alone", ms)
		}

		// A group replace (members not named by the write) through a.
		mustGet(t, b, scim.UserType, v.ID())
		if _, err := a.Replace(ctx, scim.GroupType, g.ID(), scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": "Admins"}, ""); err != nil {
			t.Fatal(err)
		}
		if got := groupNames(mustGet(t, b, scim.UserType, v.ID())); len(got) != 0 {
			t.Fatalf("b: jsmith's groups after the group's Replace = %v, want none", got)
		}

		// A rename shows in the groups that list the user.
		if _, err := a.(adapters.Patcher).Patch(ctx, scim.GroupType, g.ID(), []scim.PatchOp{
			{Op: "add", Path: "members", Value: []any{map[string]any{"value": v.ID()}}},
		}, ""); err != nil {
			t.Fatal(err)
		}
		mustGet(t, b, scim.GroupType, g.ID())
		if _, err := a.(adapters.Patcher).Patch(ctx, scim.UserType, v.ID(), []scim.PatchOp{
			{Op: "replace", Path: "displayName", Value: "Jo Smith"},
		}, ""); err != nil {
			t.Fatal(err)
		}
		ms := scim.AsList(mustGet(t, b, scim.GroupType, g.ID())["members"])
		if len(ms) != 1 || ms[0].(map[string]any)["display"] != "Jo Smith" {
			t.Fatalf("b: members after the rename = %v, want Jo Smith", ms)
		}

		// A delete through a: b's group loses the member, b's Get is 404.
		if err := a.Delete(ctx, scim.UserType, v.ID(), ""); err != nil {
			t.Fatal(err)
		}
		if ms := scim.AsList(mustGet(t, b, scim.GroupType, g.ID())["members"]); len(ms) != 0 {
			t.Fatalf("b: members after the member's delete = %v, want none", ms)
		}
		if _, err := b.Get(ctx, scim.UserType, v.ID()); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("b: Get of the deleted user: %v, want 404", err)
		}
	})
}

func TestPreCreateLookup(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		inner := newCounting()
		a, b := replica(t, inner, s), replica(t, inner, s)

		// Absent: each lookup asks the vendor; nothing is remembered.
		for range 2 {
			if got := lookup(t, b, "userName", "bjensen"); len(got) != 0 {
				t.Fatalf("lookup before create = %v, want none", got)
			}
		}
		if n := inner.lists.Load(); n != 2 {
			t.Fatalf("two lookups of an absent user reached the vendor %d times, want 2", n)
		}

		u := user("bjensen")
		u["externalId"] = "ext-1"
		created := mustCreate(t, a, scim.UserType, u)
		got := lookup(t, b, "userName", "bjensen")
		if len(got) != 1 || got[0].ID() != created.ID() {
			t.Fatalf("b's lookup after a's create = %v, want %s", got, created.ID())
		}
		// Found once: answered from the index, in any case of the name.
		lists := inner.lists.Load()
		for _, name := range []string{"bjensen", "BJensen"} {
			if got := lookup(t, b, "userName", name); len(got) != 1 || got[0].ID() != created.ID() {
				t.Fatalf("lookup %q = %v, want %s", name, got, created.ID())
			}
		}
		if inner.lists.Load() != lists {
			t.Fatalf("repeated lookups reached the vendor")
		}
		lookup(t, b, "externalId", "ext-1")
		if got := lookup(t, b, "externalId", "EXT-1"); len(got) != 0 {
			t.Fatalf("externalId is case-exact, lookup EXT-1 = %v", got)
		}

		// A rename through a: the old name is free, the new one found.
		r := user("babs")
		if _, err := a.Replace(t.Context(), scim.UserType, created.ID(), r, ""); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, b, "userName", "bjensen"); len(got) != 0 {
			t.Fatalf("lookup of the old name after a rename = %v, want none", got)
		}
		if got := lookup(t, b, "userName", "babs"); len(got) != 1 {
			t.Fatalf("lookup of the new name after a rename = %v, want one", got)
		}
		// Deleted through a: b's lookup finds nothing.
		if err := a.Delete(t.Context(), scim.UserType, created.ID(), ""); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, b, "userName", "babs"); len(got) != 0 {
			t.Fatalf("lookup after delete = %v, want none", got)
		}
		// A new user takes the name: found, not the old id.
		again := mustCreate(t, a, scim.UserType, user("babs"))
		if got := lookup(t, b, "userName", "babs"); len(got) != 1 || got[0].ID() != again.ID() {
			t.Fatalf("lookup after the name was taken again = %v, want %s", got, again.ID())
		}
	})
}

// TestSingleflight: concurrent misses of one key make one vendor call. The
// bubble's Wait returns once every caller is blocked: the first in the
// vendor, the others waiting for its answer.
func TestSingleflight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newCounting()
		a := cache.Wrap(inner, cache.NewMemory(0, nil), cache.Options{Target: "t"})
		u := mustCreate(t, a, scim.UserType, user("bjensen"))
		inner.gate = make(chan struct{})
		const n = 8
		results := make([]scim.Resource, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r, err := a.Get(context.Background(), scim.UserType, u.ID())
				if err != nil {
					t.Error(err)
				}
				results[i] = r
			})
		}
		synctest.Wait()
		close(inner.gate)
		wg.Wait()
		if got := inner.gets.Load(); got != 1 {
			t.Fatalf("%d concurrent Gets of a cold key made %d vendor calls, want 1", n, got)
		}
		results[0]["userName"] = "changed"
		for i, r := range results[1:] {
			if r["userName"] != "bjensen" {
				t.Fatalf("result %d shares its map with another: userName %v", i+1, r["userName"])
			}
		}
	})
}

// health is an adapter with a health check.
type health struct{ adapters.Adapter }

func (health) Health(context.Context) error { return errors.New("down") }

// bare hides every optional interface of the adapter it holds.
type bare struct{ adapters.Adapter }

func TestOptionalInterfaces(t *testing.T) {
	s := cache.NewMemory(0, nil)
	a := cache.Wrap(memory.New(), s, cache.Options{})
	if _, ok := a.(adapters.HealthChecker); ok {
		t.Error("Wrap(memory) implements HealthChecker; memory does not")
	}
	if !a.Capabilities().Patch {
		t.Error("Wrap(memory).Capabilities().Patch = false, want memory's true")
	}
	h := cache.Wrap(health{memory.New()}, s, cache.Options{})
	hc, ok := h.(adapters.HealthChecker)
	if !ok || hc.Health(t.Context()) == nil {
		t.Error("Wrap(adapter with Health) does not forward Health")
	}
	if _, ok := cache.StatsOf(h); !ok {
		t.Error("StatsOf(Wrap(adapter with Health)) = false")
	}
	b := cache.Wrap(bare{memory.New()}, s, cache.Options{})
	if b.Capabilities().Patch || b.Capabilities().BulkMaxOperations != 0 {
		t.Errorf("Wrap(adapter without Patcher) declares %+v", b.Capabilities())
	}
	if _, err := b.(adapters.Patcher).Patch(t.Context(), scim.UserType, "x", nil, ""); err == nil {
		t.Error("Patch through an adapter without Patcher succeeded")
	}
}

func TestConformance(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		for _, mode := range []struct {
			name string
			opts []memory.Option
		}{{"native", nil}, {"emulated", []memory.Option{memory.WithoutNative()}}} {
			t.Run(mode.name, func(t *testing.T) {
				adaptertest.Run(t, func(t *testing.T) adapters.Adapter {
					return cache.Wrap(memory.New(mode.opts...), s, cache.Options{Target: t.Name()})
				})
			})
		}
	})
}

// TestGroupLookupNotUnique: a group's displayName is not unique (RFC 7643
// §4.2), so the index answers only while the vendor found one, and a
// second group of the same name through another replica ends that.
func TestGroupLookupNotUnique(t *testing.T) {
	forStores(t, func(t *testing.T, s cache.Store) {
		inner := newCounting()
		// A short hold, so that the create's mark on the name lapses soon.
		const hold = 200 * time.Millisecond
		o := cache.Options{Target: t.Name(), Hold: hold}
		a, b := cache.Wrap(inner, s, o), cache.Wrap(inner, s, o)
		group := func(name string) scim.Resource {
			return scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": name}
		}
		find := func() int {
			page, err := b.List(t.Context(), scim.GroupType, adapters.Query{Filter: eq("displayName", "Admins"), StartIndex: 1, Count: 10})
			if err != nil {
				t.Fatal(err)
			}
			return page.TotalResults
		}
		mustCreate(t, a, scim.GroupType, group("Admins"))
		if n := find(); n != 1 {
			t.Fatalf("lookup of the one group = %d", n)
		}
		time.Sleep(hold + 50*time.Millisecond) // the create's mark lapses
		find()                                 // fills the index
		lists := inner.lists.Load()
		if find() != 1 || inner.lists.Load() != lists {
			t.Fatal("a repeated lookup of the one group did not come from the index")
		}
		mustCreate(t, a, scim.GroupType, group("admins"))
		if n := find(); n != 2 {
			t.Fatalf("lookup after a second group of the name = %d, want 2", n)
		}
	})
}
