package engine_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// seed creates n users u000..u(n-1) in e, in a shuffled order, with a title
// on every third, a department on every fourth and active on even ones.
func seed(t testing.TB, e *engine.Engine, n int) {
	t.Helper()
	for _, i := range rand.New(rand.NewPCG(7, uint64(n))).Perm(n) {
		extra := fmt.Sprintf(`"active": %v, "displayName": "User %d"`, i%2 == 0, n-i)
		if i%3 == 0 {
			extra += `, "title": "third"`
		}
		if i%4 == 0 {
			extra += fmt.Sprintf(`, %q: {"department": "D%d"}`, scim.EnterpriseUserSchema, i%8)
		}
		mkUser(t, e, fmt.Sprintf("u%03d", i), extra)
	}
}

func userNames(lr *scim.ListResponse) string {
	var s []string
	for _, r := range lr.Resources {
		name, _ := r["userName"].(string)
		if name == "" {
			name, _ = r["displayName"].(string)
		}
		s = append(s, name)
	}
	return strings.Join(s, " ")
}

func search(t *testing.T, e *engine.Engine, rt *scim.ResourceType, q engine.Query) *scim.ListResponse {
	t.Helper()
	lr, err := e.Search(t.Context(), rt, q)
	if err != nil {
		t.Fatalf("Search %+v: %v", q, err)
	}
	if lr.ItemsPerPage != len(lr.Resources) || lr.Resources == nil {
		t.Fatalf("Search %+v: itemsPerPage %d with %d resources (nil %v)", q, lr.ItemsPerPage, len(lr.Resources), lr.Resources == nil)
	}
	if len(lr.Schemas) != 1 || lr.Schemas[0] != scim.ListResponseSchema {
		t.Errorf("Search schemas = %v", lr.Schemas)
	}
	return lr
}

