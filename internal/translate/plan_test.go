package translate_test

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Checked paths, as filter.Check returns them.
var (
	pUserName = scim.Path{URN: coreUser, Attr: "userName"}
	pActive   = scim.Path{URN: coreUser, Attr: "active"}
	pTitle    = scim.Path{URN: coreUser, Attr: "title"}
	pEmails   = scim.Path{URN: coreUser, Attr: "emails"}
	pDept     = scim.Path{URN: ent, Attr: "department"}
)

func cmpx(p scim.Path, op filter.Op, v any) filter.Expr {
	return &filter.Compare{Path: p, Op: op, Value: v}
}
func and(l, r filter.Expr) filter.Expr { return &filter.And{Left: l, Right: r} }
func or(l, r filter.Expr) filter.Expr  { return &filter.Or{Left: l, Right: r} }
func not(x filter.Expr) filter.Expr    { return &filter.Not{X: x} }

func str(e filter.Expr) string {
	if e == nil {
		return "<nil>"
	}
	return e.String()
}

func TestPlan(t *testing.T) {
	userEq := cmpx(pUserName, filter.Eq, "bjensen")
	userSw := cmpx(pUserName, filter.Sw, "b")
	active := cmpx(pActive, filter.Eq, true)
	titlePr := cmpx(pTitle, filter.Pr, nil)
	dept := cmpx(pDept, filter.Eq, "Sales")
	vp := &filter.ValuePath{Path: pEmails, Filter: cmpx(scim.Path{Attr: "type"}, filter.Eq, "work")}

	ops := map[string][]filter.Op{
		pUserName.String(): {filter.Eq, filter.Sw},
		pActive.String():   {filter.Eq},
		pDept.String():     {filter.Eq},
	}
	full := adapters.FilterSupport{Ops: ops, And: true, Or: true, Not: true}
	andOnly := adapters.FilterSupport{Ops: ops, And: true}
	single := adapters.FilterSupport{Ops: ops}
	none := adapters.FilterSupport{}
	anyF := adapters.FilterSupport{Any: true}

	tests := []struct {
		name           string
		e              filter.Expr
		fs             adapters.FilterSupport
		push, residual filter.Expr
	}{
		{"nil", nil, full, nil, nil},
		{"any pushes all", and(vp, or(titlePr, not(userEq))), anyF, and(vp, or(titlePr, not(userEq))), nil},
		{"no support", userEq, none, nil, userEq},
		{"supported comparison", userEq, single, userEq, nil},
		{"unsupported operator", cmpx(pUserName, filter.Co, "x"), full, nil, cmpx(pUserName, filter.Co, "x")},
		{"unsupported attribute", titlePr, full, nil, titlePr},
		{"extension attribute", dept, full, dept, nil},
		{"and fully supported", and(userEq, active), andOnly, and(userEq, active), nil},
		{"and split", and(userEq, titlePr), andOnly, userEq, titlePr},
		{"and split keeps order", and(and(titlePr, userSw), and(active, cmpx(pTitle, filter.Eq, "x"))), andOnly,
			and(userSw, active), and(titlePr, cmpx(pTitle, filter.Eq, "x"))},
		{"and without native and pushes one equality", and(and(userSw, titlePr), active), single,
			active, and(userSw, titlePr)},
		{"and without native and, no equality", and(userSw, titlePr), single, userSw, titlePr},
		{"or supported", or(userEq, active), full, or(userEq, active), nil},
		{"or without native or", or(userEq, active), andOnly, nil, or(userEq, active)},
		{"or partly supported is not split", or(userEq, titlePr), full, nil, or(userEq, titlePr)},
		{"not supported", not(userEq), full, not(userEq), nil},
		{"not without native not", not(userEq), andOnly, nil, not(userEq)},
		{"value path needs any", vp, full, nil, vp},
		{"value path conjunct stays residual", and(vp, userEq), full, userEq, vp},
		{"nested or under and", and(or(userEq, active), titlePr), full, or(userEq, active), titlePr},
	}
	for _, tt := range tests {
		push, residual := translate.Plan(tt.e, tt.fs)
		if str(push) != str(tt.push) || str(residual) != str(tt.residual) {
			t.Errorf("%s: Plan(%s) = (%s, %s), want (%s, %s)", tt.name, str(tt.e), str(push), str(residual), str(tt.push), str(tt.residual))
		}
	}
}
