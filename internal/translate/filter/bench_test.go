package filter_test

import (
	"encoding/json"
	"testing"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// benchFilters are the filters of the benchmarks: the one IdPs send before
// every create, a two-term value filter (filter-parser's maximum), and a
// nested one.
var benchFilters = []struct{ name, in string }{
	{"user_name_eq", `userName eq "bjensen"`},
	{"value_path_and", `emails[type eq "work" and value co "@example.com"]`},
	{"complex_nested", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org") and not (title pr) and meta.lastModified gt "2011-05-13T04:42:34Z"`},
}

func BenchmarkParseFilter(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := filter.Parse(bf.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFilterParserOracle measures github.com/scim2/filter-parser/v2 on
// the same filters, for comparison.
func BenchmarkFilterParserOracle(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			raw := []byte(bf.in)
			for b.Loop() {
				if _, err := fp.ParseFilter(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseAndCheck is what a list request pays before any matching.
func BenchmarkParseAndCheck(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := filter.Parse(bf.in)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := filter.Check(e, scim.UserType); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatch evaluates checked filters against one user (a residual
// filter costs this per resource).
func BenchmarkMatch(b *testing.B) {
	var r scim.Resource
	if err := json.Unmarshal([]byte(`{
		"id": "2819c223", "userName": "bjensen", "userType": "Employee", "title": "Tour Guide",
		"name": {"givenName": "Barbara", "familyName": "Jensen"}, "active": true,
		"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
		"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"}
	}`), &r); err != nil {
		b.Fatal(err)
	}
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			e, err := filter.Parse(bf.in)
			if err != nil {
				b.Fatal(err)
			}
			if e, err = filter.Check(e, scim.UserType); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				filter.Match(e, r, scim.UserType)
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	for _, bf := range benchFilters {
		b.Run(bf.name, func(b *testing.B) {
			e, err := filter.Parse(bf.in)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = e.String()
			}
		})
	}
}
