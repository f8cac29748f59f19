package adaptertest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

const ent = scim.EnterpriseUserSchema

// seedUsers creates the users the filter cases select from, keyed by local
// name. zed has almost nothing set, so that presence and absence both show.
// bjensen has a work email, primary, and a home email at example.org, so
// that a value path must match both terms in one element.
func seedUsers(x *target) map[string]scim.Resource {
	x.t.Helper()
	enterprise := x.users.Extension(ent) != nil
	extBJ, extJS, extAW := "", "", ""
	if enterprise {
		extBJ = fmt.Sprintf(`, %q: {"employeeNumber": "701984", "department": "Tour Operations", "costCenter": "4130"}`, ent)
		extJS = fmt.Sprintf(`, %q: {"employeeNumber": "100", "department": "Engineering"}`, ent)
		extAW = fmt.Sprintf(`, %q: {"employeeNumber": "250"}`, ent)
	}
	return map[string]scim.Resource{
		"bjensen": x.user("bjensen", fmt.Sprintf(`"externalId": "ext-bj", "displayName": "Babs Jensen",
			"name": {"givenName": "Barbara", "familyName": "Jensen"}, "title": "Tour Guide", "active": true,
			"emails": [{"value": %q, "type": "work", "primary": true},
			           {"value": "babs@home.example.org", "type": "home"}]`, x.email("bjensen"))+extBJ),
		"jsmith": x.user("jsmith", `"displayName": "John Smith",
			"name": {"givenName": "John", "familyName": "Smith"}, "title": "Engineer", "active": false,
			"emails": [{"value": "john@example.org", "type": "work"}]`+extJS),
		"Alice.Wong": x.user("Alice.Wong", `"displayName": "Alice Wong",
			"name": {"givenName": "Alice", "familyName": "Wong"}, "active": true,
			"emails": [{"value": "alice@example.com", "type": "home"}]`+extAW),
		"zed": x.user("zed", `"externalId": "EXT-Z", "nickName": "say \"hi\""`),
	}
}

type filterCase struct {
	name       string
	filter     string
	want       []string // userNames, or displayNames for groups
	enterprise bool     // needs the Enterprise extension
}

