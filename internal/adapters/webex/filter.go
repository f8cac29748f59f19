package webex

import (
	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// filterSupport is the documented filter table (VENDORS.md 1.5), keyed by
// canonical path. Everything else (pr, co, ne, gt/lt, not, externalId,
// active, meta.*, value-path brackets) is left to the engine: the table is
// all Webex promises, and an unsupported filter is a 400 there.
var filterSupport = map[string]adapters.FilterSupport{
	"User": {
		Ops: map[string][]filter.Op{
			"id":                                   {filter.Eq},
			core("userName"):                       eqSwEw,
			core("name.familyName"):                eqSwEw,
			core("name.givenName"):                 eqSw,
			core("name.middleName"):                eqSw,
			core("name.formatted"):                 eqSw,
			core("displayName"):                    eqSwEw,
			core("nickName"):                       eqSwEw,
			core("emails.display"):                 eqSwEw,
			core("emails.value"):                   eqSwEw,
			core("phoneNumbers.value"):             eqSwEw,
			core("phoneNumbers.display"):           eqSwEw,
			enterprise("employeeNumber"):           eqSwEw,
			enterprise("costCenter"):               eqSwEw,
			enterprise("organization"):             eqSwEw,
			enterprise("division"):                 eqSwEw,
			enterprise("department"):               eqSwEw,
			enterprise("manager.value"):            {filter.Eq},
			enterprise("manager.displayName"):      eqSwEw,
			UserExtension + ":meta.organizationId": {filter.Eq},
		},
		And: true, Or: true,
	},
	"Group": {
		Ops: map[string][]filter.Op{
			"id":                              {filter.Eq},
			scim.GroupSchema + ":displayName": {filter.Eq},
		},
		Or: true,
	},
}

var (
	eqSwEw = []filter.Op{filter.Eq, filter.Sw, filter.Ew}
	eqSw   = []filter.Op{filter.Eq, filter.Sw}
)

func core(p string) string       { return scim.UserSchema + ":" + p }
func enterprise(p string) string { return scim.EnterpriseUserSchema + ":" + p }

// vendorFilter rewrites a pushed-down filter for Webex: core attributes
// without their schema URN (the documented form), extension attributes
// with theirs.
func vendorFilter(e filter.Expr, rt *scim.ResourceType) filter.Expr {
	switch x := e.(type) {
	case *filter.Compare:
		c := *x
		if c.Path.URN == rt.Schema.ID {
			c.Path.URN = ""
		}
		return &c
	case *filter.And:
		return &filter.And{Left: vendorFilter(x.Left, rt), Right: vendorFilter(x.Right, rt)}
	case *filter.Or:
		return &filter.Or{Left: vendorFilter(x.Left, rt), Right: vendorFilter(x.Right, rt)}
	case *filter.Not:
		return &filter.Not{X: vendorFilter(x.X, rt)}
	case *filter.ValuePath:
		v := *x
		if v.Path.URN == rt.Schema.ID {
			v.Path.URN = ""
		}
		return &v
	}
	return e
}
