package ringcentral

import (
	"slices"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// UserType is the User resource type of a RingCentral target: the core and
// enterprise schemas cut down to what RingCentral holds (VENDORS.md 2.6),
// so that /Schemas tells callers the truth and the engine refuses, with a
// 400 naming the attribute, anything RingCentral would drop. The type
// values RingCentral accepts are the canonical values of emails,
// phoneNumbers and addresses.
var UserType = &scim.ResourceType{
	ID: "User", Name: "User", Endpoint: "/Users", Description: "RingCentral user (an extension of the account)",
	Schema: restrict(scim.UserSchemaDef, map[string][]string{
		"userName":     nil,
		"name":         {"givenName", "familyName"},
		"title":        nil,
		"active":       nil,
		"emails":       {"value", "type", "primary"},
		"phoneNumbers": {"value", "type", "primary"},
		"addresses":    {"streetAddress", "locality", "region", "postalCode", "country", "type", "primary"},
		"photos":       {"value", "type"},
	}, map[string][]string{
		"emails":       {"work"},
		"phoneNumbers": {"work", "mobile", "other"},
		"addresses":    {"work"},
		"photos":       {"photo"},
	}),
	Extensions: []*scim.Schema{restrict(scim.EnterpriseUserSchemaDef, map[string][]string{"department": nil}, nil)},
}

// restrict returns a copy of s with only the attributes keep names (and, for
// complex ones, only the listed sub-attributes), and with each type
// sub-attribute's canonical values replaced by types[attribute].
func restrict(s *scim.Schema, keep map[string][]string, types map[string][]string) *scim.Schema {
	out := &scim.Schema{ID: s.ID, Name: s.Name, Description: s.Description}
	for _, a := range s.Attributes {
		subs, ok := keep[a.Name]
		if !ok {
			continue
		}
		c := *a
		c.SubAttributes = nil
		for _, sub := range a.SubAttributes {
			if !slices.Contains(subs, sub.Name) {
				continue
			}
			sc := *sub
			if sub.Name == "type" && types[a.Name] != nil {
				sc.CanonicalValues = types[a.Name]
			}
			c.SubAttributes = append(c.SubAttributes, &sc)
		}
		out.Attributes = append(out.Attributes, &c)
	}
	return out
}
