package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// String renders c as SCIM filter text, e.g. `userName eq "bjensen"`.
func (c *Compare) String() string { return string(appendExpr(make([]byte, 0, 128), c)) }

// String renders a as SCIM filter text, parenthesizing only where needed.
func (a *And) String() string { return string(appendExpr(make([]byte, 0, 128), a)) }

// String renders o as SCIM filter text, parenthesizing only where needed.
func (o *Or) String() string { return string(appendExpr(make([]byte, 0, 128), o)) }

// String renders n as `not (X)`.
func (n *Not) String() string { return string(appendExpr(make([]byte, 0, 128), n)) }

// String renders v as `attr[filter]`.
func (v *ValuePath) String() string { return string(appendExpr(make([]byte, 0, 128), v)) }

// String renders p as PATCH path text that ParsePatchPath reads back as p.
func (p PatchPath) String() string {
	b := appendPath(nil, p.Path)
	if p.Filter != nil {
		b = append(b, '[')
		b = appendExpr(b, p.Filter)
		b = append(b, ']')
		if p.Sub != "" {
			b = append(b, '.')
			b = append(b, p.Sub...)
		}
	}
	return string(b)
}

// appendExpr appends e as filter text. Parentheses go only where the tree
// differs from what the precedence (and over or) and the left associativity
// of the parser build, so that Parse(e.String()) is e again.
func appendExpr(b []byte, e Expr) []byte {
	switch x := e.(type) {
	case *Compare:
		if x == nil {
			return b
		}
		b = appendPath(b, x.Path)
		b = append(b, ' ')
		b = appendOp(b, x.Op)
		if x.Op != Pr {
			b = append(b, ' ')
			b = appendValue(b, x.Value)
		}
	case *And:
		if x == nil {
			return b
		}
		_, leftOr := x.Left.(*Or)
		b = appendOperand(b, x.Left, leftOr)
		b = append(b, " and "...)
		b = appendOperand(b, x.Right, isLogical(x.Right))
	case *Or:
		if x == nil {
			return b
		}
		_, rightOr := x.Right.(*Or)
		b = appendExpr(b, x.Left)
		b = append(b, " or "...)
		b = appendOperand(b, x.Right, rightOr)
	case *Not:
		if x == nil {
			return b
		}
		b = append(b, "not ("...)
		b = appendExpr(b, x.X)
		b = append(b, ')')
	case *ValuePath:
		if x == nil {
			return b
		}
		b = appendPath(b, x.Path)
		b = append(b, '[')
		b = appendExpr(b, x.Filter)
		b = append(b, ']')
	}
	return b
}

func isLogical(e Expr) bool {
	switch e.(type) {
	case *And, *Or:
		return true
	}
	return false
}

func appendOperand(b []byte, e Expr, paren bool) []byte {
	if !paren {
		return appendExpr(b, e)
	}
	b = append(b, '(')
	b = appendExpr(b, e)
	return append(b, ')')
}

func appendPath(b []byte, p scim.Path) []byte {
	if p.URN != "" {
		b = append(b, p.URN...)
		if p.Attr == "" {
			return b
		}
		b = append(b, ':')
	}
	b = append(b, p.Attr...)
	if p.Sub != "" {
		b = append(b, '.')
		b = append(b, p.Sub...)
	}
	return b
}

// appendOp appends op in lower case, the canonical form.
func appendOp(b []byte, op Op) []byte {
	for i := 0; i < len(op); i++ {
		b = append(b, lower(op[i]))
	}
	return b
}

// appendValue appends v as a JSON value.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendQuoted(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		if isJSONNumber(string(v)) {
			return append(b, v...)
		}
		return appendQuoted(b, string(v))
	}
	if f, ok := number(v); ok {
		return appendFloat(b, f)
	}
	// Not a value Parse or Check produces; render it as a string rather
	// than as text that would not parse.
	return appendQuoted(b, fmt.Sprint(v))
}

// appendFloat formats f as encoding/json does: the shortest representation,
// in exponent form only for very large or small magnitudes.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendQuoted(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// appendQuoted appends s as a JSON string. It escapes what JSON requires and
// U+2028/U+2029 as encoding/json does, writes \u escapes with upper-case hex
// (which strict parsers such as filter-parser require), and replaces invalid
// UTF-8 with U+FFFD, so the result is always valid UTF-8.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\uFFFD`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// number returns v as a float64 when it is a finite number of any of the Go
// types a decoder or a caller produces.
func number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int8:
		f = float64(n)
	case int16:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint8:
		f = float64(n)
	case uint16:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}