func testFilterUsers(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	seed := seedUsers(x)
	bj := seed["bjensen"]
	// co looks for a part strictly inside one userName. With a domain, any
	// part of a local name might recur in the domain; one ending in "@"
	// cannot.
	inner := "ENS"
	if x.domain != "" {
		inner = "ENSEN@"
	}
	tests := []filterCase{
		{name: "eq", filter: x.userFilter(`userName eq %q`, "bjensen"), want: []string{"bjensen"}},
		{name: "eq case-insensitive", filter: fmt.Sprintf(`USERNAME eq %q`, strings.ToUpper(x.un("bjensen"))), want: []string{"bjensen"}},
		{name: "eq caseExact", filter: `externalId eq "EXT-BJ"`, want: nil},
		{name: "eq caseExact match", filter: `externalId eq "ext-bj"`, want: []string{"bjensen"}},
		{name: "eq id", filter: fmt.Sprintf(`id eq %q`, bj.ID()), want: []string{"bjensen"}},
		{name: "ne", filter: x.userFilter(`userName ne %q`, "bjensen"), want: []string{"Alice.Wong", "jsmith", "zed"}},
		{name: "co", filter: fmt.Sprintf(`userName co %q`, inner), want: []string{"bjensen"}},
		{name: "sw", filter: `userName sw "al"`, want: []string{"Alice.Wong"}},
		// A suffix of the whole userName: "WONG", or "WONG@" and the domain.
		{name: "ew", filter: fmt.Sprintf(`userName ew %q`, strings.ToUpper(x.un("wong"))), want: []string{"Alice.Wong"}},
		{name: "pr", filter: `title pr`, want: []string{"bjensen", "jsmith"}},
		// No local name is a prefix of another, so a common domain leaves
		// the order of the userNames as it is.
		{name: "gt", filter: x.userFilter(`userName gt %q`, "jsmith"), want: []string{"zed"}},
		{name: "ge", filter: fmt.Sprintf(`userName ge %q`, strings.ToUpper(x.un("jsmith"))), want: []string{"jsmith", "zed"}},
		{name: "lt", filter: x.userFilter(`userName lt %q`, "bjensen"), want: []string{"Alice.Wong"}},
		{name: "le", filter: x.userFilter(`userName le %q`, "bjensen"), want: []string{"Alice.Wong", "bjensen"}},
		{name: "boolean true", filter: `active eq true`, want: []string{"Alice.Wong", "bjensen"}},
		{name: "boolean false", filter: `active eq false`, want: []string{"jsmith"}},
		{name: "sub-attribute", filter: `name.familyName eq "smith"`, want: []string{"jsmith"}},
		{name: "core urn", filter: scim.UserSchema + `:name.givenName sw "bar"`, want: []string{"bjensen"}},
		{name: "multi-valued sub-attribute", filter: `emails.value ew "example.org"`, want: []string{"bjensen", "jsmith"}},
		{name: "multi-valued without value path", filter: `emails.type eq "work" and emails.value co "example.org"`, want: []string{"bjensen", "jsmith"}},
		{name: "value path", filter: `emails[type eq "work" and value co "example.org"]`, want: []string{"jsmith"}},
		{name: "value path one term", filter: `emails[type eq "home"]`, want: []string{"Alice.Wong", "bjensen"}},
		{name: "value path or", filter: `emails[value sw "alice" or value sw "john"]`, want: []string{"Alice.Wong", "jsmith"}},
		{name: "value path and outer term", filter: `emails[type eq "home"] and active eq true`, want: []string{"Alice.Wong", "bjensen"}},
		{name: "and", filter: `title pr and active eq true`, want: []string{"bjensen"}},
		{name: "or", filter: `title pr or active eq true`, want: []string{"Alice.Wong", "bjensen", "jsmith"}},
		{name: "not", filter: `not (active eq true)`, want: []string{"jsmith", "zed"}},
		{name: "not pr", filter: `not (title pr)`, want: []string{"Alice.Wong", "zed"}},
		{name: "and binds tighter than or", filter: x.userFilter(`userName eq %q or title pr and active eq false`, "zed"), want: []string{"jsmith", "zed"}},
		{name: "grouping", filter: x.userFilter(`(userName eq %q or title pr) and active eq false`, "zed"), want: []string{"jsmith"}},
		{name: "nested grouping", filter: `not ((userName sw "b" or userName sw "j") and active eq true)`, want: []string{"Alice.Wong", "jsmith", "zed"}},
		{name: "operators any case", filter: x.userFilter(`userName EQ %q OR userName Eq %q`, "zed", "jsmith"), want: []string{"jsmith", "zed"}},
		{name: "escaped quote", filter: `nickName eq "SAY \"HI\""`, want: []string{"zed"}},
		{name: "extension qualified", filter: ent + `:employeeNumber eq "701984"`, want: []string{"bjensen"}, enterprise: true},
		{name: "extension sw", filter: ent + `:department sw "tour"`, want: []string{"bjensen"}, enterprise: true},
		{name: "extension unqualified", filter: `employeeNumber eq "100"`, want: []string{"jsmith"}, enterprise: true},
		{name: "extension pr", filter: ent + `:costCenter pr`, want: []string{"bjensen"}, enterprise: true},
		{name: "extension and core", filter: ent + `:employeeNumber pr and not (active eq true)`, want: []string{"jsmith"}, enterprise: true},
	}
	runFilterCases(t, x, x.users, "userName", tests)
}

func runFilterCases(t *testing.T, x *target, rt *scim.ResourceType, key string, tests []filterCase) {
	t.Helper()
	enterprise := x.users.Extension(ent) != nil
	for _, tt := range tests {
		if tt.enterprise && !enterprise {
			continue // the seed has no extension values to select
		}
		lr, err := x.e.Search(t.Context(), rt, engine.Query{Filter: tt.filter, Count: -1})
		if err != nil {
			t.Errorf("%s: Search(%s): %v", tt.name, tt.filter, err)
			continue
		}
		if got := x.names(lr.Resources, key); !equal(got, sorted(tt.want...)) {
			t.Errorf("%s: Search(%s) = %v, want %v", tt.name, tt.filter, got, sorted(tt.want...))
		}
		if lr.TotalResults != len(tt.want) {
			t.Errorf("%s: Search(%s) totalResults = %d, want %d", tt.name, tt.filter, lr.TotalResults, len(tt.want))
		}
	}
}

