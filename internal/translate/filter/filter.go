// Package filter parses and evaluates SCIM filters (RFC 7644 §3.4.2.2) and
// PATCH paths (RFC 7644 §3.5.2), the client input every list and PATCH request
// carries.
//
// The parser is the package's own: a lexer that works on substrings of the
// input and a recursive-descent parser for the whole RFC 7644 §3.4.2.2
// grammar. It allocates little more than the tree it returns, so the filter
// identity providers send before every create (`userName eq "x"`) costs
// about a microsecond. github.com/scim2/filter-parser/v2 serves only as the
// oracle of the differential fuzz test.
//
// The grammar accepted is RFC 7644 §3.4.2.2 (keywords, operators and
// true/false/null in any case, as ABNF literals are), with these liberties,
// each a superset that changes no meaning:
//   - spaces may be repeated, and are optional next to parentheses, brackets
//     and string values: `(a pr)and(b pr)`, `userName eq"x"`;
//   - a value filter takes any filter: any number of terms, parentheses,
//     and/or/not (filter-parser allows at most two terms);
//   - `attr[filter].sub op value`, which RFC 7644 allows only in PATCH paths,
//     is read as `attr[filter and sub op value]`: both say "an element that
//     matches filter and whose sub matches".
//
// Tabs, line breaks and other control characters outside strings, invalid
// UTF-8, input longer than MaxLength and nesting deeper than MaxDepth are
// rejected.
//
// An Expr is a plain tree that nothing in this package modifies: Check
// returns a new one, and one Expr may be matched from many goroutines.
package filter

import "github.com/scim-gateway/scim-gateway/internal/scim"

// Op is a comparison operator, in lower case.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Pr Op = "pr"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
)

// Expr is a parsed filter: *Compare, *And, *Or, *Not or *ValuePath.
type Expr interface {
	// String renders the filter as SCIM filter text, with values JSON-escaped,
	// so that it parses back to an equal Expr (safe to send to a vendor).
	String() string
	expr()
}

// Compare is `attrPath op value`, or `attrPath pr` (Value is then nil).
type Compare struct {
	Path  scim.Path
	Op    Op
	Value any // string (JSON-decoded), float64, bool or nil for null
}

// And is `Left and Right`.
type And struct{ Left, Right Expr }

// Or is `Left or Right`.
type Or struct{ Left, Right Expr }

// Not is `not (X)`.
type Not struct{ X Expr }

// ValuePath is `attr[filter]` on a multi-valued complex attribute; the paths
// inside Filter name sub-attributes of Path (their Attr is the sub-attribute).
type ValuePath struct {
	Path   scim.Path // URN and Attr; Sub is empty
	Filter Expr
}

func (*Compare) expr()   {}
func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}
func (*ValuePath) expr() {}

// MaxLength bounds the filter and path text accepted, in bytes.
const MaxLength = 4096

// MaxDepth bounds the nesting of parentheses, not and value filters.
const MaxDepth = 64

// Parse parses a filter. Every failure is a 400 *scim.Error with scimType
// invalidFilter whose detail says what is wrong and at which byte offset.
//
// Parse checks syntax only; Check resolves the attribute names against a
// resource type. And and Or associate to the left (`a and b and c` is
// And{And{a, b}, c}); parentheses leave no node of their own.
func Parse(s string) (Expr, error) {
	p := parser{s: s, kind: scim.InvalidFilter}
	if err := p.start(); err != nil {
		return nil, err
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.skipSpaces()
	if p.pos < len(p.s) {
		if p.s[p.pos] == ')' {
			return nil, p.errorf(p.pos, `unexpected ")" without a matching "("`)
		}
		return nil, p.errorf(p.pos, `expected "and", "or" or the end of the filter, found %s`, p.found(p.pos))
	}
	return e, nil
}

// PatchPath is a parsed PATCH path (RFC 7644 §3.5.2 PATH):
// `attrPath`, or `valuePath[.subAttr]`.
type PatchPath struct {
	Path   scim.Path // the attribute; Sub set for "name.givenName"
	Filter Expr      // the value filter of "emails[type eq \"work\"]", or nil
	Sub    string    // the sub-attribute after a value filter: "emails[...].value"
}

// ParsePatchPath parses a PATCH path. Every failure is a 400 *scim.Error with
// scimType invalidPath.
//
// A path may also name a whole extension schema, such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" (RFC 7644
// §3.5.2 lets a PATCH target "the schema extension" itself, and IdPs remove
// an extension that way). Without a resource type that text cannot be told
// apart from an attribute path by grammar alone, so ParsePatchPath decides by
// convention: a URN-qualified path without sub-attribute or filter whose last
// segment begins with an upper-case letter names a schema (schema URNs end in
// a resource type name such as "User"; attribute names begin in lower case),
// as does one of the standard schema URNs. It is returned as
// Path{URN: the whole text} with an empty Attr. A caller that finds no
// schema by that URN may still read it as an attribute path with
// scim.ParsePath(p.Path.URN).
func ParsePatchPath(s string) (PatchPath, error) {
	p := parser{s: s, kind: scim.InvalidPath}
	if err := p.start(); err != nil {
		return PatchPath{}, err
	}
	return p.patchPath()
}
