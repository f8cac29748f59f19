package rctest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, in    string
		emailsValue bool
		want        filter
		wantErr     bool
	}{
		{name: "empty", in: "", want: filter{any: true}},
		{name: "blank", in: "   ", want: filter{any: true}},
		{name: "userName", in: `userName eq "a@b.com"`, want: filter{attr: "userName", value: "a@b.com"}},
		{name: "emails", in: `emails eq "a@b.com"`, want: filter{attr: "emails", value: "a@b.com"}},
		{name: "email", in: `email eq "a@b.com"`, want: filter{attr: "email", value: "a@b.com"}},
		{name: "operator case", in: `userName EQ "x"`, want: filter{attr: "userName", value: "x"}},
		{name: "attribute case", in: `USERNAME Eq "x"`, want: filter{attr: "USERNAME", value: "x"}},
		{name: "extra spaces", in: `  userName   eq   "x"  `, want: filter{attr: "userName", value: "x"}},
		{name: "escaped quote", in: `userName eq "a\"b"`, want: filter{attr: "userName", value: `a"b`}},
		{name: "space in value", in: `userName eq "a b"`, want: filter{attr: "userName", value: "a b"}},
		{name: "emails.value on", in: `emails.value eq "x"`, emailsValue: true, want: filter{attr: "emails.value", value: "x"}},
		{name: "emails.value off", in: `emails.value eq "x"`, wantErr: true},
		{name: "unquoted", in: `userName eq a@b.com`, wantErr: true},
		{name: "single quotes", in: `userName eq 'a@b.com'`, wantErr: true},
		{name: "unterminated", in: `userName eq "a`, wantErr: true},
		{name: "co", in: `userName co "a"`, wantErr: true},
		{name: "sw", in: `userName sw "a"`, wantErr: true},
		{name: "pr", in: `userName pr`, wantErr: true},
		{name: "and", in: `userName eq "a" and emails eq "a"`, wantErr: true},
		{name: "or", in: `userName eq "a" or userName eq "b"`, wantErr: true},
		{name: "externalId", in: `externalId eq "1"`, wantErr: true},
		{name: "id", in: `id eq "1"`, wantErr: true},
		{name: "not", in: `not (userName eq "a")`, wantErr: true},
		{name: "parens", in: `(userName eq "a")`, wantErr: true},
		{name: "value path", in: `emails[type eq "work"].value eq "a"`, wantErr: true},
		{name: "bad escape", in: `userName eq "\x"`, wantErr: true},
		{name: "number", in: `userName eq 5`, wantErr: true},
		{name: "attribute only", in: `userName`, wantErr: true},
		{name: "tab separated", in: "userName\teq \"a\"", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFilter(tt.in, tt.emailsValue)
			if tt.wantErr {
				var ae *apiError
				if !errors.As(err, &ae) || ae.status != 400 || ae.scimType != scim.InvalidFilter || ae.detail != FilterErrorDetail {
					t.Fatalf("parseFilter(%q) = %+v, %v; want the invalidFilter error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseFilter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestUnsupportedFilterIsTheVendorsExactBody(t *testing.T) {
	c := newClient(t)
	want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"Only 'userName' or 'emails' fields and operation 'eq' are supported"}`
	for _, f := range []string{`externalId eq "1"`, `userName sw "a"`, `userName eq a`} {
		r := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil)
		if r.status != 400 || string(r.raw) != want {
			t.Errorf("filter %q: %d %s\nwant 400 %s", f, r.status, r.raw, want)
		}
		r = c.do(http.MethodPost, "/Users/.search", map[string]any{"schemas": []any{scim.SearchRequestSchema}, "filter": f})
		if r.status != 400 || string(r.raw) != want {
			t.Errorf(".search filter %q: %d %s", f, r.status, r.raw)
		}
	}
}

func TestFilterFindsByUserNameOrEmail(t *testing.T) {
	for _, lag := range []bool{false, true} {
		t.Run("lag="+strconv.FormatBool(lag), func(t *testing.T) {
			clk := newFakeClock()
			opts := []Option{WithoutRateLimits(), WithClock(clk.Now)}
			if lag {
				opts = append(opts, WithSearchLag(1)) // 1ns: visible once the clock moves
			}
			c := newClient(t, opts...)
			c.create("first@example.com")
			id := c.create("Second@Example.com").str("id")
			clk.Advance(1)
			for _, f := range []string{`userName eq "second@example.com"`, `emails eq "SECOND@example.com"`, `email eq "Second@Example.com"`} {
				r := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil).want(t, http.StatusOK)
				res, _ := r.body["Resources"].([]any)
				if r.body["totalResults"] != float64(1) || len(res) != 1 || res[0].(map[string]any)["id"] != id {
					t.Errorf("filter %q: %s", f, r.raw)
				}
			}
			r := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "none@example.com"`), nil).want(t, http.StatusOK)
			if r.body["totalResults"] != float64(0) || r.body["itemsPerPage"] != float64(0) {
				t.Errorf("no match: %s", r.raw)
			}
			if res, ok := r.body["Resources"].([]any); !ok || len(res) != 0 {
				t.Errorf("no match: Resources %v, want []", r.body["Resources"])
			}
			r = c.do(http.MethodGet, "/Users?filter=&startIndex=1&count=3", nil).want(t, http.StatusOK)
			if r.body["totalResults"] != float64(2) {
				t.Errorf("empty filter: %s", r.raw)
			}
		})
	}
}