func testFilterMetaDates(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	seed := seedUsers(x)
	when := func(r scim.Resource, p string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, str(r, p))
		if err != nil {
			t.Fatalf("%s of %s: %v", p, r.ID(), err)
		}
		return ts
	}
	// Resources may share a timestamp, so the expected sets come from the
	// timestamps the target reports.
	pivot := seed["jsmith"]
	for _, tt := range []struct {
		op  string
		cmp func(c int) bool
	}{
		{"eq", func(c int) bool { return c == 0 }},
		{"gt", func(c int) bool { return c > 0 }},
		{"ge", func(c int) bool { return c >= 0 }},
		{"lt", func(c int) bool { return c < 0 }},
		{"le", func(c int) bool { return c <= 0 }},
	} {
		for _, p := range []string{"meta.created", "meta.lastModified"} {
			var want []string
			for name, r := range seed {
				if tt.cmp(when(r, p).Compare(when(pivot, p))) {
					want = append(want, name)
				}
			}
			f := fmt.Sprintf("%s %s %q", p, tt.op, str(pivot, p))
			lr := x.search(x.users, engine.Query{Filter: f, Count: -1})
			if got := x.names(lr.Resources, "userName"); !equal(got, sorted(want...)) {
				t.Errorf("Search(%s) = %v, want %v", f, got, sorted(want...))
			}
		}
	}
	runFilterCases(t, x, x.users, "userName", []filterCase{
		{name: "created after the epoch", filter: `meta.created gt "2000-01-01T00:00:00Z"`, want: []string{"Alice.Wong", "bjensen", "jsmith", "zed"}},
		{name: "modified before the epoch", filter: `meta.lastModified lt "2000-01-01T00:00:00Z"`, want: nil},
		{name: "created pr", filter: `meta.created pr`, want: []string{"Alice.Wong", "bjensen", "jsmith", "zed"}},
		{name: "resourceType", filter: `meta.resourceType eq "User"`, want: []string{"Alice.Wong", "bjensen", "jsmith", "zed"}},
	})
}

func testFilterGroups(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	seed := seedUsers(x)
	bj, alice := seed["bjensen"], seed["Alice.Wong"]
	admins := x.group("Admins", bj.ID(), seed["jsmith"].ID())
	x.group("Staff", alice.ID())
	x.group("Empty")
	runFilterCases(t, x, x.groups, "displayName", []filterCase{
		{name: "eq", filter: `displayName eq "admins"`, want: []string{"Admins"}},
		{name: "sw", filter: `displayName sw "S"`, want: []string{"Staff"}},
		{name: "member value", filter: fmt.Sprintf(`members.value eq %q`, bj.ID()), want: []string{"Admins"}},
		{name: "member value path", filter: fmt.Sprintf(`members[value eq %q]`, alice.ID()), want: []string{"Staff"}},
		{name: "members pr", filter: `members pr`, want: []string{"Admins", "Staff"}},
		{name: "not members pr", filter: `not (members pr)`, want: []string{"Empty"}},
		{name: "member type", filter: `members[type eq "User" and value eq "` + alice.ID() + `"]`, want: []string{"Staff"}},
	})
	// The derived User.groups filters like any attribute.
	runFilterCases(t, x, x.users, "userName", []filterCase{
		{name: "User.groups", filter: fmt.Sprintf(`groups.value eq %q`, admins.ID()), want: []string{"bjensen", "jsmith"}},
		{name: "User.groups display", filter: `groups.display eq "Staff"`, want: []string{"Alice.Wong"}},
	})
}

func testFilterInvalid(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("someone", "")
	for _, f := range []string{
		`userName eq`,
		`userName xx "a"`,
		`(userName eq "a"`,
		`noSuchAttribute eq "a"`,
		`name.noSuchSub eq "a"`,
		`active gt true`,
		`urn:example:no:such:schema:attr eq "a"`,
		`userName eq "a" and`,
		`emails[type eq "work"`,
	} {
		_, err := x.e.Search(t.Context(), x.users, engine.Query{Filter: f, Count: -1})
		wantError(t, fmt.Sprintf("Search(%s)", f), err, http.StatusBadRequest, scim.InvalidFilter)
	}
}

