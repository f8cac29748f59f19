package translate

import (
	"slices"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Plan splits e, a filter checked by filter.Check, into the part an adapter
// runs natively (pushdown) and the part the engine evaluates over what the
// adapter returns (residual), for an adapter whose List supports fs. Either
// may be nil, meaning "matches everything". A resource satisfies e exactly
// when it satisfies both parts.
//
// The split:
//   - a comparison is supported when fs.Ops lists its operator for its
//     canonical path (scim.Path.String() of the checked path);
//   - "and", "or" and "not" are supported when fs.And, fs.Or or fs.Not
//     allow the combination and every operand is supported; a value path
//     (emails[type eq "work"]) only when fs.Any;
//   - when e as a whole is not supported, a top-level conjunction is split:
//     its supported conjuncts are pushed (joined by "and" when fs.And, else
//     only one of them, an equality when there is one, as it is likely the
//     most selective) and the others stay residual. "or" and "not" are
//     never split: pushing part of a disjunction would drop matches.
func Plan(e filter.Expr, fs adapters.FilterSupport) (pushdown, residual filter.Expr) {
	if e == nil {
		return nil, nil
	}
	if fs.Any || supported(e, fs) {
		return e, nil
	}
	and, ok := e.(*filter.And)
	if !ok {
		return nil, e
	}
	all := conjuncts(and, nil)
	pushed := make([]bool, len(all))
	n := 0
	for i, c := range all {
		if supported(c, fs) && (fs.And || n == 0) {
			pushed[i] = true
			n++
		}
	}
	if !fs.And && n == 1 {
		// Only one conjunct can go: prefer an equality.
		if i := slices.IndexFunc(all, func(c filter.Expr) bool {
			cmp, ok := c.(*filter.Compare)
			return ok && cmp.Op == filter.Eq && supported(c, fs)
		}); i >= 0 {
			clear(pushed)
			pushed[i] = true
		}
	}
	var push, rest []filter.Expr
	for i, c := range all {
		if pushed[i] {
			push = append(push, c)
		} else {
			rest = append(rest, c)
		}
	}
	return join(push), join(rest)
}

// supported reports whether fs runs e natively, as a whole.
func supported(e filter.Expr, fs adapters.FilterSupport) bool {
	switch e := e.(type) {
	case *filter.Compare:
		return slices.Contains(fs.Ops[e.Path.String()], e.Op)
	case *filter.And:
		return fs.And && supported(e.Left, fs) && supported(e.Right, fs)
	case *filter.Or:
		return fs.Or && supported(e.Left, fs) && supported(e.Right, fs)
	case *filter.Not:
		return fs.Not && supported(e.X, fs)
	}
	// Value paths, and any form added later, need full support.
	return fs.Any
}

// conjuncts appends the operands of a chain of "and" to dst, in order.
func conjuncts(e filter.Expr, dst []filter.Expr) []filter.Expr {
	if and, ok := e.(*filter.And); ok {
		return conjuncts(and.Right, conjuncts(and.Left, dst))
	}
	return append(dst, e)
}

// join rebuilds a left-associated "and" of es, or nil for none.
func join(es []filter.Expr) filter.Expr {
	if len(es) == 0 {
		return nil
	}
	out := es[0]
	for _, e := range es[1:] {
		out = &filter.And{Left: out, Right: e}
	}
	return out
}
