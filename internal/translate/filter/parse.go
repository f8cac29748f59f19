package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// parser is a recursive-descent parser over s. Tokens are never
// materialized: words (paths, operators, keywords, numbers) are substrings of
// s, and a string value is a substring too unless it holds an escape. So a
// parse allocates the nodes it returns and little else.
type parser struct {
	s       string
	pos     int           // offset of the next byte to read
	depth   int           // open parentheses, not and value filters
	inValue bool          // inside the brackets of a value filter
	kind    scim.ScimType // InvalidFilter, or InvalidPath for PATCH paths
}

// start checks what applies to the input as a whole: its length, that it is
// UTF-8, and that it is not blank.
func (p *parser) start() error {
	if len(p.s) > MaxLength {
		return p.errorf(MaxLength, "longer than the %d bytes allowed", MaxLength)
	}
	if !utf8.ValidString(p.s) {
		for i, r := range p.s {
			if r == utf8.RuneError {
				if _, n := utf8.DecodeRuneInString(p.s[i:]); n == 1 {
					return p.errorf(i, "invalid UTF-8")
				}
			}
		}
	}
	if strings.Trim(p.s, " ") == "" {
		return p.errorf(0, "empty %s", p.what())
	}
	return nil
}

func (p *parser) what() string {
	if p.kind == scim.InvalidPath {
		return "path"
	}
	return "filter"
}

// errorf returns the 400 for a syntax error at byte offset at.
func (p *parser) errorf(at int, format string, args ...any) error {
	return scim.BadRequest(p.kind, "invalid %s at offset %d: %s", p.what(), at, fmt.Sprintf(format, args...))
}

// found describes what the input holds at offset at, for error details.
func (p *parser) found(at int) string {
	if at >= len(p.s) {
		return "the end of the " + p.what()
	}
	switch c := p.s[at]; {
	case c < ' ' || c == 0x7f:
		return fmt.Sprintf("control character U+%04X", c)
	case c == ' ':
		return "a space"
	case c == '"':
		return "a string"
	case c == '(' || c == ')' || c == '[' || c == ']':
		return `"` + string(c) + `"`
	}
	end := at
	for end < len(p.s) && !isDelim(p.s[end]) {
		end++
	}
	return quoteToken(p.s[at:end])
}

// quoteToken quotes a piece of the input for an error detail, cut at 32
// bytes (on a rune boundary) so that a long value does not flood it.
func quoteToken(s string) string {
	if len(s) > 32 {
		n := 32
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return strconv.Quote(s[:n]) + "..."
	}
	return strconv.Quote(s)
}

// isDelim reports whether c ends a word: a space, a control character, a
// parenthesis, a bracket or the quote that starts a string.
func isDelim(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

func (p *parser) skipSpaces() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// word consumes and returns the run of non-delimiter bytes at pos: an
// attribute path, an operator, a keyword, a number or true/false/null.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) && !isDelim(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// keyword consumes the keyword k (in any case) after optional spaces, and
// reports whether it was there; otherwise it consumes nothing.
func (p *parser) keyword(k string) bool {
	save := p.pos
	p.skipSpaces()
	if w := p.word(); len(w) == len(k) && strings.EqualFold(w, k) {
		return true
	}
	p.pos = save
	return false
}

// or parses `and *("or" and)`, left-associative: "and" binds tighter than
// "or" (RFC 7644 §3.4.2.2, Table 5).
func (p *parser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
	return left, nil
}

// and parses `unary *("and" unary)`, left-associative.
func (p *parser) and() (Expr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
	return left, nil
}

// unary parses a parenthesized filter, `not (filter)`, a value path or an
// attribute expression.
func (p *parser) unary() (Expr, error) {
	p.skipSpaces()
	at := p.pos
	if at < len(p.s) && p.s[at] == '(' {
		return p.group()
	}
	w := p.word()
	if w == "" {
		return nil, p.errorf(at, `expected an attribute path, "(" or "not (", found %s`, p.found(at))
	}
	// "not" is a keyword only before "(": `not pr` compares an attribute
	// named "not", as filter-parser reads it too.
	if len(w) == 3 && strings.EqualFold(w, "not") {
		save := p.pos
		p.skipSpaces()
		if p.pos < len(p.s) && p.s[p.pos] == '(' {
			x, err := p.group()
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
		p.pos = save
	}
	path, err := p.attrPath(w, at)
	if err != nil {
		return nil, err
	}
	save := p.pos
	p.skipSpaces()
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		vp, err := p.valuePath(path, at)
		if err != nil {
			return nil, err
		}
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			// `emails[type eq "work"].value co "x"` is PATCH path syntax
			// (RFC 7644 §3.5.2), not filter syntax, but its meaning is
			// plain: an element of type work whose value contains x.
			subAt := p.pos
			sub := p.word()[1:]
			if !isAttrName(sub) {
				return nil, p.errorf(subAt+1, "invalid sub-attribute name %s", quoteToken(sub))
			}
			cmp, err := p.comparison(scim.Path{Attr: sub}, subAt)
			if err != nil {
				return nil, err
			}
			vp.Filter = &And{Left: vp.Filter, Right: cmp}
		}
		return vp, nil
	}
	p.pos = save
	return p.comparison(path, at)
}

