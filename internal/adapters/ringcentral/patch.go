package ringcentral

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// nativePaths are the PATCH paths RingCentral takes with a string value
// (VENDORS.md 2.7: the paths IdPs send it in production), in the form
// filter.PatchPath renders them, without the core schema's URN; keyed in
// lower case, since attribute names are case-insensitive.
var nativePaths = func() map[string]string {
	m := map[string]string{}
	for _, p := range []string{
		"active", "userName", "externalId", "title", "name.givenName", "name.familyName",
		`emails[type eq "work"].value`,
		`phoneNumbers[type eq "mobile"].value`,
		`addresses[type eq "work"].streetAddress`,
		`addresses[type eq "work"].locality`,
		`addresses[type eq "work"].region`,
		`addresses[type eq "work"].postalCode`,
		`addresses[type eq "work"].country`,
		scim.EnterpriseUserSchema + ":department",
	} {
		m[strings.ToLower(p)] = p
	}
	return m
}()

// Patch sends ops as one native PATCH when every operation is one
// RingCentral documents (a path above with a scalar value). Anything else
// (object or array values, no path, other attributes) is
// adapters.ErrPatchNotNative, and the engine emulates it with a read and a
// replace, so callers get every PATCH form.
func (a *Adapter) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, _ string) (scim.Resource, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	native, ok := nativeOps(ops)
	if !ok {
		return nil, adapters.ErrPatchNotNative
	}
	body, err := json.Marshal(map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": native})
	if err != nil {
		return nil, err
	}
	resp, err := a.call(ctx, a.heavy, id, outbound.Request{Method: http.MethodPatch, Path: "/Users/" + id, Body: body, Op: "ringcentral.PatchUser"})
	if err != nil {
		return nil, err
	}
	return fromVendor(resp.Body)
}

// nativeOps returns ops in the form RingCentral documents, and false when
// one of them has no such form.
func nativeOps(ops []scim.PatchOp) ([]map[string]any, bool) {
	out := make([]map[string]any, 0, len(ops))
	for _, o := range ops {
		op := strings.ToLower(o.Op)
		if o.Path == "" || (op != "add" && op != "replace" && op != "remove") {
			return nil, false
		}
		pp, err := filter.ParsePatchPath(o.Path)
		if err != nil {
			return nil, false
		}
		if strings.EqualFold(pp.Path.URN, scim.UserSchema) {
			pp.Path.URN = ""
		}
		path, ok := nativePaths[strings.ToLower(pp.String())]
		if !ok {
			return nil, false
		}
		e := map[string]any{"op": op, "path": path}
		if op != "remove" {
			v, ok := scalar(path, o.Value)
			if !ok {
				return nil, false
			}
			e["value"] = v
		}
		out = append(out, e)
	}
	return out, true
}

// scalar returns v as RingCentral takes it: a string, or a JSON boolean
// for active (IdPs send "True" and "False" as strings too).
func scalar(path string, v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if path == "active" {
			switch strings.ToLower(x) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
			return nil, false
		}
		return x, true
	case bool:
		return x, path == "active"
	}
	return nil, false
}