// testSearchAcrossTypes is POST /.search at the root (RFC 7644 §3.4.3): one
// query over every resource type, with one totalResults and one order.
func testSearchAcrossTypes(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	x.user("ann", `"displayName": "Alpha Ann"`)
	x.user("bob", `"displayName": "Beta Bob"`)
	x.group("Alpha Team")
	x.group("Gamma Team")
	search := func(q engine.Query) *scim.ListResponse {
		t.Helper()
		lr, err := x.e.Search(t.Context(), nil, q)
		if err != nil {
			t.Fatalf("Search all types %+v: %v", q, err)
		}
		return lr
	}
	lr := search(engine.Query{Filter: `displayName sw "alpha"`, Count: -1})
	if got := x.names(lr.Resources, "displayName"); lr.TotalResults != 2 || !equal(got, []string{"Alpha Ann", "Alpha Team"}) {
		t.Errorf("displayName sw alpha over all types: %d, %v; want the user and the group", lr.TotalResults, got)
	}
	for _, r := range lr.Resources {
		if rt := str(r, "meta.resourceType"); rt != "User" && rt != "Group" {
			t.Errorf("result without its resourceType: %v", r)
		}
	}
	// A filter only one type's schema has selects from that type.
	if lr := search(engine.Query{Filter: `userName pr`, Count: -1}); lr.TotalResults != 2 {
		t.Errorf("userName pr over all types: totalResults %d, want 2", lr.TotalResults)
	}
	// One order over both types, and paging across them.
	lr = search(engine.Query{SortBy: "displayName", SortOrder: "descending", StartIndex: 2, Count: 2})
	var got []string
	for _, r := range lr.Resources {
		got = append(got, str(r, "displayName"))
	}
	if lr.TotalResults != 4 || !slices.Equal(got, []string{"Beta Bob", "Alpha Team"}) {
		t.Errorf("all types sorted by displayName descending, from 2, count 2: %d, %v; want 4, [Beta Bob Alpha Team]", lr.TotalResults, got)
	}
}

// pagingSize is the number of resources the paging cases create: more than
// two pages of the adapter's own limit.
func pagingSize(a adapters.Adapter) int {
	return max(23, 2*a.Capabilities().MaxPageSize+3)
}

func testPaging(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	n := pagingSize(a)
	for i := range n {
		x.user(fmt.Sprintf("user%03d", i), "")
	}
	all := x.all(x.users)
	if len(all) != n {
		t.Fatalf("Search without count: %d resources, want %d", len(all), n)
	}
	// Pages of 10 (above a small adapter page size) cover every user once.
	seen := map[string]bool{}
	for start := 1; start <= n; start += 10 {
		lr := x.search(x.users, engine.Query{StartIndex: start, Count: 10})
		if lr.TotalResults != n || lr.StartIndex != start {
			t.Errorf("page at %d: totalResults %d startIndex %d, want %d %d", start, lr.TotalResults, lr.StartIndex, n, start)
		}
		if want := min(10, n-start+1); len(lr.Resources) != want {
			t.Errorf("page at %d: %d resources, want %d", start, len(lr.Resources), want)
		}
		for _, r := range lr.Resources {
			if seen[r.ID()] {
				t.Errorf("page at %d repeats %s", start, str(r, "userName"))
			}
			seen[r.ID()] = true
		}
	}
	if len(seen) != n {
		t.Errorf("pages covered %d users, want %d", len(seen), n)
	}
	for _, tt := range []struct {
		name        string
		q           engine.Query
		wantItems   int
		wantStartAt int
	}{
		// RFC 7644 §3.4.2.4: count 0 returns no resources, only totalResults.
		{"count zero", engine.Query{StartIndex: 1, Count: 0}, 0, 1},
		{"start past the end", engine.Query{StartIndex: n + 5, Count: 10}, 0, n + 5},
		{"start below one", engine.Query{StartIndex: -3, Count: 2}, 2, 1},
		{"last partial page", engine.Query{StartIndex: n - 1, Count: 10}, 2, n - 1},
		{"count above the engine maximum", engine.Query{StartIndex: 1, Count: 1 << 20}, n, 1},
	} {
		lr := x.search(x.users, tt.q)
		if len(lr.Resources) != tt.wantItems || lr.TotalResults != n || lr.StartIndex != tt.wantStartAt {
			t.Errorf("%s: %d resources, totalResults %d, startIndex %d; want %d, %d, %d",
				tt.name, len(lr.Resources), lr.TotalResults, lr.StartIndex, tt.wantItems, n, tt.wantStartAt)
		}
	}
	// The engine's own maximum page size caps count.
	small := newTarget(t, a, o, engine.Options{MaxPageSize: 4})
	if lr := small.search(x.users, engine.Query{StartIndex: 1, Count: 10}); len(lr.Resources) != 4 || lr.TotalResults != n {
		t.Errorf("engine MaxPageSize 4: %d resources, totalResults %d; want 4, %d", len(lr.Resources), lr.TotalResults, n)
	}
}

