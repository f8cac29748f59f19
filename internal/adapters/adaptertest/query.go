package adaptertest

import (
	"encoding/json"
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
//
// The users hold only what the target advertises. Where a user has only its
// work email (oneEmail), each user has it, and phoneNumbers of two types
// carry what the second emails show: bjensen has one of each type, so that
// a value path must match both terms in one element.
func seedUsers(x *target) map[string]scim.Resource {
	x.t.Helper()
	ext := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			if x.advertises(ent + ":" + kv[i]) {
				m[kv[i]] = kv[i+1]
			}
		}
		if len(m) == 0 {
			return ""
		}
		b, _ := json.Marshal(m)
		return fmt.Sprintf(`, %q: %s`, ent, b)
	}
	dn := func(v string) string { // no filter selects by displayName
		if !x.advertises("displayName") {
			return ""
		}
		return fmt.Sprintf(`"displayName": %q, `, v)
	}
	tt := seedTitle(x)
	emails := map[string]string{
		"bjensen": fmt.Sprintf(`, "emails": [{"value": %q, "type": "work", "primary": true},
			{"value": "babs@home.example.org", "type": "home"}]`, x.email("bjensen")),
		"jsmith":     `, "emails": [{"value": "john@example.org", "type": "work"}]`,
		"Alice.Wong": `, "emails": [{"value": "alice@example.com", "type": "home"}]`,
	}
	if x.oneEmail {
		for _, n := range []string{"bjensen", "jsmith", "Alice.Wong", "zed"} {
			primary := ""
			if n == "bjensen" {
				primary = `, "primary": true`
			}
			emails[n] = fmt.Sprintf(`, "emails": [{"value": %q, "type": "work"%s}]`, x.email(n), primary)
		}
		if a, b, ok := x.phoneTypes(); ok {
			emails["bjensen"] += fmt.Sprintf(`, "phoneNumbers": [{"value": "+15550100", "type": %q}, {"value": "+442079460100", "type": %q}]`, a, b)
			emails["jsmith"] += fmt.Sprintf(`, "phoneNumbers": [{"value": "+442079460101", "type": %q}]`, a)
			emails["Alice.Wong"] += fmt.Sprintf(`, "phoneNumbers": [{"value": "+15550101", "type": %q}]`, b)
		}
	}
	// zed's quoted value, in nickName or, failing that, name.familyName.
	quoted := `"nickName": "say \"hi\""`
	if seedQuoted(x) != "nickName" {
		quoted = `"name": {"familyName": "say \"hi\""}`
	}
	return map[string]scim.Resource{
		"bjensen": x.user("bjensen", `"externalId": "ext-bj", `+dn("Babs Jensen")+`
			"name": {"givenName": "Barbara", "familyName": "Jensen"}, `+fmt.Sprintf(`%q: "Tour Guide"`, tt)+`, "active": true`+
			emails["bjensen"]+ext("employeeNumber", "701984", "department", "Tour Operations", "costCenter", "4130")),
		"jsmith": x.user("jsmith", dn("John Smith")+`
			"name": {"givenName": "John", "familyName": "Smith"}, `+fmt.Sprintf(`%q: "Engineer"`, tt)+`, "active": false`+
			emails["jsmith"]+ext("employeeNumber", "100", "department", "Engineering")),
		"Alice.Wong": x.user("Alice.Wong", dn("Alice Wong")+`
			"name": {"givenName": "Alice", "familyName": "Wong"}, "active": true`+
			emails["Alice.Wong"]+ext("employeeNumber", "250")),
		"zed": x.user("zed", `"externalId": "EXT-Z", `+quoted+emails["zed"]),
	}
}

// seedTitle is the attribute that holds the seed's titles: title, or
// whatever alt puts in its place other than displayName, which the seed
// writes too.
func seedTitle(x *target) string {
	return x.alt("title", "displayName")
}

// seedQuoted is the attribute that holds zed's value with quotes:
// nickName, or name.familyName.
func seedQuoted(x *target) string {
	if x.advertises("nickName") {
		return "nickName"
	}
	return "name.familyName"
}

type filterCase struct {
	name   string
	filter string
	want   []string // userNames, or displayNames for groups
	needs  []string // attributes the case needs the target to advertise
}

