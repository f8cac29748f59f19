package webextest

import (
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// attrKey names an attribute: schema URN ("" for the common attributes),
// attribute and sub-attribute, compared case-insensitively.
type attrKey struct{ urn, attr, sub string }

func keyOf(p scim.Path) attrKey {
	return attrKey{strings.ToLower(p.URN), strings.ToLower(p.Attr), strings.ToLower(p.Sub)}
}

func key(urn, attr, sub string) attrKey { return keyOf(scim.Path{URN: urn, Attr: attr, Sub: sub}) }

var (
	eqOnly   = []filter.Op{filter.Eq}
	eqSw     = []filter.Op{filter.Eq, filter.Sw}
	eqSwEw   = []filter.Op{filter.Eq, filter.Sw, filter.Ew}
	userCore = scim.UserSchema
	ent      = scim.EnterpriseUserSchema
)

// userFilterOps is the documented table of user filters (VENDORS.md 1.5):
// attribute → the operators it takes. Anything else is refused.
var userFilterOps = map[attrKey][]filter.Op{
	key("", "id", ""):                                  eqOnly,
	key(userCore, "userName", ""):                      eqSwEw,
	key(userCore, "name", "familyName"):                eqSwEw,
	key(userCore, "name", "givenName"):                 eqSw,
	key(userCore, "name", "middleName"):                eqSw,
	key(userCore, "name", "formatted"):                 eqSw,
	key(userCore, "displayName", ""):                   eqSwEw,
	key(userCore, "nickName", ""):                      eqSwEw,
	key(userCore, "emails", "display"):                 eqSwEw,
	key(userCore, "emails", "value"):                   eqSwEw,
	key(userCore, "phoneNumbers", "value"):             eqSwEw,
	key(userCore, "phoneNumbers", "display"):           eqSwEw,
	key(ent, "employeeNumber", ""):                     eqSwEw,
	key(ent, "costCenter", ""):                         eqSwEw,
	key(ent, "organization", ""):                       eqSwEw,
	key(ent, "division", ""):                           eqSwEw,
	key(ent, "department", ""):                         eqSwEw,
	key(ent, "manager", "value"):                       eqOnly,
	key(ent, "manager", "displayName"):                 eqSwEw,
	key(webex.UserExtension, "meta", "organizationId"): eqOnly,
}

// userValuePathOps are the sub-attributes a bracket filter may test, per
// multi-valued attribute: the documented example is
// `phoneNumbers [ type eq "mobile" and value eq "14170120"]`, and the live
// service answers `phoneNumbers [ type eq "work_extension"]`.
var userValuePathOps = map[attrKey]map[string][]filter.Op{
	key(userCore, "emails", ""): {
		"value": eqSwEw, "display": eqSwEw, "type": eqOnly, "primary": eqOnly,
	},
	key(userCore, "phoneNumbers", ""): {
		"value": eqSwEw, "display": eqSwEw, "type": eqOnly, "primary": eqOnly,
	},
}

// groupFilterOps is what group search takes: displayName eq (the documented
// example) and id eq.
var groupFilterOps = map[attrKey][]filter.Op{
	key("", "id", ""):                        eqOnly,
	key(scim.GroupSchema, "displayName", ""): eqOnly,
}

// parseFilter parses and checks a filter for rt against Webex's table. An
// empty filter is nil (everything matches). Every refusal is a family-1 400
// invalidFilter; a supported filter that the table refuses reads like the
// live text "The user's externalid, operator: PR is not supported search."
func parseFilter(rt *scim.ResourceType, text string) (filter.Expr, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	e, err := filter.Parse(text)
	if err != nil {
		return nil, err
	}
	checked, err := filter.Check(e, rt)
	if err != nil {
		return nil, err
	}
	who, ops, vps := "user", userFilterOps, userValuePathOps
	if rt == webex.GroupType {
		who, ops, vps = "group", groupFilterOps, nil
	}
	if err := supported(checked, who, ops, vps); err != nil {
		return nil, err
	}
	return checked, nil
}

// supported walks a checked filter and refuses what the table lacks.
func supported(e filter.Expr, who string, ops map[attrKey][]filter.Op, vps map[attrKey]map[string][]filter.Op) error {
	switch x := e.(type) {
	case *filter.And:
		if err := supported(x.Left, who, ops, vps); err != nil {
			return err
		}
		return supported(x.Right, who, ops, vps)
	case *filter.Or:
		if err := supported(x.Left, who, ops, vps); err != nil {
			return err
		}
		return supported(x.Right, who, ops, vps)
	case *filter.Not:
		return unsupported(who, firstPath(x.X), "not")
	case *filter.Compare:
		if containsOp(ops[keyOf(x.Path)], x.Op) {
			return nil
		}
		return unsupported(who, x.Path, x.Op)
	case *filter.ValuePath:
		subs := vps[keyOf(x.Path)]
		if subs == nil {
			return unsupported(who, x.Path, "[]")
		}
		return supportedInside(x.Filter, who, x.Path, subs)
	}
	return badRequest(scim.InvalidFilter, "the filter is not supported")
}

// supportedInside checks the filter of a value path on parent.
func supportedInside(e filter.Expr, who string, parent scim.Path, subs map[string][]filter.Op) error {
	switch x := e.(type) {
	case *filter.And:
		if err := supportedInside(x.Left, who, parent, subs); err != nil {
			return err
		}
		return supportedInside(x.Right, who, parent, subs)
	case *filter.Or:
		if err := supportedInside(x.Left, who, parent, subs); err != nil {
			return err
		}
		return supportedInside(x.Right, who, parent, subs)
	case *filter.Compare:
		p := scim.Path{Attr: parent.Attr, Sub: x.Path.Attr}
		if containsOp(subs[strings.ToLower(x.Path.Attr)], x.Op) {
			return nil
		}
		return unsupported(who, p, x.Op)
	case *filter.Not:
		return unsupported(who, scim.Path{Attr: parent.Attr, Sub: firstPath(x.X).Attr}, "not")
	}
	return unsupported(who, parent, "[]")
}

func containsOp(ops []filter.Op, op filter.Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// firstPath returns the first attribute path in e, for an error detail.
func firstPath(e filter.Expr) scim.Path {
	switch x := e.(type) {
	case *filter.Compare:
		return x.Path
	case *filter.ValuePath:
		return x.Path
	case *filter.And:
		return firstPath(x.Left)
	case *filter.Or:
		return firstPath(x.Left)
	case *filter.Not:
		return firstPath(x.X)
	}
	return scim.Path{}
}

// unsupported is the refusal of op on p, worded like the live service.
func unsupported(who string, p scim.Path, op filter.Op) error {
	name := p.Attr
	if p.Sub != "" {
		name += "." + p.Sub
	}
	return badRequest(scim.InvalidFilter, "The %s's %s, operator: %s is not supported search.",
		who, strings.ToLower(name), strings.ToUpper(string(op)))
}
