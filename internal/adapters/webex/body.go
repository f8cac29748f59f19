package webex

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// listResponse is a Webex ListResponse (VENDORS.md 1.4), its resources
// decoded once.
type listResponse struct {
	TotalResults int              `json:"totalResults"`
	Resources    []map[string]any `json:"Resources"`
}

func decodeList(body []byte) (*listResponse, error) {
	var l listResponse
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, badVendorBody("list", err)
	}
	return &l, nil
}

// badVendorBody is the error for an answer the gateway cannot read.
func badVendorBody(what string, err error) error {
	return &scim.Error{Status: http.StatusBadGateway, Detail: "Webex answered " + what + " with a body the gateway cannot read", Err: err}
}

// fromVendor turns a Webex resource into the normalized one: schemas and
// meta.resourceType as the gateway names them, accountStatus always a
// list, member types as RFC 7643 spells them, and attributes outside the
// target's schemas (firstAdmin, userSettings, ...) left out, since
// /Schemas does not describe them.
func fromVendor(rt *scim.ResourceType, body []byte) (scim.Resource, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return nil, badVendorBody(rt.ID, err)
	}
	return fromVendorMap(rt, in), nil
}

// fromVendorMap is fromVendor for a resource already decoded.
func fromVendorMap(rt *scim.ResourceType, in map[string]any) scim.Resource {
	out := scim.Resource{}
	schemas := []any{rt.Schema.ID}
	for k, v := range in {
		switch {
		case strings.EqualFold(k, "id") || strings.EqualFold(k, "externalId"):
			out[k] = v
		case strings.EqualFold(k, "meta"):
			if m, ok := v.(map[string]any); ok {
				m["resourceType"] = rt.Name // Webex writes "group"
				out["meta"] = m
			}
		case rt == UserType && strings.EqualFold(k, "groups"):
			// Search with includeGroupDetails lists them (VENDORS.md 1.5).
			if groups := vendorGroups(v); len(groups) > 0 {
				out["groups"] = groups
			}
		case rt.Schema.Attr(k) != nil:
			out[k] = v
		case rt.Extension(k) != nil:
			ext, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if s, ok := ext["accountStatus"].(string); ok {
				ext["accountStatus"] = []any{s} // requests send a string, answers a list
			}
			out[rt.Extension(k).ID] = ext
			schemas = append(schemas, rt.Extension(k).ID)
		}
	}
	out["schemas"] = schemas
	if ms, ok := out["members"].([]any); ok {
		for i, m := range ms {
			if mm, ok := m.(map[string]any); ok {
				ms[i] = memberFromVendor(mm)
			}
		}
	}
	return out
}

// memberFromVendor maps a Webex member type (user, group, machine) to the
// RFC 7643 canonical spelling where there is one.
func memberFromVendor(m map[string]any) map[string]any {
	switch t, _ := m["type"].(string); strings.ToLower(t) {
	case "user":
		m["type"] = "User"
	case "group":
		m["type"] = "Group"
	}
	return m
}

// vendorGroups returns the groups of a user as search answers them with
// includeGroupDetails, as RFC 7643 groups (direct membership).
func vendorGroups(v any) []any {
	var out []any
	for _, g := range scim.AsList(v) {
		m, ok := g.(map[string]any)
		if !ok || m["value"] == nil {
			continue
		}
		e := map[string]any{"value": m["value"], "type": "direct"}
		if d, ok := m["display"]; ok {
			e["display"] = d
		}
		out = append(out, e)
	}
	return out
}