// enter counts one more level of nesting at offset at.
func (p *parser) enter(at int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(at, "nested deeper than %d levels", MaxDepth)
	}
	return nil
}

// group parses `"(" filter ")"` with pos at the "(".
func (p *parser) group() (Expr, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.skipSpaces()
	if p.pos >= len(p.s) || p.s[p.pos] != ')' {
		return nil, p.errorf(p.pos, `expected ")" to close the "(" at offset %d, found %s`, open, p.found(p.pos))
	}
	p.pos++
	p.depth--
	return e, nil
}

// valuePath parses `"[" filter "]"` after path, with pos at the "[".
func (p *parser) valuePath(path scim.Path, at int) (*ValuePath, error) {
	open := p.pos
	if p.inValue {
		return nil, p.errorf(open, "a value filter cannot hold another value filter")
	}
	if path.Sub != "" {
		return nil, p.errorf(at, "a value filter applies to an attribute, not to the sub-attribute %s", quoteToken(path.String()))
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	p.inValue = true
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	p.inValue = false
	p.skipSpaces()
	if p.pos >= len(p.s) || p.s[p.pos] != ']' {
		return nil, p.errorf(p.pos, `expected "]" to close the "[" at offset %d, found %s`, open, p.found(p.pos))
	}
	p.pos++
	p.depth--
	return &ValuePath{Path: path, Filter: f}, nil
}

// comparison parses `SP compareOp SP compValue` or `SP "pr"` after path.
func (p *parser) comparison(path scim.Path, at int) (*Compare, error) {
	p.skipSpaces()
	opAt := p.pos
	op, ok := parseOp(p.word())
	if !ok {
		return nil, p.errorf(opAt, "expected an operator (eq, ne, co, sw, ew, pr, gt, ge, lt or le) after %s, found %s",
			quoteToken(strings.TrimRight(p.s[at:opAt], " ")), p.found(opAt))
	}
	if op == Pr {
		return &Compare{Path: path, Op: Pr}, nil
	}
	p.skipSpaces()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// parseOp returns the operator w names, in any case.
func parseOp(w string) (Op, bool) {
	if len(w) != 2 {
		return "", false
	}
	a, b := lower(w[0]), lower(w[1])
	switch {
	case a == 'e' && b == 'q':
		return Eq, true
	case a == 'n' && b == 'e':
		return Ne, true
	case a == 'c' && b == 'o':
		return Co, true
	case a == 's' && b == 'w':
		return Sw, true
	case a == 'e' && b == 'w':
		return Ew, true
	case a == 'p' && b == 'r':
		return Pr, true
	case a == 'g' && b == 't':
		return Gt, true
	case a == 'g' && b == 'e':
		return Ge, true
	case a == 'l' && b == 't':
		return Lt, true
	case a == 'l' && b == 'e':
		return Le, true
	}
	return "", false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// value parses compValue: a JSON string, number, true, false or null
// (RFC 7644 §3.4.2.2), the literals in any case.
func (p *parser) value() (any, error) {
	at := p.pos
	if at < len(p.s) && p.s[at] == '"' {
		return p.str()
	}
	w := p.word()
	switch {
	case len(w) == 4 && strings.EqualFold(w, "true"):
		return true, nil
	case len(w) == 5 && strings.EqualFold(w, "false"):
		return false, nil
	case len(w) == 4 && strings.EqualFold(w, "null"):
		return nil, nil
	case w != "" && (w[0] == '-' || '0' <= w[0] && w[0] <= '9'):
		if !isJSONNumber(w) {
			return nil, p.errorf(at, "invalid number %s", quoteToken(w))
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			// Only a range error is left: the syntax is JSON's.
			return nil, p.errorf(at, "number %s is out of range", quoteToken(w))
		}
		return f, nil
	}
	return nil, p.errorf(at, "expected a value (a string, a number, true, false or null), found %s", p.found(at))
}

// isJSONNumber reports whether w is a number in JSON's grammar (RFC 8259
// §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func isJSONNumber(w string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(w) && '0' <= w[i] && w[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(w) && w[i] == '-' {
		i++
	}
	switch {
	case i < len(w) && w[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(w) && w[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(w) && (w[i] == 'e' || w[i] == 'E') {
		i++
		if i < len(w) && (w[i] == '+' || w[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(w)
}

// str parses a JSON string (RFC 8259 §7) with pos at its opening quote and
// returns it decoded. Without escapes the result is a substring of the input.
func (p *parser) str() (string, error) {
	open := p.pos
	for i := open + 1; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '"':
			p.pos = i + 1
			return p.s[open+1 : i], nil
		case c == '\\':
			return p.strEscaped(open, i)
		case c < ' ':
			return "", p.errorf(i, "control character U+%04X in a string: escape it", c)
		}
	}
	return "", p.errorf(open, "string not terminated")
}

// strEscaped decodes the string opened at open whose first escape is at esc.
// It decodes as encoding/json does: \u escapes in either case, surrogate
// pairs joined, a lone surrogate as U+FFFD.
func (p *parser) strEscaped(open, esc int) (string, error) {
	b := make([]byte, 0, len(p.s)-open)
	b = append(b, p.s[open+1:esc]...)
	for i := esc; i < len(p.s); {
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b), nil
		case c < ' ':
			return "", p.errorf(i, "control character U+%04X in a string: escape it", c)
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(p.s) {
			break
		}
		switch e := p.s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(p.s, i+2)
			if !ok {
				return "", p.errorf(i, `invalid escape %s in a string: \u takes four hex digits`, quoteToken(p.s[i:min(i+6, len(p.s))]))
			}
			i += 6
			if utf16IsHigh(r) {
				if i+1 < len(p.s) && p.s[i] == '\\' && p.s[i+1] == 'u' {
					if lo, ok := hex4(p.s, i+2); ok && utf16IsLow(lo) {
						r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(r) {
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", p.errorf(i, "invalid escape %s in a string", quoteToken(p.s[i:i+1+utf8RuneLen(p.s[i+1:])]))
		}
		i += 2
	}
	return "", p.errorf(open, "string not terminated")
}

func utf8RuneLen(s string) int {
	_, n := utf8.DecodeRuneInString(s)
	return n
}

func utf16IsHigh(r rune) bool { return 0xD800 <= r && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return 0xDC00 <= r && r < 0xE000 }

// hex4 decodes the four hex digits (either case) at s[i:i+4].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// attrPath parses w, found at offset at, as an attribute path (RFC 7644
// §3.10): [URI ":"] ATTRNAME ["." ATTRNAME]. The URI is split off at the
// last colon, since attribute names hold none; its segments may hold
// letters, digits, "-", "." and "_".
func (p *parser) attrPath(w string, at int) (scim.Path, error) {
	var path scim.Path
	rest, restAt := w, at
	if i := strings.LastIndexByte(w, ':'); i >= 0 {
		path.URN = w[:i]
		rest, restAt = w[i+1:], at+i+1
		seg := 0
		for j := 0; j <= i; j++ {
			if j == i || w[j] == ':' {
				if j == seg {
					return path, p.errorf(at+j, "invalid attribute path %s: empty segment in the schema URI", quoteToken(w))
				}
				seg = j + 1
				continue
			}
			if c := w[j]; !isNameChar(c) && c != '.' {
				return path, p.errorf(at+j, "invalid attribute path %s: character %s is not allowed in a schema URI", quoteToken(w), quoteChar(w[j:]))
			}
		}
	}
	name, sub, dotted := strings.Cut(rest, ".")
	if bad := badAttrName(name); bad >= 0 {
		return path, p.errorf(restAt+bad, "invalid attribute path %s: an attribute name starts with a letter and holds letters, digits, \"-\" and \"_\"", quoteToken(w))
	}
	path.Attr = name
	if dotted {
		if bad := badAttrName(sub); bad >= 0 {
			return path, p.errorf(restAt+len(name)+1+bad, "invalid attribute path %s: invalid sub-attribute name", quoteToken(w))
		}
		path.Sub = sub
	}
	return path, nil
}

func quoteChar(s string) string {
	return strconv.Quote(s[:utf8RuneLen(s)])
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// badAttrName returns the offset of the first byte that makes s no
// ATTRNAME (RFC 7644 §3.10: ALPHA *(nameChar), and "$ref" of RFC 7643
// §2.3.7), or -1 when s is one.
func badAttrName(s string) int {
	i := 0
	if i < len(s) && s[i] == '$' {
		i++
	}
	if i >= len(s) || !('a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z') {
		return i
	}
	for i++; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return i
		}
	}
	return -1
}

func isAttrName(s string) bool { return badAttrName(s) < 0 }

// patchPath parses PATH = attrPath / valuePath [subAttr] (RFC 7644 §3.5.2).
func (p *parser) patchPath() (PatchPath, error) {
	p.skipSpaces()
	at := p.pos
	w := p.word()
	if w == "" {
		return PatchPath{}, p.errorf(at, "expected an attribute path, found %s", p.found(at))
	}
	path, err := p.attrPath(w, at)
	if err != nil {
		return PatchPath{}, err
	}
	var pp PatchPath
	save := p.pos
	p.skipSpaces()
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		vp, err := p.valuePath(path, at)
		if err != nil {
			return PatchPath{}, err
		}
		pp.Path, pp.Filter = vp.Path, vp.Filter
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			subAt := p.pos
			pp.Sub = p.word()[1:]
			if !isAttrName(pp.Sub) {
				return PatchPath{}, p.errorf(subAt+1, "invalid sub-attribute name %s", quoteToken(pp.Sub))
			}
		}
	} else {
		p.pos = save
		pp.Path = path
		if isSchemaURN(path) {
			pp.Path = scim.Path{URN: w}
		}
	}
	p.skipSpaces()
	if p.pos < len(p.s) {
		return PatchPath{}, p.errorf(p.pos, "unexpected %s after the path", p.found(p.pos))
	}
	return pp, nil
}

// isSchemaURN reports whether path, parsed from a PATCH path without a value
// filter, names a schema rather than an attribute (see ParsePatchPath).
func isSchemaURN(path scim.Path) bool {
	if path.URN == "" || path.Sub != "" {
		return false
	}
	full := path.URN + ":" + path.Attr
	for _, s := range []string{scim.UserSchema, scim.GroupSchema, scim.EnterpriseUserSchema} {
		if strings.EqualFold(full, s) {
			return true
		}
	}
	return 'A' <= path.Attr[0] && path.Attr[0] <= 'Z'
}