// TestSearchNativePaging checks that a query the adapter runs whole is
// pushed down with its window, split into the adapter's page size.
func TestSearchNativePaging(t *testing.T) {
	rec := newRecorder(memory.New(memory.WithMaxPageSize(3)))
	e := engine.New(rec, engine.Options{})
	seed(t, e, 10)
	tests := []struct {
		name      string
		q         engine.Query
		want      string
		total     int
		wantPages [][2]int // StartIndex, Count of each List call
	}{
		{"window split in pages", engine.Query{SortBy: "userName", StartIndex: 2, Count: 7},
			"u001 u002 u003 u004 u005 u006 u007", 10, [][2]int{{2, 3}, {5, 3}, {8, 1}}},
		{"count zero", engine.Query{StartIndex: 1, Count: 0}, "", 10, [][2]int{{1, 0}}},
		{"start past the end", engine.Query{SortBy: "userName", StartIndex: 20, Count: 5}, "", 10, [][2]int{{20, 3}}},
		{"start below one", engine.Query{SortBy: "userName", StartIndex: -4, Count: 2}, "u000 u001", 10, [][2]int{{1, 2}}},
		{"last page stops at the end", engine.Query{SortBy: "userName", SortOrder: "descending", StartIndex: 9, Count: 5},
			"u001 u000", 10, [][2]int{{9, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.reset()
			lr := search(t, e, scim.UserType, tt.q)
			if got := userNames(lr); got != tt.want || lr.TotalResults != tt.total {
				t.Errorf("Search = %q total %d, want %q total %d", got, lr.TotalResults, tt.want, tt.total)
			}
			if lr.StartIndex != max(tt.q.StartIndex, 1) {
				t.Errorf("startIndex = %d, want %d", lr.StartIndex, max(tt.q.StartIndex, 1))
			}
			var pages [][2]int
			for _, q := range rec.listCalls() {
				pages = append(pages, [2]int{q.StartIndex, q.Count})
				if q.SortBy.String() != "" && q.SortBy.Attr != "userName" {
					t.Errorf("pushed sortBy %v", q.SortBy)
				}
			}
			if !slices.Equal(pages, tt.wantPages) {
				t.Errorf("List calls (startIndex, count) = %v, want %v", pages, tt.wantPages)
			}
		})
	}
}

func TestSearchCounts(t *testing.T) {
	for _, native := range []bool{true, false} {
		opts := []memory.Option{memory.WithMaxPageSize(4)}
		if !native {
			opts = append(opts, memory.WithoutNative())
		}
		e := engine.New(memory.New(opts...), engine.Options{DefaultPageSize: 5, MaxPageSize: 8})
		seed(t, e, 12)
		for _, tt := range []struct {
			q     engine.Query
			items int
		}{
			{engine.Query{Count: -1}, 5},                // not given: the default page size
			{engine.Query{Count: 100}, 8},               // capped at MaxPageSize
			{engine.Query{Count: 0}, 0},                 // totalResults only
			{engine.Query{StartIndex: 10, Count: 8}, 3}, // the rest
			{engine.Query{SortBy: "userName", Count: 0}, 0},
			{engine.Query{SortBy: "userName", StartIndex: 11, Count: -1}, 2},
		} {
			lr := search(t, e, scim.UserType, tt.q)
			if len(lr.Resources) != tt.items || lr.TotalResults != 12 {
				t.Errorf("native %v, %+v: %d resources, total %d; want %d, 12", native, tt.q, len(lr.Resources), lr.TotalResults, tt.items)
			}
		}
	}
}

// TestSearchSortedEmulation sorts in the engine over an adapter that cannot,
// through pages of 3, and compares with the order the RFC defines.
func TestSearchSortedEmulation(t *testing.T) {
	rec := newRecorder(memory.New(memory.WithoutNative(), memory.WithMaxPageSize(3)))
	e := engine.New(rec, engine.Options{})
	seed(t, e, 10)
	tests := []struct {
		q    engine.Query
		want string
	}{
		{engine.Query{SortBy: "userName", Count: -1}, "u000 u001 u002 u003 u004 u005 u006 u007 u008 u009"},
		{engine.Query{SortBy: "userName", SortOrder: "descending", StartIndex: 3, Count: 3}, "u007 u006 u005"},
		// displayName is "User <10-i>": case-insensitive text order.
		{engine.Query{SortBy: "displayName", StartIndex: 1, Count: 4}, "u009 u000 u008 u007"},
		// title only on every third, all equal: ties keep the creation
		// order (u006 u009 u003 u007 u001 u004 u005 u000 u008 u002), and
		// missing values come last ascending...
		{engine.Query{SortBy: "title", StartIndex: 4, Count: 3}, "u000 u007 u001"},
		// ...and first descending.
		{engine.Query{SortBy: "title", SortOrder: "descending", StartIndex: 1, Count: 2}, "u007 u001"},
		{engine.Query{SortBy: "title", SortOrder: "descending", StartIndex: 6, Count: 5}, "u002 u006 u009 u003 u000"},
		{engine.Query{SortBy: scim.EnterpriseUserSchema + ":department", Count: 3}, "u000 u008 u004"},
	}
	for _, tt := range tests {
		rec.reset()
		lr := search(t, e, scim.UserType, tt.q)
		if got := userNames(lr); got != tt.want || lr.TotalResults != 10 {
			t.Errorf("%+v: %q total %d, want %q total 10", tt.q, got, lr.TotalResults, tt.want)
		}
		for _, q := range rec.listCalls() {
			if q.Count > 3 || q.Filter != nil || q.SortBy != (scim.Path{}) {
				t.Errorf("%+v: List %+v: above the page size, or pushed what is not native", tt.q, q)
			}
		}
	}
}

func TestSearchErrors(t *testing.T) {
	e := engine.New(memory.New(), engine.Options{})
	seed(t, e, 2)
	for _, tt := range []struct {
		q  engine.Query
		st scim.ScimType
	}{
		{engine.Query{SortBy: "noSuchAttribute"}, scim.InvalidValue},
		{engine.Query{SortBy: "name"}, scim.InvalidValue},
		{engine.Query{SortBy: "userName", SortOrder: "up"}, scim.InvalidValue},
		{engine.Query{Filter: `userName eq`}, scim.InvalidFilter},
		{engine.Query{Filter: `noSuch eq "x"`}, scim.InvalidFilter},
	} {
		_, err := e.Search(t.Context(), scim.UserType, tt.q)
		wantStatus(t, fmt.Sprintf("Search %+v", tt.q), err, http.StatusBadRequest, tt.st)
		_, err = e.Search(t.Context(), nil, tt.q)
		wantStatus(t, fmt.Sprintf("root Search %+v", tt.q), err, http.StatusBadRequest, tt.st)
	}
}

// TestSearchRoot queries every resource type at once (POST /.search).
func TestSearchRoot(t *testing.T) {
	for _, native := range []bool{true, false} {
		t.Run(fmt.Sprint("native=", native), func(t *testing.T) {
			opts := []memory.Option{memory.WithMaxPageSize(2)}
			if !native {
				opts = append(opts, memory.WithoutNative())
			}
			e := engine.New(memory.New(opts...), engine.Options{})
			ctx := t.Context()
			a := mkUser(t, e, "amy", `"displayName": "Zed Amy"`)
			mkUser(t, e, "bob", "")
			mkUser(t, e, "cid", `"displayName": "Cid"`)
			for _, name := range []string{"Admins", "Staff"} {
				body := fmt.Sprintf(`{"displayName": %q, "members": [{"value": %q}]}`, name, a.ID())
				if _, err := e.Create(ctx, scim.GroupType, jsonRes(t, body), engine.Projection{}); err != nil {
					t.Fatal(err)
				}
			}
			tests := []struct {
				name  string
				q     engine.Query
				want  string
				total int
			}{
				{"all, in type order", engine.Query{Count: -1}, "amy bob cid Admins Staff", 5},
				{"window across types", engine.Query{StartIndex: 3, Count: 2}, "cid Admins", 5},
				{"window in the second type", engine.Query{StartIndex: 5, Count: 2}, "Staff", 5},
				{"count zero", engine.Query{Count: 0}, "", 5},
				{"sorted across types", engine.Query{SortBy: "displayName", Count: -1}, "Admins cid Staff amy bob", 5},
				{"sorted descending", engine.Query{SortBy: "displayName", SortOrder: "descending", StartIndex: 2, Count: 3}, "amy Staff cid", 5},
				// userName is not a Group attribute: groups have no value.
				{"sort by an attribute of one type", engine.Query{SortBy: "userName", Count: -1}, "amy bob cid Admins Staff", 5},
				{"filter on a shared attribute", engine.Query{Filter: `displayName sw "S"`, Count: -1}, "Staff", 1},
				// A filter on an attribute of one type matches only that type.
				{"filter on a User attribute", engine.Query{Filter: `userName sw "b" or userName eq "cid"`, Count: -1}, "bob cid", 2},
				{"filter on a Group attribute", engine.Query{Filter: `members pr`, Count: -1}, "Admins Staff", 2},
				{"projection per type", engine.Query{Filter: `displayName pr`, SortBy: "displayName",
					Projection: engine.Projection{Attributes: []string{"displayName"}}, Count: -1}, "Admins Cid Staff Zed Amy", 4},
			}
			for _, tt := range tests {
				lr := search(t, e, nil, tt.q)
				if got := userNames(lr); got != tt.want || lr.TotalResults != tt.total {
					t.Errorf("%s: %q total %d, want %q total %d", tt.name, got, lr.TotalResults, tt.want, tt.total)
				}
			}
		})
	}
}

// TestSearchResidual pages through filtered results where part of the
// filter runs in the engine.
func TestSearchResidual(t *testing.T) {
	rec := newRecorder(memory.New(memory.WithoutNative(), memory.WithMaxPageSize(4)))
	e := engine.New(rec, engine.Options{})
	seed(t, e, 30)
	// Every third user has a title: u000, u003, ..., u027.
	var want []string
	for i := 0; i < 30; i += 3 {
		want = append(want, fmt.Sprintf("u%03d", i))
	}
	var got []string
	for start := 1; start <= len(want)+2; start += 3 {
		lr := search(t, e, scim.UserType, engine.Query{Filter: `title eq "third"`, SortBy: "userName", StartIndex: start, Count: 3})
		if lr.TotalResults != len(want) {
			t.Errorf("page at %d: totalResults %d, want %d", start, lr.TotalResults, len(want))
		}
		if exp := max(0, min(3, len(want)-start+1)); len(lr.Resources) != exp {
			t.Errorf("page at %d: %d resources, want %d", start, len(lr.Resources), exp)
		}
		for _, r := range lr.Resources {
			got = append(got, r["userName"].(string))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("residual pages = %v, want %v", got, want)
	}
	// Unsorted: the window comes in the adapter's order, and the scan still
	// counts everything.
	lr := search(t, e, scim.UserType, engine.Query{Filter: `active eq true and title pr`, StartIndex: 2, Count: 2})
	if lr.TotalResults != 5 || len(lr.Resources) != 2 {
		t.Errorf("active and title: total %d, %d resources; want 5, 2", lr.TotalResults, len(lr.Resources))
	}
}

// TestSearchPushdownSplit declares partial native filter support on the
// memory store and checks what reaches the adapter and what the caller gets.
func TestSearchPushdownSplit(t *testing.T) {
	rec := newRecorder(memory.New(memory.WithMaxPageSize(5)))
	userName := scim.Path{URN: scim.UserSchema, Attr: "userName"}.String()
	rec.caps.Filter = map[string]adapters.FilterSupport{
		"User": {Ops: map[string][]filter.Op{userName: {filter.Sw, filter.Eq}}, And: true},
	}
	rec.caps.Sort = false
	e := engine.New(rec, engine.Options{})
	seed(t, e, 20)
	tests := []struct {
		filter, pushed string
		want           string
	}{
		{`userName sw "u01"`, `userName sw "u01"`, "u010 u011 u012 u013 u014 u015 u016 u017 u018 u019"},
		{`userName sw "u01" and title pr`, `userName sw "u01"`, "u012 u015 u018"},
		{`title pr and userName sw "u00" and active eq true`, `userName sw "u00"`, "u000 u006"},
		{`title pr or userName eq "u001"`, "", "u000 u001 u003 u006 u009 u012 u015 u018"},
	}
	for _, tt := range tests {
		rec.reset()
		lr := search(t, e, scim.UserType, engine.Query{Filter: tt.filter, SortBy: "userName", Count: -1})
		if got := userNames(lr); got != tt.want {
			t.Errorf("filter %s: %q, want %q", tt.filter, got, tt.want)
		}
		for _, q := range rec.listCalls() {
			pushed := ""
			if q.Filter != nil {
				pushed = q.Filter.String()
			}
			if !strings.Contains(pushed, strings.TrimPrefix(tt.pushed, "userName")) || (tt.pushed == "") != (pushed == "") {
				t.Errorf("filter %s: pushed %q, want %q", tt.filter, pushed, tt.pushed)
			}
		}
	}
}

// TestSearchMatchesNative runs random queries against the native store and
// against the same data with every capability off and a small page, and
// wants the same answers: the emulation is the native behaviour.
func TestSearchMatchesNative(t *testing.T) {
	// Each store gets a clock of its own that ticks a second per reading,
	// so that both hold the same meta dates.
	ticker := func() memory.Option {
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		n := 0
		return memory.WithClock(func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) })
	}
	native := engine.New(memory.New(ticker()), engine.Options{MaxPageSize: 50})
	emulated := engine.New(memory.New(ticker(), memory.WithoutNative(), memory.WithMaxPageSize(3)), engine.Options{MaxPageSize: 50})
	const n = 25
	seed(t, native, n)
	seed(t, emulated, n)
	filters := []string{"", `title pr`, `active eq true`, `userName gt "u010"`, `not (active eq true) or title pr`,
		scim.EnterpriseUserSchema + `:department sw "d"`, `displayName co "1"`}
	sorts := []string{"", "userName", "title", "displayName", "active", "meta.created", "employeeNumber"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		q := engine.Query{
			Filter:     filters[rnd.IntN(len(filters))],
			SortBy:     sorts[rnd.IntN(len(sorts))],
			StartIndex: rnd.IntN(n+3) - 1,
			Count:      rnd.IntN(n+2) - 1,
		}
		if rnd.IntN(2) == 0 {
			q.SortOrder = "descending"
		}
		a, b := search(t, native, scim.UserType, q), search(t, emulated, scim.UserType, q)
		if userNames(a) != userNames(b) || a.TotalResults != b.TotalResults || a.StartIndex != b.StartIndex {
			t.Errorf("%+v:\n native   %d %q\n emulated %d %q", q, a.TotalResults, userNames(a), b.TotalResults, userNames(b))
		}
	}
}