func testFilterUsers(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	seed := seedUsers(x)
	bj := seed["bjensen"]
	tt := seedTitle(x)
	// co looks for a part strictly inside one userName. With a domain, any
	// part of a local name might recur in the domain; one ending in "@"
	// cannot.
	inner := "ENS"
	if x.domain != "" {
		inner = "ENSEN@"
	}
	// zed is sent without active. A vendor may store false for it
	// (RingCentral, VENDORS.md 2.6); then it is one of the inactive.
	inactive := []string{"jsmith"}
	if v, _ := seed["zed"].Get(scim.ParsePath("active")); v == false {
		t.Log("the target stores active false for a user created without active")
		inactive = append(inactive, "zed")
	}
	const (
		empNo = ent + ":employeeNumber"
		dept  = ent + ":department"
		cost  = ent + ":costCenter"
	)
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
		{name: "pr", filter: tt + ` pr`, want: []string{"bjensen", "jsmith"}},
		// No local name is a prefix of another, so a common domain leaves
		// the order of the userNames as it is.
		{name: "gt", filter: x.userFilter(`userName gt %q`, "jsmith"), want: []string{"zed"}},
		{name: "ge", filter: fmt.Sprintf(`userName ge %q`, strings.ToUpper(x.un("jsmith"))), want: []string{"jsmith", "zed"}},
		{name: "lt", filter: x.userFilter(`userName lt %q`, "bjensen"), want: []string{"Alice.Wong"}},
		{name: "le", filter: x.userFilter(`userName le %q`, "bjensen"), want: []string{"Alice.Wong", "bjensen"}},
		{name: "boolean true", filter: `active eq true`, want: []string{"Alice.Wong", "bjensen"}},
		{name: "boolean false", filter: `active eq false`, want: inactive},
		{name: "sub-attribute", filter: `name.familyName eq "smith"`, want: []string{"jsmith"}},
		{name: "core urn", filter: scim.UserSchema + `:name.givenName sw "bar"`, want: []string{"bjensen"}},
		{name: "and", filter: tt + ` pr and active eq true`, want: []string{"bjensen"}},
		{name: "or", filter: tt + ` pr or active eq true`, want: []string{"Alice.Wong", "bjensen", "jsmith"}},
		{name: "not", filter: `not (active eq true)`, want: []string{"jsmith", "zed"}},
		{name: "not pr", filter: `not (` + tt + ` pr)`, want: []string{"Alice.Wong", "zed"}},
		{name: "and binds tighter than or", filter: x.userFilter(`userName eq %q or `+tt+` pr and active eq false`, "zed"), want: []string{"jsmith", "zed"}},
		{name: "grouping", filter: x.userFilter(`(userName eq %q or `+tt+` pr) and active eq false`, "zed"), want: inactive},
		{name: "nested grouping", filter: `not ((userName sw "b" or userName sw "j") and active eq true)`, want: []string{"Alice.Wong", "jsmith", "zed"}},
		{name: "operators any case", filter: x.userFilter(`userName EQ %q OR userName Eq %q`, "zed", "jsmith"), want: []string{"jsmith", "zed"}},
		{name: "escaped quote", filter: seedQuoted(x) + ` eq "SAY \"HI\""`, want: []string{"zed"}},
		{name: "extension qualified", filter: empNo + ` eq "701984"`, want: []string{"bjensen"}, needs: []string{empNo}},
		{name: "extension sw", filter: dept + ` sw "tour"`, want: []string{"bjensen"}, needs: []string{dept}},
		{name: "extension unqualified", filter: `employeeNumber eq "100"`, want: []string{"jsmith"}, needs: []string{empNo}},
		{name: "extension pr", filter: cost + ` pr`, want: []string{"bjensen"}, needs: []string{cost}},
		{name: "extension and core", filter: empNo + ` pr and not (active eq true)`, want: []string{"jsmith"}, needs: []string{empNo}},
		// The same with department, which a vendor may hold alone (RingCentral).
		{name: "extension qualified department", filter: dept + ` eq "engineering"`, want: []string{"jsmith"}, needs: []string{dept}},
		{name: "extension unqualified department", filter: `department eq "Tour Operations"`, want: []string{"bjensen"}, needs: []string{dept}},
		{name: "extension pr department", filter: dept + ` pr`, want: []string{"bjensen", "jsmith"}, needs: []string{dept}},
		{name: "extension and core department", filter: dept + ` pr and not (active eq true)`, want: []string{"jsmith"}, needs: []string{dept}},
	}
	if !x.oneEmail {
		tests = append(tests, []filterCase{
			{name: "multi-valued sub-attribute", filter: `emails.value ew "example.org"`, want: []string{"bjensen", "jsmith"}},
			{name: "multi-valued without value path", filter: `emails.type eq "work" and emails.value co "example.org"`, want: []string{"bjensen", "jsmith"}},
			{name: "value path", filter: `emails[type eq "work" and value co "example.org"]`, want: []string{"jsmith"}},
			{name: "value path one term", filter: `emails[type eq "home"]`, want: []string{"Alice.Wong", "bjensen"}},
			{name: "value path or", filter: `emails[value sw "alice" or value sw "john"]`, want: []string{"Alice.Wong", "jsmith"}},
			{name: "value path and outer term", filter: `emails[type eq "home"] and active eq true`, want: []string{"Alice.Wong", "bjensen"}},
		}...)
	} else {
		// One email each, the work email: the emails tell users apart by
		// value only, and phoneNumbers show what needs two elements.
		tests = append(tests, []filterCase{
			{name: "multi-valued sub-attribute", filter: fmt.Sprintf(`emails.value ew %q`, strings.ToUpper(x.email("jsmith")[1:])), want: []string{"jsmith"}},
			{name: "value path", filter: `emails[type eq "work" and value sw "bj"]`, want: []string{"bjensen"}},
			{name: "value path or", filter: `emails[value sw "alice" or value sw "jsm"]`, want: []string{"Alice.Wong", "jsmith"}},
		}...)
		if a, b, ok := x.phoneTypes(); ok {
			tests = append(tests, []filterCase{
				{name: "phones sub-attribute", filter: `phoneNumbers.value sw "+44"`, want: []string{"bjensen", "jsmith"}},
				{name: "phones without value path", filter: fmt.Sprintf(`phoneNumbers.type eq %q and phoneNumbers.value sw "+44"`, a), want: []string{"bjensen", "jsmith"}},
				{name: "phones value path", filter: fmt.Sprintf(`phoneNumbers[type eq %q and value sw "+44"]`, a), want: []string{"jsmith"}},
				{name: "phones value path one term", filter: fmt.Sprintf(`phoneNumbers[type eq %q]`, b), want: []string{"Alice.Wong", "bjensen"}},
				{name: "phones value path or", filter: `phoneNumbers[value eq "+15550101" or value eq "+442079460101"]`, want: []string{"Alice.Wong", "jsmith"}},
				{name: "phones value path and outer term", filter: fmt.Sprintf(`phoneNumbers[type eq %q] and active eq true`, b), want: []string{"Alice.Wong", "bjensen"}},
			}...)
		} else {
			t.Log("filters on a multi-valued attribute whose elements differ by type: left out, the target's users have one email and no phoneNumbers of two types")
		}
	}
	runFilterCases(t, x, x.users, "userName", tests)
}

