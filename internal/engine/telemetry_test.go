package engine

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// FuzzRedact: whatever filter a caller sends, the text put on spans holds
// no value of it, parses back to the same shape, and the plan's own filter
// is left as it was.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen@example.com"`,
		`emails[type eq "work" and value co "@example.com"] or not (title pr)`,
		`meta.lastModified gt "2011-05-13T04:42:34Z" and active eq true and x.y le 3.5 and z eq null`,
		`name.familyName sw "J\u00e9" or userName ew "\"quoted\""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > filter.MaxLength {
			return
		}
		expr, err := filter.Parse(in)
		if err != nil {
			return
		}
		before := expr.String()
		red := redact(expr)
		if expr.String() != before {
			t.Fatalf("redact(%q) modified its input: %q", in, expr.String())
		}
		text := red.String()
		back, err := filter.Parse(text)
		if err != nil {
			t.Fatalf("redact(%q) = %q, which does not parse: %v", in, text, err)
		}
		if back.String() != text {
			t.Fatalf("redact(%q) = %q, parsed back as %q", in, text, back.String())
		}
		var check func(e filter.Expr)
		check = func(e filter.Expr) {
			switch x := e.(type) {
			case *filter.Compare:
				if x.Value != nil && x.Value != redacted {
					t.Fatalf("redact(%q) = %q keeps the value %v", in, text, x.Value)
				}
			case *filter.And:
				check(x.Left)
				check(x.Right)
			case *filter.Or:
				check(x.Left)
				check(x.Right)
			case *filter.Not:
				check(x.X)
			case *filter.ValuePath:
				check(x.Filter)
			}
		}
		check(back)
	})
}