// toVendor encodes a validated resource as a Webex request body: read-only
// attributes dropped, userType defaulted to "user", the Cisco
// accountStatus in the documented string form, member types in lower case.
// A user whose userName is not the primary work email Webex requires is
// refused here with 400 invalidValue, before the vendor is called.
func toVendor(rt *scim.ResourceType, r scim.Resource) ([]byte, error) {
	out := make(map[string]any, len(r)+2)
	schemas := []any{rt.Schema.ID}
	for k, v := range r {
		switch {
		case k == "id" || k == "meta" || k == "schemas" || k == "groups":
		case rt.Extension(k) != nil:
			schemas = append(schemas, rt.Extension(k).ID)
			out[k] = v
		default:
			out[k] = v
		}
	}
	out["schemas"] = schemas
	if rt == UserType {
		if err := checkUserName(r); err != nil {
			return nil, err
		}
		if _, ok := out["userType"]; !ok {
			out["userType"] = "user"
		}
		if ext, ok := out[UserExtension].(map[string]any); ok {
			if st := scim.AsList(ext["accountStatus"]); len(st) == 1 {
				ext = cloneMap(ext)
				ext["accountStatus"] = st[0]
				out[UserExtension] = ext
			}
		}
	}
	if ms, ok := out["members"].([]any); ok {
		vm := make([]any, 0, len(ms))
		for _, m := range ms {
			vm = append(vm, memberToVendor(m))
		}
		out["members"] = vm
	}
	return json.Marshal(out)
}

// memberToVendor keeps a member's value and type (lower case, as Webex
// spells it; left out when the caller gave none, so that Webex resolves
// the id as a user or a group); display and $ref are the vendor's to fill.
func memberToVendor(m any) any {
	mm, ok := m.(map[string]any)
	if !ok {
		return m
	}
	out := map[string]any{"value": mm["value"]}
	if t, ok := mm["type"].(string); ok && t != "" {
		out["type"] = strings.ToLower(t)
	}
	return out
}

// checkUserName enforces VENDORS.md 1.6: userName is the user's primary
// work email, and a work email marked primary must equal it.
func checkUserName(r scim.Resource) error {
	name, _ := r["userName"].(string)
	if addr, err := mail.ParseAddress(name); err != nil || addr.Address != name || addr.Name != "" {
		return scim.BadRequest(scim.InvalidValue,
			"userName %q is not an email address: a Webex userName is the user's primary work email", name)
	}
	for _, e := range scim.AsList(r["emails"]) {
		m, _ := e.(map[string]any)
		value, _ := m["value"].(string)
		typ, _ := m["type"].(string)
		if primary, _ := m["primary"].(bool); primary && strings.EqualFold(typ, "work") && !strings.EqualFold(value, name) {
			return scim.BadRequest(scim.InvalidValue,
				"the primary work email %q differs from userName %q: on Webex they must be equal", value, name)
		}
	}
	return nil
}

// patchBody is a Webex PatchOp: paths without the core schema's URN, the
// member-removal dialect (remove with a value listing members) as one
// filtered remove per member, and member types in lower case.
func patchBody(rt *scim.ResourceType, ops []scim.PatchOp) map[string]any {
	out := make([]any, 0, len(ops))
	for _, o := range ops {
		path := o.Path
		if p := rt.Schema.ID + ":"; len(path) > len(p) && strings.EqualFold(path[:len(p)], p) {
			path = path[len(p):]
		}
		isMembers := rt == GroupType && strings.EqualFold(path, "members")
		if isMembers && strings.EqualFold(o.Op, "remove") && o.Value != nil {
			for _, m := range scim.AsList(o.Value) {
				if mm, ok := m.(map[string]any); ok {
					if v, ok := mm["value"].(string); ok {
						out = append(out, map[string]any{"op": "remove", "path": memberPath(v)})
					}
				}
			}
			continue
		}
		e := map[string]any{"op": strings.ToLower(o.Op)}
		if path != "" {
			e["path"] = path
		}
		if o.Value != nil {
			v := o.Value
			if isMembers {
				var ms []any
				for _, m := range scim.AsList(v) {
					ms = append(ms, memberToVendor(m))
				}
				v = ms
			}
			e["value"] = v
		}
		out = append(out, e)
	}
	return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": out}
}

// memberPath is the PATCH path of one member, members[value eq "id"], in
// the filter package's rendering.
func memberPath(id string) string {
	return filter.PatchPath{
		Path:   scim.Path{Attr: "members"},
		Filter: &filter.Compare{Path: scim.Path{Attr: "value"}, Op: filter.Eq, Value: id},
	}.String()
}

// eq is the filter `attr eq "value"`.
func eq(attr, value string) string {
	return (&filter.Compare{Path: scim.Path{Attr: attr}, Op: filter.Eq, Value: value}).String()
}

func cloneMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
