package filter_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

const enterprise = scim.EnterpriseUserSchema

// c builds a Compare; path is split as scim.ParsePath splits it.
func c(path string, op filter.Op, v any) *filter.Compare {
	return &filter.Compare{Path: scim.ParsePath(path), Op: op, Value: v}
}

func pr(path string) *filter.Compare { return c(path, filter.Pr, nil) }

func and(l, r filter.Expr) *filter.And { return &filter.And{Left: l, Right: r} }
func or(l, r filter.Expr) *filter.Or   { return &filter.Or{Left: l, Right: r} }
func not(x filter.Expr) *filter.Not    { return &filter.Not{X: x} }
func vp(path string, f filter.Expr) *filter.ValuePath {
	return &filter.ValuePath{Path: scim.ParsePath(path), Filter: f}
}

// wantError fails unless err is a 400 *scim.Error of type st whose detail
// holds every one of parts.
func wantError(t *testing.T, call string, err error, st scim.ScimType, parts ...string) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %v, want a *scim.Error", call, err)
	}
	if se.Status != http.StatusBadRequest || se.ScimType != st {
		t.Fatalf("%s: error %d %s, want 400 %s", call, se.Status, se.ScimType, st)
	}
	for _, p := range parts {
		if !strings.Contains(se.Detail, p) {
			t.Errorf("%s: detail %q, want it to contain %q", call, se.Detail, p)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     filter.Expr
		str      string // String(), when it differs from in
	}{
		// The examples of RFC 7644 §3.4.2.2.
		{"eq", `userName eq "bjensen"`, c("userName", filter.Eq, "bjensen"), ""},
		{"co sub-attribute", `name.familyName co "O'Malley"`, c("name.familyName", filter.Co, "O'Malley"), ""},
		{"sw", `userName sw "J"`, c("userName", filter.Sw, "J"), ""},
		{"urn qualified", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
			c(scim.UserSchema+":userName", filter.Sw, "J"), ""},
		{"pr", `title pr`, pr("title"), ""},
		{"gt dateTime", `meta.lastModified gt "2011-05-13T04:42:34Z"`, c("meta.lastModified", filter.Gt, "2011-05-13T04:42:34Z"), ""},
		{"ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, c("meta.lastModified", filter.Ge, "2011-05-13T04:42:34Z"), ""},
		{"lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, c("meta.lastModified", filter.Lt, "2011-05-13T04:42:34Z"), ""},
		{"le", `meta.lastModified le "2011-05-13T04:42:34Z"`, c("meta.lastModified", filter.Le, "2011-05-13T04:42:34Z"), ""},
		{"ne ew", `title ne "x" and title ew "y"`, and(c("title", filter.Ne, "x"), c("title", filter.Ew, "y")), ""},
		{"and", `title pr and userType eq "Employee"`, and(pr("title"), c("userType", filter.Eq, "Employee")), ""},
		{"or", `title pr or userType eq "Intern"`, or(pr("title"), c("userType", filter.Eq, "Intern")), ""},
		{"schemas", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, c("schemas", filter.Eq, enterprise), ""},
		{"grouping", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			and(c("userType", filter.Eq, "Employee"), or(c("emails", filter.Co, "example.com"), c("emails.value", filter.Co, "example.org"))), ""},
		{"not", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			and(c("userType", filter.Ne, "Employee"), not(or(c("emails", filter.Co, "example.com"), c("emails.value", filter.Co, "example.org")))), ""},
		{"value path", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			and(c("userType", filter.Eq, "Employee"), vp("emails", and(c("type", filter.Eq, "work"), c("value", filter.Co, "@example.com")))), ""},
		{"value paths or", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			or(vp("emails", and(c("type", filter.Eq, "work"), c("value", filter.Co, "@example.com"))),
				vp("ims", and(c("type", filter.Eq, "xmpp"), c("value", filter.Co, "@foo.com")))), ""},

		// Precedence and associativity.
		{"and binds tighter", `a pr or b pr and c pr`, or(pr("a"), and(pr("b"), pr("c"))), ""},
		{"and first", `a pr and b pr or c pr`, or(and(pr("a"), pr("b")), pr("c")), ""},
		{"and left assoc", `a pr and b pr and c pr`, and(and(pr("a"), pr("b")), pr("c")), ""},
		{"or left assoc", `a pr or b pr or c pr`, or(or(pr("a"), pr("b")), pr("c")), ""},
		{"right group", `a pr and (b pr and c pr)`, and(pr("a"), and(pr("b"), pr("c"))), ""},
		{"or group under and", `(a pr or b pr) and c pr`, and(or(pr("a"), pr("b")), pr("c")), ""},
		{"redundant parens", `((a pr)) and ((b pr or c pr))`, and(pr("a"), or(pr("b"), pr("c"))), `a pr and (b pr or c pr)`},
		{"not binds to group", `not (a pr) and b pr`, and(not(pr("a")), pr("b")), ""},
		{"not without space", `not(a pr)`, not(pr("a")), `not (a pr)`},
		{"nested not", `not (not (a pr))`, not(not(pr("a"))), ""},

		// Case, spacing, names.
		{"operators any case", `userName EQ "x" AND title Pr Or NOT (a Gt 1)`,
			or(and(c("userName", filter.Eq, "x"), pr("title")), not(c("a", filter.Gt, 1.0))), `userName eq "x" and title pr or not (a gt 1)`},
		{"names keep case", `USERNAME eq "x"`, c("USERNAME", filter.Eq, "x"), ""},
		{"extra spaces", `  userName   eq   "x"    and  ( title  pr )  `, and(c("userName", filter.Eq, "x"), pr("title")), `userName eq "x" and title pr`},
		{"no spaces around parens", `(a pr)and(b pr)`, and(pr("a"), pr("b")), `a pr and b pr`},
		{"no space before string", `userName eq"x"`, c("userName", filter.Eq, "x"), `userName eq "x"`},
		{"not as attribute", `not pr`, pr("not"), ""},
		{"keywords as attributes", `and pr and or eq "x"`, and(pr("and"), c("or", filter.Eq, "x")), ""},
		{"extension attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
			c(enterprise+":employeeNumber", filter.Eq, "701984"), ""},
		{"extension sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
			c(enterprise+":manager.value", filter.Eq, "26118915"), ""},
		{"urn with hyphens", `urn:ietf:params:scim:schemas:extension:acme-corp:1.0:User:badge-id eq "7"`,
			c("urn:ietf:params:scim:schemas:extension:acme-corp:1.0:User:badge-id", filter.Eq, "7"), ""},
		{"dollar ref", `members[$ref eq "https://x/Users/1"]`, vp("members", c("$ref", filter.Eq, "https://x/Users/1")), ""},

		// Value filters beyond filter-parser's two terms.
		{"three or terms", `members[value eq "1" or value eq "2" or value eq "3"]`,
			vp("members", or(or(c("value", filter.Eq, "1"), c("value", filter.Eq, "2")), c("value", filter.Eq, "3"))), ""},
		{"three and terms", `emails[type eq "work" and value co "@x" and primary eq true]`,
			vp("emails", and(and(c("type", filter.Eq, "work"), c("value", filter.Co, "@x")), c("primary", filter.Eq, true))), ""},
		{"parens in value filter", `emails[(type eq "work" or type eq "home") and not (value ew ".org")]`,
			vp("emails", and(or(c("type", filter.Eq, "work"), c("type", filter.Eq, "home")), not(c("value", filter.Ew, ".org")))), ""},
		{"spaces in brackets", `emails [ type eq "work" ]`, vp("emails", c("type", filter.Eq, "work")), `emails[type eq "work"]`},
		{"value path then sub-attribute", `emails[type eq "work"].value eq "x"`,
			vp("emails", and(c("type", filter.Eq, "work"), c("value", filter.Eq, "x"))), `emails[type eq "work" and value eq "x"]`},
		{"value path or then sub-attribute", `emails[type eq "work" or type eq "home"].value pr`,
			vp("emails", and(or(c("type", filter.Eq, "work"), c("type", filter.Eq, "home")), pr("value"))), `emails[(type eq "work" or type eq "home") and value pr]`},

		// Values.
		{"zero", `a eq 0`, c("a", filter.Eq, 0.0), ""},
		{"negative", `a lt -1`, c("a", filter.Lt, -1.0), ""},
		{"decimal", `a ge 1.5`, c("a", filter.Ge, 1.5), ""},
		{"exponent", `a eq 1e3`, c("a", filter.Eq, 1000.0), `a eq 1000`},
		{"exponent signed", `a eq -2.5E-3`, c("a", filter.Eq, -0.0025), `a eq -0.0025`},
		{"exponent plus", `a eq 1E+2`, c("a", filter.Eq, 100.0), `a eq 100`},
		{"large", `a eq 1e21`, c("a", filter.Eq, 1e21), `a eq 1e+21`},
		{"true any case", `active eq TRUE`, c("active", filter.Eq, true), `active eq true`},
		{"false", `active eq false`, c("active", filter.Eq, false), ""},
		{"null", `title eq Null`, c("title", filter.Eq, nil), `title eq null`},
		{"escapes", `a eq "q\"b\\s\/n\nr\rt\tb\bf\f"`, c("a", filter.Eq, "q\"b\\s/n\nr\rt\tb\bf\f"), `a eq "q\"b\\s/n\nr\rt\tb\bf\f"`},
		{"unicode escapes any case", `a eq "\u00e9\u00E9\u0041"`, c("a", filter.Eq, "ééA"), `a eq "ééA"`},
		{"surrogate pair", `a eq "\uD83D\ude00"`, c("a", filter.Eq, "😀"), `a eq "😀"`},
		{"lone high surrogate", `a eq "\uD800\u0041"`, c("a", filter.Eq, "\uFFFDA"), `a eq "` + "\uFFFD" + `A"`},
		{"lone low surrogate", `a eq "\uDC00"`, c("a", filter.Eq, "\uFFFD"), `a eq "` + "\uFFFD" + `"`},
		{"control escaped", `a eq "\u0001\u001f"`, c("a", filter.Eq, "\x01\x1f"), `a eq "\u0001\u001F"`},
		{"raw unicode", `displayName eq "Zoë 😀 ☃"`, c("displayName", filter.Eq, "Zoë 😀 ☃"), ""},
		{"empty string", `title eq ""`, c("title", filter.Eq, ""), ""},
		{"brackets in string", `a eq "[(x)] and or"`, c("a", filter.Eq, "[(x)] and or"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, dump(got), dump(tt.want))
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if s := got.String(); s != want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, want)
			}
			again, err := filter.Parse(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Parse(%q) = %s, %v, want %s", got.String(), dump(again), err, dump(got))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // parts of the detail, the offset first
	}{
		{"empty", ``, []string{"offset 0", "empty filter"}},
		{"blank", `   `, []string{"offset 0", "empty filter"}},
		{"too long", `userName eq "` + strings.Repeat("x", filter.MaxLength) + `"`, []string{"offset 4096", "longer than the 4096 bytes"}},
		{"invalid utf-8", "userName eq \"a\xffb\"", []string{"offset 14", "invalid UTF-8"}},
		{"no operator", `userName`, []string{"offset 8", "expected an operator", "the end of the filter"}},
		{"bad operator", `userName xx "a"`, []string{"offset 9", `after "userName", found "xx"`}},
		{"operator glued", `userName eqx "a"`, []string{"offset 9", `found "eqx"`}},
		{"no value", `userName eq`, []string{"offset 11", "expected a value", "the end of the filter"}},
		{"single quotes", `userName eq 'a'`, []string{"offset 12", `expected a value`, `found "'a'"`}},
		{"bare word value", `userName eq bjensen`, []string{"offset 12", `found "bjensen"`}},
		{"literal glued", `active eq truex`, []string{"offset 10", `found "truex"`}},
		{"unterminated string", `userName eq "abc`, []string{"offset 12", "string not terminated"}},
		{"unterminated after escape", `userName eq "a\"`, []string{"offset 12", "string not terminated"}},
		{"backslash at end", `userName eq "a\`, []string{"offset 12", "string not terminated"}},
		{"invalid escape", `userName eq "a\qb"`, []string{"offset 14", `invalid escape "\\q"`}},
		{"short unicode escape", `userName eq "\u12"`, []string{"offset 13", `\u takes four hex digits`}},
		{"bad hex", `userName eq "\u00G0"`, []string{"offset 13", "four hex digits"}},
		{"tab in string", "userName eq \"a\tb\"", []string{"offset 14", "control character U+0009 in a string"}},
		{"newline in string", "userName eq \"a\\n\nb\"", []string{"offset 16", "control character U+000A"}},
		{"tab outside", "userName\teq \"a\"", []string{"offset 8", "control character U+0009"}},
		{"trailing newline", "userName eq \"a\"\n", []string{"offset 15", "control character U+000A"}},
		{"del outside", "userName eq \"a\" \x7f", []string{"offset 16", "control character U+007F"}},
		{"leading zero", `a eq 01`, []string{"offset 5", `invalid number "01"`}},
		{"trailing dot", `a eq 1.`, []string{"offset 5", "invalid number"}},
		{"leading dot", `a eq .5`, []string{"offset 5", `expected a value`}},
		{"plus sign", `a eq +1`, []string{"offset 5", `expected a value`}},
		{"empty exponent", `a eq 1e`, []string{"offset 5", "invalid number"}},
		{"hex number", `a eq 0x10`, []string{"offset 5", "invalid number"}},
		{"minus alone", `a eq -`, []string{"offset 5", "invalid number"}},
		{"out of range", `a eq 1e400`, []string{"offset 5", "out of range"}},
		{"number glued to and", `a eq 1and b pr`, []string{"offset 5", `invalid number "1and"`}},
		{"unclosed paren", `(userName pr`, []string{"offset 12", `expected ")" to close the "(" at offset 0`}},
		{"unopened paren", `userName pr)`, []string{"offset 11", `unexpected ")"`}},
		{"dangling and", `userName pr and`, []string{"offset 15", "expected an attribute path"}},
		{"double or", `a pr or or b pr`, []string{"offset 11", `after "or", found "b"`}},
		{"missing logical operator", `a pr b pr`, []string{"offset 5", `expected "and", "or" or the end of the filter, found "b"`}},
		{"glued and", `a pr andb pr`, []string{"offset 5", `found "andb"`}},
		{"two values", `a eq "x" "y"`, []string{"offset 9", "found a string"}},
		{"not without parens", `not a pr`, []string{"offset 4", `after "not", found "a"`}},
		{"unclosed not", `not (a pr`, []string{"offset 9", `expected ")" to close the "(" at offset 4`}},
		{"empty parens", `()`, []string{"offset 1", `expected an attribute path, "(" or "not (", found ")"`}},
		{"unclosed bracket", `emails[type eq "work"`, []string{"offset 21", `expected "]" to close the "[" at offset 6`}},
		{"extra bracket", `emails[type eq "work"]]`, []string{"offset 22", `found "]"`}},
		{"nested value path", `emails[value[type pr]]`, []string{"offset 12", "cannot hold another value filter"}},
		{"value path on sub-attribute", `name.givenName[x pr]`, []string{"offset 0", `not to the sub-attribute "name.givenName"`}},
		{"value path empty sub", `emails[type eq "work"]. eq "x"`, []string{"offset 23", "invalid sub-attribute name"}},
		{"value path sub no operator", `emails[type eq "work"].value`, []string{"offset 28", "expected an operator"}},
		{"bracket first", `[a pr]`, []string{"offset 0", `found "["`}},
		{"string first", `"x" eq "x"`, []string{"offset 0", "found a string"}},
		{"two dots", `a.b.c pr`, []string{"offset 3", `invalid attribute path "a.b.c"`}},
		{"digit first", `9a pr`, []string{"offset 0", `invalid attribute path "9a"`}},
		{"empty urn segment", `urn::a pr`, []string{"offset 4", "empty segment"}},
		{"bad urn char", `urn:x#y:a pr`, []string{"offset 5", `character "#" is not allowed`}},
		{"trailing colon", `urn:x: pr`, []string{"offset 6", "invalid attribute path"}},
		{"non-ascii name", `usérName pr`, []string{"offset 2", "invalid attribute path"}},
		{"too deep", strings.Repeat("(", filter.MaxDepth+1) + "a pr" + strings.Repeat(")", filter.MaxDepth+1), []string{"offset 64", "nested deeper than 64 levels"}},
		{"too deep not", strings.Repeat("not (", filter.MaxDepth+1) + "a pr" + strings.Repeat(")", filter.MaxDepth+1), []string{"nested deeper than 64 levels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, got)
			}
			if got != nil {
				t.Errorf("Parse(%q) returned %s with its error", tt.in, got)
			}
			wantError(t, "Parse("+quoteShort(tt.in)+")", err, scim.InvalidFilter, tt.want...)
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	in := strings.Repeat("(", filter.MaxDepth) + "a pr" + strings.Repeat(")", filter.MaxDepth)
	if _, err := filter.Parse(in); err != nil {
		t.Errorf("Parse(%d parentheses): %v, want it accepted", filter.MaxDepth, err)
	}
	// A long flat chain is not nesting: the parser loops, it does not recurse.
	chain := "a pr" + strings.Repeat(" and a pr", 400)
	e, err := filter.Parse(chain)
	if err != nil {
		t.Fatalf("Parse(chain of 401): %v", err)
	}
	if e.String() != chain {
		t.Errorf("chain does not round-trip")
	}
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}

func TestParsePatchPath(t *testing.T) {
	tests := []struct {
		name, in string
		want     filter.PatchPath
		str      string
	}{
		{"attribute", `members`, filter.PatchPath{Path: scim.Path{Attr: "members"}}, ""},
		{"sub-attribute", `name.givenName`, filter.PatchPath{Path: scim.Path{Attr: "name", Sub: "givenName"}}, ""},
		{"value path", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
			filter.PatchPath{Path: scim.Path{Attr: "members"}, Filter: c("value", filter.Eq, "2819c223-7f76-453a-919d-413861904646")}, ""},
		{"value path sub", `emails[type eq "work"].value`,
			filter.PatchPath{Path: scim.Path{Attr: "emails"}, Filter: c("type", filter.Eq, "work"), Sub: "value"}, ""},
		{"value path many terms", `addresses[type eq "work" and primary eq true or formatted pr].streetAddress`,
			filter.PatchPath{Path: scim.Path{Attr: "addresses"}, Filter: or(and(c("type", filter.Eq, "work"), c("primary", filter.Eq, true)), pr("formatted")), Sub: "streetAddress"}, ""},
		{"members or", `members[value eq "1" or value eq "2" or value eq "3"]`,
			filter.PatchPath{Path: scim.Path{Attr: "members"}, Filter: or(or(c("value", filter.Eq, "1"), c("value", filter.Eq, "2")), c("value", filter.Eq, "3"))}, ""},
		{"extension attribute", enterprise + `:manager`, filter.PatchPath{Path: scim.Path{URN: enterprise, Attr: "manager"}}, ""},
		{"extension sub-attribute", enterprise + `:manager.value`, filter.PatchPath{Path: scim.Path{URN: enterprise, Attr: "manager", Sub: "value"}}, ""},
		{"extension schema", enterprise, filter.PatchPath{Path: scim.Path{URN: enterprise}}, ""},
		{"vendor extension schema", `urn:scim:schemas:extension:cisco:webexidentity:2.0:User`,
			filter.PatchPath{Path: scim.Path{URN: "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"}}, ""},
		{"core urn value path", scim.UserSchema + `:emails[type eq "work"].value`,
			filter.PatchPath{Path: scim.Path{URN: scim.UserSchema, Attr: "emails"}, Filter: c("type", filter.Eq, "work"), Sub: "value"}, ""},
		{"surrounding spaces", `  emails[ type eq "work" ].display  `,
			filter.PatchPath{Path: scim.Path{Attr: "emails"}, Filter: c("type", filter.Eq, "work"), Sub: "display"}, `emails[type eq "work"].display`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.ParsePatchPath(tt.in)
			if err != nil {
				t.Fatalf("ParsePatchPath(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParsePatchPath(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if s := got.String(); s != want {
				t.Errorf("ParsePatchPath(%q).String() = %q, want %q", tt.in, s, want)
			}
		})
	}
}

func TestParsePatchPathErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", ``, []string{"offset 0", "empty path"}},
		{"bracket only", `[type eq "work"]`, []string{"offset 0", "expected an attribute path"}},
		{"unclosed", `emails[type eq "work"`, []string{"offset 21", `expected "]"`}},
		{"bad filter", `emails[type xx "work"]`, []string{"offset 12", "expected an operator"}},
		{"trailing text", `emails[type eq "work"]x`, []string{"offset 22", `unexpected "x" after the path`}},
		{"two words", `name givenName`, []string{"offset 5", `unexpected "givenName"`}},
		{"three names", `name.givenName.x`, []string{"invalid attribute path"}},
		{"sub of sub", `emails[type eq "work"].value.x`, []string{"offset 23", "invalid sub-attribute name"}},
		{"nested", `emails[value[x pr]]`, []string{"cannot hold another value filter"}},
		{"too long", strings.Repeat("a", filter.MaxLength+1), []string{"longer than"}},
		{"invalid utf-8", "name.\xc3", []string{"offset 5", "invalid UTF-8"}},
		{"control", "name\n", []string{"offset 4", "control character U+000A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.ParsePatchPath(tt.in)
			if err == nil {
				t.Fatalf("ParsePatchPath(%q) = %+v, want an error", tt.in, got)
			}
			wantError(t, "ParsePatchPath("+quoteShort(tt.in)+")", err, scim.InvalidPath, tt.want...)
		})
	}
}

// TestStringEscapes checks that String writes values encoding/json and
// filter-parser both read back: escapes, upper-case \u hex, and invalid
// UTF-8 in a value built by hand replaced with U+FFFD.
func TestStringEscapes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"plain", "bjensen", `a eq "bjensen"`},
		{"quote and backslash", `a"b\c`, `a eq "a\"b\\c"`},
		{"controls", "\x00\x1f\n\t\u007f", `a eq "\u0000\u001F\n\t` + "\u007f" + `"`},
		{"line separators", "\u2028\u2029", `a eq "\u2028\u2029"`},
		{"invalid utf-8", "a\xffb", `a eq "a\uFFFDb"`},
		{"html kept", "<a&b>", `a eq "<a&b>"`},
		{"int", 42, `a eq 42`},
		{"float", 0.000001, `a eq 0.000001`},
		{"tiny", 1e-7, `a eq 1e-7`},
		{"huge", 1e300, `a eq 1e+300`},
		{"bool", false, `a eq false`},
		{"null", nil, `a eq null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &filter.Compare{Path: scim.Path{Attr: "a"}, Op: filter.Eq, Value: tt.v}
			if got := e.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStringParenthesizes(t *testing.T) {
	tests := []struct {
		name string
		e    filter.Expr
		want string
	}{
		{"or under and", and(or(pr("a"), pr("b")), or(pr("c"), pr("d"))), `(a pr or b pr) and (c pr or d pr)`},
		{"and under or", or(and(pr("a"), pr("b")), and(pr("c"), pr("d"))), `a pr and b pr or c pr and d pr`},
		{"right and", and(pr("a"), and(pr("b"), pr("c"))), `a pr and (b pr and c pr)`},
		{"right or", or(pr("a"), or(pr("b"), pr("c"))), `a pr or (b pr or c pr)`},
		{"not", not(and(pr("a"), pr("b"))), `not (a pr and b pr)`},
		{"operator case", c("a", "EQ", "x"), `a eq "x"`},
		{"nil operands", and(nil, (*filter.Compare)(nil)), ` and `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
		})
	}
}