// testPagingWithFilter pages through a filtered result larger than the
// adapter's page, where an emulated filter must still count right.
func testPagingWithFilter(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	n := pagingSize(a)
	var want []string
	for i := range n {
		title := "odd"
		if i%3 == 0 {
			title = "third"
			want = append(want, fmt.Sprintf("user%03d", i))
		}
		x.user(fmt.Sprintf("user%03d", i), fmt.Sprintf(`"title": %q`, title))
	}
	var got []string
	for start := 1; start <= len(want)+1; start += 4 {
		lr := x.search(x.users, engine.Query{Filter: `title eq "third"`, StartIndex: start, Count: 4})
		if lr.TotalResults != len(want) {
			t.Errorf("page at %d: totalResults %d, want %d", start, lr.TotalResults, len(want))
		}
		if exp := max(0, min(4, len(want)-start+1)); len(lr.Resources) != exp {
			t.Errorf("page at %d: %d resources, want %d", start, len(lr.Resources), exp)
		}
		for _, r := range lr.Resources {
			got = append(got, x.str(r, "userName"))
		}
	}
	slices.Sort(got)
	if !equal(got, want) {
		t.Errorf("filtered pages = %v, want %v", got, want)
	}
}

func testSort(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	for _, u := range []struct{ name, family string }{
		{"carol", "Zimmer"}, {"Alice", "young"}, {"bob", "Xu"}, {"dave", "Adams"}, {"Eve", "brown"},
	} {
		x.user(u.name, fmt.Sprintf(`"name": {"familyName": %q}`, u.family))
	}
	for _, tt := range []struct {
		sortBy, order string
		want          []string
	}{
		// Strings sort case-insensitively unless caseExact (RFC 7644 §3.4.2.3).
		{"userName", "", []string{"Alice", "bob", "carol", "dave", "Eve"}},
		{"userName", "ascending", []string{"Alice", "bob", "carol", "dave", "Eve"}},
		{"userName", "descending", []string{"Eve", "dave", "carol", "bob", "Alice"}},
		{"name.familyName", "ascending", []string{"dave", "Eve", "bob", "Alice", "carol"}},
		{"NAME.FAMILYNAME", "descending", []string{"carol", "Alice", "bob", "Eve", "dave"}},
		{scim.UserSchema + ":userName", "descending", []string{"Eve", "dave", "carol", "bob", "Alice"}},
	} {
		lr := x.search(x.users, engine.Query{SortBy: tt.sortBy, SortOrder: tt.order, Count: -1})
		var got []string
		for _, r := range lr.Resources {
			got = append(got, x.str(r, "userName"))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("sortBy=%s sortOrder=%s: %v, want %v", tt.sortBy, tt.order, got, tt.want)
		}
	}
	// A dateTime sorts by time (ties in any order).
	lr := x.search(x.users, engine.Query{SortBy: "meta.created", SortOrder: "descending", Count: -1})
	for i := 1; i < len(lr.Resources); i++ {
		prev, err1 := time.Parse(time.RFC3339Nano, str(lr.Resources[i-1], "meta.created"))
		cur, err2 := time.Parse(time.RFC3339Nano, str(lr.Resources[i], "meta.created"))
		if err1 != nil || err2 != nil || prev.Before(cur) {
			t.Errorf("sortBy=meta.created descending: %s before %s (%v, %v)", prev, cur, err1, err2)
		}
	}
	_, err := x.e.Search(t.Context(), x.users, engine.Query{SortBy: "noSuchAttribute", Count: -1})
	wantError(t, "sortBy=noSuchAttribute", err, http.StatusBadRequest, "")
}

func testSortWithPaging(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	n := pagingSize(a)
	var want []string
	// Created in an order unrelated to the sort order.
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		name := fmt.Sprintf("u%03d", i)
		want = append(want, name)
		x.user(name, "")
	}
	slices.Sort(want)
	slices.Reverse(want)
	var got []string
	for start := 1; start <= n; start += 5 {
		lr := x.search(x.users, engine.Query{SortBy: "userName", SortOrder: "descending", StartIndex: start, Count: 5})
		for _, r := range lr.Resources {
			got = append(got, x.str(r, "userName"))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("sorted pages = %v, want %v", got, want)
	}
	// Sorting and filtering together.
	// The names have one width, so a common domain keeps their order.
	lr := x.search(x.users, engine.Query{Filter: x.userFilter(`userName lt %q`, "u010"), SortBy: "userName", StartIndex: 2, Count: 3})
	if got := x.names(lr.Resources, "userName"); lr.TotalResults != 10 || !equal(got, []string{"u001", "u002", "u003"}) {
		t.Errorf("filter+sort+page: totalResults %d, %v; want 10, [u001 u002 u003]", lr.TotalResults, got)
	}
}

