package rctest

import (
	"net/http"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// spc is the ServiceProviderConfig as a third party copied it from
// RingCentral (VENDORS.md 2.7, unverified): it says PATCH and filtering are
// unsupported although both work. Clients must not drive behaviour from it.
var spc = map[string]any{
	"schemas":          []string{scim.ServiceProviderConfigSchema},
	"documentationUri": "https://developers.ringcentral.com/api-reference/SCIM",
	"patch":            map[string]any{"supported": false},
	"bulk":             map[string]any{"supported": false, "maxOperations": 1000, "maxPayloadSize": maxBody},
	"filter":           map[string]any{"supported": false, "maxResults": 200},
	"changePassword":   map[string]any{"supported": false},
	"sort":             map[string]any{"supported": false},
	"etag":             map[string]any{"supported": false},
	"authenticationSchemes": []any{map[string]any{
		"type": "oauthbearertoken", "name": "OAuth Bearer Token",
		"description": "Authentication scheme using the OAuth Bearer Token Standard",
		"specUri":     "https://www.rfc-editor.org/info/rfc6750",
		"primary":     true,
	}},
	"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": "http://scim.ringcentral.com/scim/v2/ServiceProviderConfig"},
}

func attrDef(name, typ string, required, multi bool, subs ...map[string]any) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "multiValued": multi, "required": required,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
	}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

// schemas are the two schemas RingCentral's user uses, reduced to the
// attributes it keeps (VENDORS.md 2.6).
var schemas = []map[string]any{
	{
		"schemas": []string{scim.SchemaSchema}, "id": scim.UserSchema, "name": "User", "description": "User Account",
		"attributes": []any{
			attrDef("userName", "string", true, false),
			attrDef("externalId", "string", false, false),
			attrDef("name", "complex", true, false, attrDef("givenName", "string", true, false), attrDef("familyName", "string", true, false)),
			attrDef("title", "string", false, false),
			attrDef("active", "boolean", false, false),
			attrDef("emails", "complex", true, true, attrDef("value", "string", true, false), attrDef("type", "string", true, false)),
			attrDef("phoneNumbers", "complex", false, true, attrDef("value", "string", true, false), attrDef("type", "string", true, false)),
			attrDef("addresses", "complex", false, true,
				attrDef("streetAddress", "string", false, false), attrDef("locality", "string", false, false),
				attrDef("region", "string", false, false), attrDef("postalCode", "string", false, false),
				attrDef("country", "string", false, false), attrDef("type", "string", true, false)),
			attrDef("photos", "complex", false, true, attrDef("value", "reference", true, false), attrDef("type", "string", true, false)),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": "http://scim.ringcentral.com/scim/v2/Schemas/" + scim.UserSchema},
	},
	{
		"schemas": []string{scim.SchemaSchema}, "id": scim.EnterpriseUserSchema, "name": "EnterpriseUser", "description": "Enterprise User",
		"attributes": []any{attrDef("department", "string", false, false)},
		"meta":       map[string]any{"resourceType": "Schema", "location": "http://scim.ringcentral.com/scim/v2/Schemas/" + scim.EnterpriseUserSchema},
	},
}

// userType is the one resource type (VENDORS.md 2.3).
var userType = map[string]any{
	"schemas": []string{scim.ResourceTypeSchema}, "id": "User", "name": "User", "endpoint": "/Users",
	"description": "User Account", "schema": scim.UserSchema,
	"schemaExtensions": []any{map[string]any{"schema": scim.EnterpriseUserSchema, "required": false}},
	"meta":             map[string]any{"resourceType": "ResourceType", "location": "http://scim.ringcentral.com/scim/v2/ResourceTypes/User"},
}

func listOf(items []map[string]any) map[string]any {
	return map[string]any{
		"schemas": []string{scim.ListResponseSchema}, "totalResults": len(items), "startIndex": 1,
		"itemsPerPage": len(items), "Resources": items,
	}
}

func (s *Sim) getSPC(c *call) error {
	writeJSON(c.w, http.StatusOK, scimContentType(c.r), spc)
	return nil
}

func (s *Sim) listSchemas(c *call) error {
	writeJSON(c.w, http.StatusOK, scimContentType(c.r), listOf(schemas))
	return nil
}

func (s *Sim) getSchema(c *call) error {
	for _, sc := range schemas {
		if sc["id"] == c.arg {
			writeJSON(c.w, http.StatusOK, scimContentType(c.r), sc)
			return nil
		}
	}
	return scimErr(http.StatusNotFound, "", "Schema not found: %s", c.arg)
}

func (s *Sim) listResourceTypes(c *call) error {
	writeJSON(c.w, http.StatusOK, scimContentType(c.r), listOf([]map[string]any{userType}))
	return nil
}

func (s *Sim) getResourceType(c *call) error {
	if c.arg != "User" {
		return scimErr(http.StatusNotFound, "", "Resource type not found: %s", c.arg)
	}
	writeJSON(c.w, http.StatusOK, scimContentType(c.r), userType)
	return nil
}