func TestSearchLagHidesRecentWritesFromListsOnly(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithoutRateLimits(), WithClock(clk.Now), WithSearchLag(5e9))
	id := c.create("lag@example.com").str("id")
	list := func() float64 {
		return c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "lag@example.com"`), nil).body["totalResults"].(float64)
	}
	if n := list(); n != 0 {
		t.Errorf("a new user is listed at once with a lag: %v", n)
	}
	c.do(http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	clk.Advance(5e9)
	if n := list(); n != 1 {
		t.Errorf("after the lag: %v users", n)
	}
	c.do(http.MethodPut, "/Users/"+id, newUser("moved@example.com")).want(t, http.StatusOK)
	if n := list(); n != 1 {
		t.Errorf("the old userName vanished from search before the lag: %v", n)
	}
	clk.Advance(5e9)
	if n := list(); n != 0 {
		t.Errorf("the old userName is still found after the lag: %v", n)
	}
}

func TestPaging(t *testing.T) {
	c := newClient(t, WithoutRateLimits(), WithSeed(250), WithMaxCount(120))
	tests := []struct {
		query               string
		total, start, items int
		firstUserName       string
		wantErr             bool
	}{
		{query: "", total: 250, start: 1, items: 100, firstUserName: "seed0000001@example.com"},
		{query: "startIndex=101", total: 250, start: 101, items: 100, firstUserName: "seed0000101@example.com"},
		{query: "startIndex=201&count=100", total: 250, start: 201, items: 50, firstUserName: "seed0000201@example.com"},
		{query: "count=500", total: 250, start: 1, items: 120, firstUserName: "seed0000001@example.com"},
		{query: "count=0", total: 250, start: 1, items: 0},
		{query: "count=-3", total: 250, start: 1, items: 0},
		{query: "startIndex=0&count=2", total: 250, start: 1, items: 2, firstUserName: "seed0000001@example.com"},
		{query: "startIndex=251", total: 250, start: 251, items: 0},
		{query: "startIndex=x", wantErr: true},
		{query: "count=1.5", wantErr: true},
		{query: "sortBy=userName&sortOrder=descending&attributes=id&count=1", total: 250, start: 1, items: 1, firstUserName: "seed0000001@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := c.do(http.MethodGet, "/Users?"+tt.query, nil)
			if tt.wantErr {
				r.wantSCIMError(t, 400, scim.InvalidValue)
				return
			}
			r.want(t, http.StatusOK)
			res, _ := r.body["Resources"].([]any)
			if r.body["totalResults"] != float64(tt.total) || r.body["startIndex"] != float64(tt.start) ||
				r.body["itemsPerPage"] != float64(tt.items) || len(res) != tt.items {
				t.Fatalf("total %v start %v items %v (%d), want %d %d %d", r.body["totalResults"], r.body["startIndex"],
					r.body["itemsPerPage"], len(res), tt.total, tt.start, tt.items)
			}
			if tt.items > 0 && res[0].(map[string]any)["userName"] != tt.firstUserName {
				t.Errorf("first %v, want %s", res[0].(map[string]any)["userName"], tt.firstUserName)
			}
		})
	}
	r := c.do(http.MethodPost, "/Users/.search", map[string]any{"schemas": []any{scim.SearchRequestSchema}, "startIndex": 3, "count": 2}).want(t, http.StatusOK)
	if res := r.body["Resources"].([]any); len(res) != 2 || res[0].(map[string]any)["userName"] != "seed0000003@example.com" {
		t.Errorf(".search page: %s", r.raw)
	}
	c.do(http.MethodPost, "/Users/.search", map[string]any{"count": "2"}).wantSCIMError(t, 400, scim.InvalidValue)
	c.do(http.MethodPost, "/Users/.search", "[1]").wantSCIMError(t, 400, scim.InvalidSyntax)
	c.do(http.MethodPost, "/Users/.search", "").want(t, http.StatusOK)
}

// TestPagingOverManyUsers reads pages at the start, the middle and the end
// of a 100,000-user account, as an adapter listing everything would. The
// cost of listing it all is measured by BenchmarkListAll.
func TestPagingOverManyUsers(t *testing.T) {
	const n = 100_000
	c := newClient(t, WithoutRateLimits(), WithSeed(n))
	if got := c.srv.Count(); got != n {
		t.Fatalf("Count() = %d, want %d", got, n)
	}
	for _, tt := range []struct{ start, items int }{
		{1, 1000}, {50_001, 1000}, {99_501, 500}, {100_000, 1}, {100_001, 0},
	} {
		var page struct {
			TotalResults, StartIndex, ItemsPerPage int
			Resources                              []struct{ ID, UserName string }
		}
		r := c.do(http.MethodGet, "/Users?count=1000&startIndex="+strconv.Itoa(tt.start), nil).want(t, http.StatusOK)
		if err := json.Unmarshal(r.raw, &page); err != nil {
			t.Fatal(err)
		}
		if page.TotalResults != n || page.StartIndex != tt.start || page.ItemsPerPage != tt.items || len(page.Resources) != tt.items {
			t.Fatalf("startIndex %d: total %d start %d items %d (%d), want %d items",
				tt.start, page.TotalResults, page.StartIndex, page.ItemsPerPage, len(page.Resources), tt.items)
		}
		for i, u := range page.Resources {
			if want := strconv.Itoa(firstUserID + tt.start - 1 + i); u.ID != want {
				t.Fatalf("startIndex %d item %d: id %s, want %s (id order)", tt.start, i, u.ID, want)
			}
		}
	}
	id := firstUserID + n/2
	r := c.do(http.MethodGet, "/Users/"+strconv.Itoa(id), nil).want(t, http.StatusOK)
	c.do(http.MethodDelete, "/Users/"+strconv.Itoa(id), nil).want(t, http.StatusNoContent)
	f := `userName eq "` + r.str("userName") + `"`
	if got := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil); got.body["totalResults"] != float64(0) {
		t.Errorf("a deleted user is still found: %s", got.raw)
	}
	var page struct{ TotalResults int }
	_ = json.Unmarshal(c.do(http.MethodGet, "/Users?count=1", nil).raw, &page)
	if page.TotalResults != n-1 {
		t.Errorf("totalResults %d after a delete, want %d", page.TotalResults, n-1)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", `userName eq "a@b.com"`, `emails EQ "x"`, `email eq "a\"b"`, `emails.value eq "x"`,
		`userName eq "a" and emails eq "b"`, `userName co "a"`, `userName eq a`, `userName eq "\u00e9"`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, emailsValue bool) {
		if len(in) > 512 {
			return
		}
		got, err := parseFilter(in, emailsValue)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || ae.scimType != scim.InvalidFilter || ae.detail != FilterErrorDetail {
				t.Fatalf("parseFilter(%q): %v, want nil or the invalidFilter error", in, err)
			}
			return
		}
		if got.any {
			return
		}
		// What is accepted renders back to a filter that parses the same.
		q, _ := json.Marshal(got.value)
		again, err := parseFilter(got.attr+" eq "+string(q), emailsValue)
		if err != nil || again != got {
			t.Fatalf("parseFilter(%q) = %+v; its rendering parses to %+v, %v", in, got, again, err)
		}
	})
}