func testProjection(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("proj", `"displayName": "Pro J", "name": {"givenName": "Pro", "familyName": "J"},
		"emails": [{"value": "p@example.com", "type": "work"}]`)
	get := func(p engine.Projection) scim.Resource {
		t.Helper()
		r, err := x.e.Get(t.Context(), x.users, u.ID(), p)
		if err != nil {
			t.Fatalf("Get %+v: %v", p, err)
		}
		return r
	}
	for _, tt := range []struct {
		name      string
		p         engine.Projection
		want, not []string
	}{
		{"attributes", engine.Projection{Attributes: []string{"userName"}},
			[]string{"id", "userName"}, []string{"displayName", "emails", "name"}},
		{"attributes sub-attribute", engine.Projection{Attributes: []string{"name.givenName"}},
			[]string{"id", "name.givenName"}, []string{"name.familyName", "userName", "displayName"}},
		{"attributes any case and urn", engine.Projection{Attributes: []string{scim.UserSchema + ":DISPLAYNAME", "emails.value"}},
			[]string{"id", "displayName"}, []string{"userName", "name"}},
		{"excludedAttributes", engine.Projection{ExcludedAttributes: []string{"emails", "name.familyName"}},
			[]string{"id", "userName", "displayName", "name.givenName"}, []string{"emails", "name.familyName"}},
		{"excluding id keeps it", engine.Projection{ExcludedAttributes: []string{"id"}},
			[]string{"id", "userName"}, nil},
	} {
		r := get(tt.p)
		for _, p := range tt.want {
			if !has(r, p) {
				t.Errorf("%s: %s missing from %v", tt.name, p, r)
			}
		}
		for _, p := range tt.not {
			if has(r, p) {
				t.Errorf("%s: %s present in %v", tt.name, p, r)
			}
		}
	}
	if r := get(engine.Projection{Attributes: []string{"emails.value"}}); element(r, "emails", "p@example.com") == nil || element(r, "emails", "p@example.com")["type"] != nil {
		t.Errorf("attributes=emails.value: emails = %v, want values only", r["emails"])
	}
	// Search projects every resource.
	lr := x.search(x.users, engine.Query{Projection: engine.Projection{Attributes: []string{"displayName"}}, Count: -1})
	for _, r := range lr.Resources {
		if !has(r, "id") || !has(r, "displayName") || has(r, "userName") {
			t.Errorf("Search attributes=displayName: %v", r)
		}
	}
	// Create, Replace and Patch project what they return too.
	r, err := x.e.Create(t.Context(), x.users, res(t, x.userJSON("proj2", `"title": "T"`)), engine.Projection{ExcludedAttributes: []string{"title"}})
	if err != nil || has(r, "title") || !has(r, "id") {
		t.Errorf("Create excludedAttributes=title: %v, %v", r, err)
	}
	if x.groups != nil {
		g := x.group("G", u.ID())
		r, err := x.e.Get(t.Context(), x.groups, g.ID(), engine.Projection{ExcludedAttributes: []string{"members"}})
		if err != nil || has(r, "members") || str(r, "displayName") != "G" {
			t.Errorf("Group excludedAttributes=members: %v, %v", r, err)
		}
	}
}

func testProjectionReturned(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("secret", `"password": "t1meMa$heen", "displayName": "S"`)
	// RFC 7643 §4.1.1: password is returned "never", even when asked for.
	for _, p := range []engine.Projection{{}, {Attributes: []string{"password"}}, {Attributes: []string{"password", "userName"}}} {
		r, err := x.e.Get(t.Context(), x.users, u.ID(), p)
		if err != nil {
			t.Fatalf("Get %+v: %v", p, err)
		}
		if has(r, "password") {
			t.Errorf("Get %+v returned the password", p)
		}
	}
	if has(u, "password") {
		t.Errorf("Create returned the password")
	}
	lr := x.search(x.users, engine.Query{Filter: x.userFilter(`userName eq %q`, "secret"), Count: -1})
	for _, r := range lr.Resources {
		if has(r, "password") {
			t.Errorf("Search returned the password")
		}
	}
	// "always" attributes stay whatever is asked (RFC 7644 §3.9).
	r, err := x.e.Get(t.Context(), x.users, u.ID(), engine.Projection{Attributes: []string{"displayName"}})
	if err != nil || !has(r, "id") {
		t.Errorf("attributes=displayName: id missing: %v, %v", r, err)
	}
}