func runFilterCases(t *testing.T, x *target, rt *scim.ResourceType, key string, tests []filterCase) {
	t.Helper()
	for _, tt := range tests {
		if !x.need(fmt.Sprintf("filter case %q", tt.name), tt.needs...) {
			continue // the seed has no values there to select
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
	// The checks on displayName over both types need it on Users too.
	dn := x.need("displayName over Users and Groups", "displayName")
	ann, bob := "", ""
	if dn {
		ann, bob = `"displayName": "Alpha Ann"`, `"displayName": "Beta Bob"`
	}
	x.user("ann", ann)
	x.user("bob", bob)
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
	want := []string{"Alpha Team"}
	if dn {
		want = []string{"Alpha Ann", "Alpha Team"}
	}
	if got := x.names(lr.Resources, "displayName"); lr.TotalResults != len(want) || !equal(got, want) {
		t.Errorf("displayName sw alpha over all types: %d, %v; want %v", lr.TotalResults, got, want)
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
	if !dn {
		return
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
	tt := x.alt("title")
	n := pagingSize(a)
	var want []string
	for i := range n {
		title := "odd"
		if i%3 == 0 {
			title = "third"
			want = append(want, fmt.Sprintf("user%03d", i))
		}
		x.user(fmt.Sprintf("user%03d", i), fmt.Sprintf(`%q: %q`, tt, title))
	}
	var got []string
	for start := 1; start <= len(want)+1; start += 4 {
		lr := x.search(x.users, engine.Query{Filter: tt + ` eq "third"`, StartIndex: start, Count: 4})
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
	dn := x.alt("displayName")
	mail := x.workEmail("proj", "p@example.com")
	u := x.user("proj", fmt.Sprintf(`%q: "Pro J", "name": {"givenName": "Pro", "familyName": "J"},
		"emails": [{"value": %q, "type": "work"}]`, dn, mail))
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
			[]string{"id", "userName"}, []string{dn, "emails", "name"}},
		{"attributes sub-attribute", engine.Projection{Attributes: []string{"name.givenName"}},
			[]string{"id", "name.givenName"}, []string{"name.familyName", "userName", dn}},
		{"attributes any case and urn", engine.Projection{Attributes: []string{upperURN(x.users, dn), "emails.value"}},
			[]string{"id", dn}, []string{"userName", "name"}},
		{"excludedAttributes", engine.Projection{ExcludedAttributes: []string{"emails", "name.familyName"}},
			[]string{"id", "userName", dn, "name.givenName"}, []string{"emails", "name.familyName"}},
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
	if r := get(engine.Projection{Attributes: []string{"emails.value"}}); element(r, "emails", mail) == nil || element(r, "emails", mail)["type"] != nil {
		t.Errorf("attributes=emails.value: emails = %v, want values only", r["emails"])
	}
	// Search projects every resource.
	lr := x.search(x.users, engine.Query{Projection: engine.Projection{Attributes: []string{dn}}, Count: -1})
	for _, r := range lr.Resources {
		if !has(r, "id") || !has(r, dn) || has(r, "userName") {
			t.Errorf("Search attributes=%s: %v", dn, r)
		}
	}
	// Create, Replace and Patch project what they return too.
	tt := x.alt("title", dn)
	r, err := x.e.Create(t.Context(), x.users, res(t, x.userJSON("proj2", fmt.Sprintf(`%q: "T"`, tt))), engine.Projection{ExcludedAttributes: []string{tt}})
	if err != nil || has(r, tt) || !has(r, "id") {
		t.Errorf("Create excludedAttributes=%s: %v, %v", tt, r, err)
	}
	if x.groups != nil {
		g := x.group("G", u.ID())
		r, err := x.e.Get(t.Context(), x.groups, g.ID(), engine.Projection{ExcludedAttributes: []string{"members"}})
		if err != nil || has(r, "members") || str(r, "displayName") != "G" {
			t.Errorf("Group excludedAttributes=members: %v, %v", r, err)
		}
	}
}

// checkPasswordNeverReturned checks RFC 7643 §4.1.1: password is returned
// "never", even when asked for. u was created with a password.
func checkPasswordNeverReturned(x *target, u scim.Resource) {
	t := x.t
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
}

// upperURN returns the path p, URN-qualified and in upper case
// ("urn:...:User:DISPLAYNAME"), to show that attribute names match without
// case; a common attribute (externalId) has no URN to add.
func upperURN(rt *scim.ResourceType, p string) string {
	canon, _, _, ok := rt.Resolve(scim.ParsePath(p))
	if !ok {
		return p
	}
	u := strings.ToUpper(scim.Path{Attr: canon.Attr, Sub: canon.Sub}.String())
	if canon.URN == "" {
		return u
	}
	return canon.URN + ":" + u
}

func testProjectionReturned(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	pw := x.need(`password, returned "never"`, "password")
	extra := fmt.Sprintf(`%q: "S"`, dn)
	if pw {
		extra += `, "password": "t1meMa$heen"`
	}
	u := x.user("secret", extra)
	if pw {
		checkPasswordNeverReturned(x, u)
	}
	// "always" attributes stay whatever is asked (RFC 7644 §3.9).
	r, err := x.e.Get(t.Context(), x.users, u.ID(), engine.Projection{Attributes: []string{dn}})
	if err != nil || !has(r, "id") || !has(r, dn) {
		t.Errorf("attributes=%s: id or %s missing: %v, %v", dn, dn, r, err)
	}
}
