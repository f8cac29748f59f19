package translate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

// sortUsers are the resources the sort cases order; "id" names each.
const sortUsers = `[
	{"id": "carol", "userName": "carol", "name": {"familyName": "Zimmer"}, "active": true, "externalId": "b",
	 "emails": [{"value": "c2@x.org"}, {"value": "c1@x.org", "primary": true}],
	 "meta": {"created": "2020-01-01T10:00:00Z"},
	 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "30"}},
	{"id": "Alice", "userName": "Alice", "name": {"familyName": "young"}, "active": false, "externalId": "B",
	 "emails": [{"value": "a@x.org", "type": "work"}],
	 "meta": {"created": "2020-01-01T11:00:00+02:00"}},
	{"id": "bob", "userName": "bob", "externalId": "a",
	 "emails": [{"value": "b2@x.org", "type": "home"}, {"value": "b1@x.org", "type": "work"}],
	 "meta": {"created": "2020-01-01T08:30:00Z"},
	 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "100"}},
	{"id": "Eve", "userName": "Eve", "name": {"familyName": "brown"}, "active": true, "externalId": "A",
	 "meta": {"created": "not a date"}}
]`

func sortFixture(t testing.TB) []scim.Resource {
	t.Helper()
	return decodeList(t, sortUsers)
}

func decodeList(t testing.TB, s string) []scim.Resource {
	t.Helper()
	var out []scim.Resource
	r := decode(t, `{"l": `+s+`}`)
	for _, e := range r["l"].([]any) {
		out = append(out, scim.Resource(e.(map[string]any)))
	}
	return out
}

func ids(rs []scim.Resource) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.ID()
	}
	return strings.Join(s, " ")
}

func TestSort(t *testing.T) {
	tests := []struct {
		sortBy, order string
		want          string
	}{
		// Strings are case-insensitive unless caseExact (RFC 7644 §3.4.2.3).
		{"userName", "", "Alice bob carol Eve"},
		{"userName", "ascending", "Alice bob carol Eve"},
		{"USERNAME", "Descending", "Eve carol bob Alice"},
		{coreUser + ":userName", "descending", "Eve carol bob Alice"},
		// externalId is caseExact: upper case sorts first; the sort is stable.
		{"externalId", "ascending", "Eve Alice bob carol"},
		// Missing values are last ascending and first descending.
		{"name.familyName", "ascending", "Eve Alice carol bob"},
		{"name.familyName", "descending", "bob carol Alice Eve"},
		// Booleans: false before true; ties keep their order.
		{"active", "ascending", "Alice carol Eve bob"},
		{"active", "descending", "bob carol Eve Alice"},
		// Multi-valued: the primary value, else the first.
		{"emails", "ascending", "Alice bob carol Eve"},
		{"emails.value", "descending", "Eve carol bob Alice"},
		{"emails.type", "ascending", "bob Alice carol Eve"},
		// dateTime by instant, not text: 11:00+02:00 is 09:00Z. An
		// unparsable value sorts after the dates.
		{"meta.created", "ascending", "bob Alice carol Eve"},
		// An extension attribute, unqualified or qualified: a string.
		{ent + ":employeeNumber", "ascending", "bob carol Alice Eve"},
		{"employeeNumber", "descending", "Alice Eve carol bob"},
	}
	for _, tt := range tests {
		s, err := translate.ParseSort(scim.UserType, tt.sortBy, tt.order)
		if err != nil {
			t.Errorf("ParseSort(%q, %q): %v", tt.sortBy, tt.order, err)
			continue
		}
		rs := sortFixture(t)
		translate.Sort(rs, s)
		if got := ids(rs); got != tt.want {
			t.Errorf("sortBy=%s sortOrder=%s: %s, want %s", tt.sortBy, tt.order, got, tt.want)
		}
	}
}

func TestSortNumbers(t *testing.T) {
	rs := decodeList(t, `[{"id": "a", "count": 10}, {"id": "b", "count": 9.5}, {"id": "c"}, {"id": "d", "count": -1}, {"id": "e", "count": 100}]`)
	s, err := translate.ParseSort(typesRT, "count", "")
	if err != nil {
		t.Fatal(err)
	}
	translate.Sort(rs, s)
	if got, want := ids(rs), "d b a e c"; got != want {
		t.Errorf("sortBy=count: %s, want %s (numbers, not text)", got, want)
	}
}

func TestParseSortErrors(t *testing.T) {
	tests := []struct{ sortBy, order, detail string }{
		{"noSuchAttribute", "", "noSuchAttribute"},
		{"name.noSuchSub", "", "name.noSuchSub"},
		{"urn:example:no:such:schema:attr", "", "urn:example"},
		{"name", "", "name.formatted"},
		{"password", "", "password"},
		{"userName", "up", "sortOrder"},
	}
	for _, tt := range tests {
		_, err := translate.ParseSort(scim.UserType, tt.sortBy, tt.order)
		wantScimError(t, fmt.Sprintf("ParseSort(%q, %q)", tt.sortBy, tt.order), err, scim.InvalidValue, tt.detail)
	}
	if s, err := translate.ParseSort(scim.UserType, " ", "sideways"); err != nil || !s.IsZero() {
		t.Errorf("ParseSort without sortBy = %+v, %v; want the zero SortBy (sortOrder alone means nothing)", s, err)
	}
}
